//! The store's typed error; message strings follow nats-server's `server/store.go` where one exists.

use std::io;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The subject is empty, has an empty token or contains a wildcard where a literal is needed.
    #[error("invalid subject")]
    InvalidSubject,
    /// No live message at the requested sequence or for the requested subject.
    #[error("no message found")]
    NotFound,
    /// `load_next` was asked for a sequence past the last one.
    #[error("stream store EOF")]
    Eof,
    /// `headers + payload` exceeds `max_msg_size_bytes`.
    #[error("message size exceeds maximum allowed")]
    MsgTooLarge,
    /// Discard-new policy and the stream already holds `max_msgs`.
    #[error("maximum messages exceeded")]
    MaxMsgs,
    /// Discard-new policy and the message would push the stream past `max_bytes`.
    #[error("maximum bytes exceeded")]
    MaxBytes,
    /// Discard-new-per-subject policy and the subject already holds `max_msgs_per_subject`.
    #[error("maximum messages per subject exceeded")]
    MaxMsgsPerSubject,
    /// A purge request asked for both `keep` and `up_to_seq`.
    #[error("purge: keep and sequence are mutually exclusive")]
    InvalidPurge,
    /// The configuration is self-contradictory.
    #[error("invalid store config: {0}")]
    InvalidConfig(&'static str),
    /// A record failed its checksum or sequence check on read; its bytes are never returned.
    #[error("message {seq} is corrupt on disk")]
    Corrupt {
        /// Sequence of the corrupt message.
        seq: u64,
    },
    /// A snapshot stream or consumer state file is malformed or fails its checksum.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(&'static str),
    /// `restore` needs an empty store.
    #[error("restore needs an empty store")]
    NotEmpty,
    /// An earlier fsync failed; after a failed fsync the page cache state is unknown, so the store
    /// refuses further writes rather than acknowledging data it cannot vouch for.
    #[error("store failed to sync and is read-only: {0}")]
    SyncFailed(String),
    /// The store holds encrypted messages but no key was configured; refusing to open rather
    /// than treating every message as lost.
    #[error("store is encrypted and no encryption key was configured")]
    EncryptionKeyMissing,
    /// An encrypted message passed its checksum but not authentication: wrong key or tampering.
    /// The store refuses to open rather than discard it.
    #[error("message {seq} failed decryption: wrong encryption key or tampering")]
    DecryptionFailed {
        /// Sequence of the message.
        seq: u64,
    },
    /// An operating-system I/O error, with what the store was doing.
    #[error("{context}: {source}")]
    Io {
        /// What the store was doing.
        context: &'static str,
        /// The underlying error.
        source: io::Error,
    },
}

impl StoreError {
    /// Wraps an `io::Error` with a short description of the operation.
    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> StoreError {
        move |source| StoreError::Io { context, source }
    }
}
