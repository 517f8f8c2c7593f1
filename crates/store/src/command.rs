//! Store mutations as data, so a replicated log can carry them and every replica applies the
//! same commands in the same order to reach the same state.

use bytes::Bytes;

use crate::{MessageStore, PurgeRequest, StoreError};

/// One store mutation. Timestamps are inside the command, never read from a clock, so applying a
/// command is deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// [`MessageStore::store`].
    Store {
        /// Literal subject.
        subject: String,
        /// Headers block.
        headers: Bytes,
        /// Payload.
        payload: Bytes,
        /// Nanoseconds since the epoch, assigned by the leader.
        timestamp: i64,
    },
    /// [`MessageStore::remove`].
    Remove {
        /// Sequence to remove.
        seq: u64,
        /// Overwrite the bytes too.
        erase: bool,
    },
    /// [`MessageStore::purge`].
    Purge(PurgeRequest),
    /// [`MessageStore::compact`].
    Compact {
        /// New first sequence.
        seq: u64,
    },
    /// [`MessageStore::expire`].
    Expire {
        /// The leader's clock when it decided to expire.
        now: i64,
    },
}

/// What applying a command produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Sequence assigned to a stored message.
    Stored(u64),
    /// Whether a remove found a live message.
    Removed(bool),
    /// Messages removed by a purge, compact or expiry.
    Purged(u64),
}

impl Command {
    /// Applies the command to `store`.
    pub fn apply(&self, store: &mut dyn MessageStore) -> Result<Outcome, StoreError> {
        Ok(match self {
            Command::Store {
                subject,
                headers,
                payload,
                timestamp,
            } => Outcome::Stored(store.store(subject, headers, payload, *timestamp)?),
            Command::Remove { seq, erase } => Outcome::Removed(store.remove(*seq, *erase)?),
            Command::Purge(request) => Outcome::Purged(store.purge(request)?),
            Command::Compact { seq } => Outcome::Purged(store.compact(*seq)?),
            Command::Expire { now } => Outcome::Purged(store.expire(*now)?),
        })
    }
}
