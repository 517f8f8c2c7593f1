//! A stream's publish path, as nats-server's `processJetStreamMsg` runs it: sealed and
//! expected-stream checks, deduplication by `Nats-Msg-Id`, the expected-last-sequence and
//! expected-last-id headers, size limits, then the store. Durability is the caller's next
//! step: `sync()` the store and send the PubAck once the ticket resolves.

use super::config::{DiscardPolicy, StreamConfig};
use super::dedup::DedupWindow;
use crate::errors::JsError;
use crate::headers;
use natrium_proto::encode::Decimal;
use natrium_store::{MessageStore, PurgeRequest, StoreConfig, StoreError, SyncTicket};

/// The largest header block a stream accepts (nats-server's 64 KiB).
const HEADERS_BYTES_MAX: usize = 64 * 1024;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored at this sequence.
    Stored(u64),
    /// A duplicate of the message stored at this sequence; nothing was stored.
    Duplicate(u64),
}

/// The store behind a stream: memory or file, chosen by the stream's `storage`.
pub type BoxedStore = Box<dyn MessageStore + Send>;

/// A stream: its checked configuration over a message store.
pub struct Stream {
    config: StreamConfig,
    store: BoxedStore,
    dedup: DedupWindow,
    last_msg_id: String,
    /// Whether the dedup window holds the ids of messages stored before this process
    /// (nats-server's `ddloaded`): a recovered stream reads them back on its first publish.
    dedup_loaded: bool,
    /// Written since the last sync.
    dirty: bool,
}

/// The store limits a checked stream configuration asks for (-1 means none).
pub fn store_config(config: &StreamConfig) -> StoreConfig {
    let limit = |value: i64| u64::try_from(value).ok().filter(|&v| v > 0);
    StoreConfig {
        max_msgs: limit(config.max_msgs),
        max_bytes: limit(config.max_bytes),
        max_age_nanos: (config.max_age > 0).then_some(config.max_age),
        max_msgs_per_subject: limit(config.max_msgs_per_subject),
        max_msg_size_bytes: limit(config.max_msg_size.into()),
        discard: match config.discard {
            DiscardPolicy::Old => natrium_store::DiscardPolicy::Old,
            DiscardPolicy::New if config.discard_new_per_subject => {
                natrium_store::DiscardPolicy::NewPerSubject
            }
            DiscardPolicy::New => natrium_store::DiscardPolicy::New,
        },
    }
}

impl Stream {
    /// A stream over `store`, which should have been opened with [`store_config`].
    pub fn new(config: StreamConfig, store: BoxedStore) -> Self {
        let dedup_loaded = store.state().msgs == 0;
        Stream {
            config,
            store,
            dedup: DedupWindow::default(),
            last_msg_id: String::new(),
            dedup_loaded,
            dirty: false,
        }
    }

    /// Syncs the store if it was written since the last call. A failed sync is a ticket that
    /// never resolves as durable, so nothing it covers is acknowledged.
    pub fn sync_if_dirty(&mut self) -> Option<SyncTicket> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        Some(self.store.sync().unwrap_or_else(SyncTicket::failed))
    }

    /// The stream's configuration.
    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    /// The message store.
    pub fn store(&self) -> &dyn MessageStore {
        self.store.as_ref()
    }

    /// The message store, for syncing and maintenance.
    pub fn store_mut(&mut self) -> &mut (dyn MessageStore + Send) {
        self.store.as_mut()
    }

    /// Stores one published message at time `now` (nanoseconds since the epoch).
    pub fn publish(
        &mut self,
        subject: &str,
        header_block: &[u8],
        payload: &[u8],
        now: i64,
    ) -> Result<Published, JsError> {
        if self.config.sealed {
            return Err(JsError::StreamSealed);
        }
        if !self.dedup_loaded {
            self.rebuild_dedup(now);
        }
        if let Some(expected) = headers::get_str(header_block, headers::EXPECTED_STREAM) {
            if expected != self.config.name {
                return Err(JsError::StreamNotMatch);
            }
        }
        let msg_id = headers::get_str(header_block, headers::MSG_ID);
        if let Some(id) = msg_id {
            self.dedup.expire(now, self.config.duplicate_window);
            if let Some(seq) = self.dedup.seen(id) {
                return Ok(Published::Duplicate(seq));
            }
        }
        if let Some(expected) =
            headers::get_u64(header_block, headers::EXPECTED_LAST_SUBJECT_SEQUENCE)
        {
            let last = match self.store.load_last(subject) {
                Ok(message) => message.seq,
                Err(StoreError::NotFound | StoreError::Eof) => 0,
                Err(e) => return Err(JsError::StreamStoreFailed(e.to_string())),
            };
            if last != expected {
                return Err(JsError::StreamWrongLastSequence(last));
            }
        }
        if let Some(expected) = headers::get_u64(header_block, headers::EXPECTED_LAST_SEQUENCE) {
            let last = self.store.state().last_seq;
            if last != expected {
                return Err(JsError::StreamWrongLastSequence(last));
            }
        }
        if let Some(expected) = headers::get_str(header_block, headers::EXPECTED_LAST_MSG_ID) {
            if expected != self.last_msg_id {
                return Err(JsError::StreamWrongLastMsgId(self.last_msg_id.clone()));
            }
        }
        let rollup = match headers::get_str(header_block, headers::ROLLUP) {
            None => None,
            Some(_) if !self.config.allow_rollup_hdrs || self.config.deny_purge => {
                return Err(JsError::StreamRollupFailed("rollup not permitted".into()));
            }
            Some(headers::ROLLUP_SUBJECT) => Some(Some(subject)),
            Some(headers::ROLLUP_ALL) => Some(None),
            // nats-server 2.9 drops the message without an answer; 2.10 answers this error.
            Some(other) => {
                return Err(JsError::StreamRollupFailed(format!(
                    "rollup value invalid: {other:?}"
                )));
            }
        };
        let size = header_block.len() + payload.len();
        if self.config.max_msg_size >= 0 && size as i64 > i64::from(self.config.max_msg_size) {
            return Err(JsError::StreamMessageExceedsMaximum);
        }
        if header_block.len() > HEADERS_BYTES_MAX {
            return Err(JsError::StreamHeaderExceedsMaximum);
        }
        let seq = self
            .store
            .store(subject, header_block, payload, now)
            .map_err(|e| JsError::StreamStoreFailed(e.to_string()))?;
        self.dirty = true;
        if let Some(id) = msg_id {
            self.dedup.record(id, seq, now);
        }
        // As nats-server, the last message id is that of the last message, even without one.
        self.last_msg_id = msg_id.unwrap_or_default().to_string();
        if let Some(filter) = rollup {
            // Keep only the message just stored, of its subject or of the whole stream. The
            // message is stored either way, so a failed purge does not refuse the publish.
            let _ = self.store.purge(&PurgeRequest {
                filter: filter.map(str::to_string),
                keep: Some(1),
                up_to_seq: None,
            });
        }
        Ok(Published::Stored(seq))
    }

    /// Reads back the ids of stored messages still within the duplicate window, and the last
    /// message's id, as nats-server's `rebuildDedupe` does after a restart. Walks back from the
    /// last message, so it reads only the window's messages.
    fn rebuild_dedup(&mut self, now: i64) {
        self.dedup_loaded = true;
        let state = self.store.state();
        let cutoff = now.saturating_sub(self.config.duplicate_window);
        let mut recent = Vec::new();
        for seq in (state.first_seq..=state.last_seq).rev() {
            let Ok(message) = self.store.load(seq) else {
                continue;
            };
            if message.timestamp < cutoff {
                break;
            }
            let id = headers::get_str(&message.headers, headers::MSG_ID).map(str::to_string);
            if seq == state.last_seq {
                self.last_msg_id = id.clone().unwrap_or_default();
            }
            if let Some(id) = id {
                recent.push((id, seq, message.timestamp));
            }
        }
        for (id, seq, stored_at) in recent.into_iter().rev() {
            self.dedup.record(&id, seq, stored_at);
        }
    }

    /// Applies an update checked by [`check_update`](super::update::check_update): the new
    /// limits trim the store at once.
    pub fn update(&mut self, config: StreamConfig) -> Result<(), JsError> {
        self.store
            .update_limits(store_config(&config))
            .map_err(|e| JsError::StreamStoreFailed(e.to_string()))?;
        self.dirty = true;
        self.config = config;
        Ok(())
    }

    /// Marks the store written, so the next sync covers changes made through
    /// [`store_mut`](Self::store_mut) (purges, deletes).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }
}

/// The PubAck nats-server sends, byte for byte: `{"stream":"S", "seq":N}`, with `"domain"`
/// when one is set and `,"duplicate": true` for a duplicate.
pub fn pub_ack(stream: &str, domain: Option<&str>, published: Published) -> Vec<u8> {
    // Written in place: this is one allocation per publish, where formatting piece by piece
    // made five.
    let mut out = Vec::with_capacity(48 + stream.len() + domain.map_or(0, |d| d.len() + 14));
    out.extend_from_slice(b"{\"stream\":");
    write_quoted(&mut out, stream);
    if let Some(domain) = domain {
        out.extend_from_slice(b", \"domain\":");
        write_quoted(&mut out, domain);
    }
    out.extend_from_slice(b", \"seq\":");
    let (seq, duplicate) = match published {
        Published::Stored(seq) => (seq, false),
        Published::Duplicate(seq) => (seq, true),
    };
    out.extend_from_slice(Decimal::from_u64(seq).as_bytes());
    if duplicate {
        out.extend_from_slice(b",\"duplicate\": true");
    }
    out.push(b'}');
    out
}

/// `text` as a JSON string, escaped as Go's encoder escapes it.
fn write_quoted(out: &mut Vec<u8>, text: &str) {
    if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// A refused publish: `{"error":{...},"stream":"S","seq":0}`, as nats-server marshals it.
pub fn pub_ack_error(stream: &str, error: &JsError) -> Vec<u8> {
    let response = serde_json::json!({
        "error": error.to_api_error(),
        "stream": stream,
        "seq": 0,
    });
    serde_json::to_vec(&response).unwrap_or_default()
}

#[cfg(test)]
mod tests;
