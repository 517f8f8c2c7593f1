//! The one store interface both implementations share, and the values it passes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;

use crate::{StoreConfig, StoreError, SyncTicket};

/// Fixed per-message overhead counted toward `max_bytes`, so tiny messages are not free.
pub const MSG_OVERHEAD_BYTES: u64 = 16;

/// The size a message counts for in `bytes` and `max_bytes`: subject, headers and payload plus a
/// fixed overhead. Identical for both stores so their states compare equal.
pub fn msg_size(subject: &str, headers: &[u8], payload: &[u8]) -> u64 {
    (subject.len() + headers.len() + payload.len()) as u64 + MSG_OVERHEAD_BYTES
}

/// A message as stored: what `load` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMsg {
    /// Stream sequence.
    pub seq: u64,
    /// Literal subject, shared with the store's subject index (no copy per read).
    pub subject: Arc<str>,
    /// NATS headers block (`NATS/1.0\r\n...`), empty when none.
    pub headers: Bytes,
    /// Payload.
    pub payload: Bytes,
    /// Nanoseconds since the Unix epoch, as passed to `store`.
    pub timestamp: i64,
}

/// A summary of the store's contents (JetStream `StreamState`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamState {
    /// Live messages.
    pub msgs: u64,
    /// Bytes of live messages, counted with [`msg_size`].
    pub bytes: u64,
    /// Lowest live sequence; `last_seq + 1` when empty, 0 for a store never written.
    pub first_seq: u64,
    /// Timestamp of the first live message, 0 when empty.
    pub first_time: i64,
    /// Highest sequence ever assigned (or skipped to by `compact`).
    pub last_seq: u64,
    /// Timestamp of the newest live message, 0 when empty.
    pub last_time: i64,
    /// Sequences between `first_seq` and `last_seq` that are no longer live.
    pub num_deleted: u64,
    /// Number of distinct subjects with live messages.
    pub num_subjects: u64,
}

/// A purge request (JetStream `$JS.API.STREAM.PURGE` body).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PurgeRequest {
    /// Only messages whose subject matches this filter; all when `None`.
    pub filter: Option<String>,
    /// Keep this many of the newest matching messages.
    pub keep: Option<u64>,
    /// Purge matching messages with sequence below this one (exclusive).
    pub up_to_seq: Option<u64>,
}

/// One store interface, two implementations ([`MemoryStore`](crate::MemoryStore),
/// [`FileStore`](crate::FileStore)). Mutations take `&mut self` and are applied in call order, so
/// a replicated log can drive a store by replaying [`Command`](crate::Command)s.
pub trait MessageStore {
    /// Appends a message, enforcing limits, and returns its sequence. The message is visible to
    /// loads at once; it is durable once the ticket from the next [`sync`](Self::sync) resolves.
    fn store(
        &mut self,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        timestamp: i64,
    ) -> Result<u64, StoreError>;
    /// Loads the live message at `seq`.
    fn load(&self, seq: u64) -> Result<StoredMsg, StoreError>;
    /// Loads the first live message at or after `start_seq` whose subject matches `filter`
    /// (wildcards allowed). [`StoreError::Eof`] when `start_seq` is past the last sequence.
    fn load_next(&self, filter: &str, start_seq: u64) -> Result<StoredMsg, StoreError>;
    /// Loads the newest live message whose subject matches `filter` (KV get uses a literal).
    fn load_last(&self, filter: &str) -> Result<StoredMsg, StoreError>;
    /// Removes the message at `seq`; with `erase`, also overwrites its bytes. Returns whether a
    /// live message was removed.
    fn remove(&mut self, seq: u64, erase: bool) -> Result<bool, StoreError>;
    /// Purges per the request; returns how many messages were removed.
    fn purge(&mut self, request: &PurgeRequest) -> Result<u64, StoreError>;
    /// Removes every message below `seq`; past the end it moves the next sequence to `seq`.
    /// Returns how many messages were removed.
    fn compact(&mut self, seq: u64) -> Result<u64, StoreError>;
    /// Removes messages older than `max_age_nanos` at time `now`, from the front, without a scan.
    fn expire(&mut self, now: i64) -> Result<u64, StoreError>;
    /// When the next message will expire (for the caller's timer), if an age limit is set.
    fn next_expiry(&self) -> Option<i64>;
    /// The current state summary.
    fn state(&self) -> StreamState;
    /// Sequences between first and last that are not live, ascending.
    fn deleted(&self) -> Vec<u64>;
    /// Live message count per subject matching `filter`.
    fn subject_counts(&self, filter: &str) -> BTreeMap<String, u64>;
    /// Hands everything mutated so far to durable storage and returns a ticket that resolves when
    /// it is durable under the store's sync policy. Call once per batch, wait outside any lock.
    fn sync(&mut self) -> Result<SyncTicket, StoreError>;
    /// Writes the whole store as a self-checking byte stream (see [`crate::snapshot`]).
    fn snapshot(&self, out: &mut dyn Write) -> Result<(), StoreError>;
    /// Replaces the limits (a stream update) and trims the store within them at once, whatever
    /// the discard policy, as nats-server's `UpdateConfig` does; age applies from the next
    /// expiry. Returns how many messages were removed.
    fn update_limits(&mut self, limits: StoreConfig) -> Result<u64, StoreError>;
}
