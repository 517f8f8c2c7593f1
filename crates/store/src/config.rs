//! Store configuration: limits, discard policy, sync policy and file-store layout.

use std::time::Duration;

use crate::{Compression, EncryptionKey, StoreError};

/// What to do when a limit is reached (JetStream `discard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiscardPolicy {
    /// Remove the oldest messages to make room (the nats-server default).
    #[default]
    Old,
    /// Refuse the new message.
    New,
    /// Refuse the new message, also when its subject already holds `max_msgs_per_subject`
    /// (JetStream `discard_new_per_subject`); with `New` that limit drops the subject's oldest.
    NewPerSubject,
}

/// When written records are forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// fsync before a write is acknowledged; concurrent writers share one fsync (group commit).
    /// Natrium's default: an acknowledged message survives power loss.
    #[default]
    Always,
    /// nats-server's behaviour (`sync_interval: 2m` by default there): acknowledge once the write
    /// reached the operating system and fsync every interval. A process crash loses nothing; a
    /// power failure loses up to one interval of acknowledged messages.
    Interval(Duration),
}

/// Limits and policies shared by both stores. `None` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Most messages kept.
    pub max_msgs: Option<u64>,
    /// Most bytes kept, counted with [`msg_size`](crate::msg_size).
    pub max_bytes: Option<u64>,
    /// Messages older than this (nanoseconds, by their stored timestamp) are expired.
    pub max_age_nanos: Option<i64>,
    /// Most messages kept per subject; the oldest of the subject goes first.
    pub max_msgs_per_subject: Option<u64>,
    /// Largest `headers + payload` accepted.
    pub max_msg_size_bytes: Option<u64>,
    /// Behaviour at `max_msgs` / `max_bytes`.
    pub discard: DiscardPolicy,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_msgs: None,
            max_bytes: None,
            max_age_nanos: None,
            max_msgs_per_subject: None,
            max_msg_size_bytes: None,
            discard: DiscardPolicy::Old,
        }
    }
}

impl StoreConfig {
    /// Rejects limits that cannot be honoured (zero limits, non-positive age).
    pub fn validate(&self) -> Result<(), StoreError> {
        let zero = |limit: Option<u64>| limit == Some(0);
        if zero(self.max_msgs) || zero(self.max_bytes) || zero(self.max_msgs_per_subject) {
            return Err(StoreError::InvalidConfig(
                "a limit of 0 would refuse every message",
            ));
        }
        if matches!(self.max_age_nanos, Some(age) if age <= 0) {
            return Err(StoreError::InvalidConfig("max_age_nanos must be positive"));
        }
        Ok(())
    }
}

/// File-store layout and durability settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStoreConfig {
    /// Limits and policies.
    pub limits: StoreConfig,
    /// A block is sealed and a new one started once it would grow past this.
    pub block_size_bytes: u64,
    /// When writes are forced to disk.
    pub sync: SyncPolicy,
    /// Buffered records are written to the OS once the buffer exceeds this, even without `sync`.
    pub write_buffer_bytes_max: usize,
    /// Compression applied to a block when it is sealed.
    pub compression: Compression,
    /// Encrypts message bodies at rest when set.
    pub encryption_key: Option<EncryptionKey>,
}

impl Default for FileStoreConfig {
    fn default() -> Self {
        FileStoreConfig {
            limits: StoreConfig::default(),
            block_size_bytes: 8 * 1024 * 1024,
            sync: SyncPolicy::Always,
            write_buffer_bytes_max: 256 * 1024,
            compression: Compression::None,
            encryption_key: None,
        }
    }
}
