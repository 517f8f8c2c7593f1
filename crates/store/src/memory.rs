//! The memory store: the shared index holding the messages themselves.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;

use crate::index::{Index, PurgePlan};
use crate::{limits, snapshot, MessageStore, PurgeRequest, StoreConfig, StoreError, StoredMsg};
use crate::{StreamState, SyncTicket};

/// Headers and payload of a message held in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemMsg {
    headers: Bytes,
    payload: Bytes,
}

/// A store that keeps everything in memory (JetStream `storage: memory`).
#[derive(Debug)]
pub struct MemoryStore {
    config: StoreConfig,
    index: Index<MemMsg>,
    removed: Vec<u64>,
}

impl MemoryStore {
    /// An empty store with these limits.
    pub fn new(config: StoreConfig) -> Result<MemoryStore, StoreError> {
        config.validate()?;
        Ok(MemoryStore {
            config,
            index: Index::default(),
            removed: Vec::new(),
        })
    }

    /// Rebuilds a store from a [`snapshot`](MessageStore::snapshot) stream.
    pub fn restore(
        config: StoreConfig,
        input: &mut dyn std::io::Read,
    ) -> Result<MemoryStore, StoreError> {
        let mut store = MemoryStore::new(config)?;
        snapshot::read(input, |event| {
            match event {
                snapshot::Event::Msg(msg) => {
                    let size = crate::msg_size(&msg.subject, &msg.headers, &msg.payload);
                    let value = MemMsg {
                        headers: msg.headers,
                        payload: msg.payload,
                    };
                    store
                        .index
                        .insert(msg.seq, &msg.subject, size, msg.timestamp, value);
                }
                snapshot::Event::End { last_seq } => store.index.mark_assigned(last_seq),
            }
            Ok(())
        })?;
        Ok(store)
    }

    fn msg_at(&self, seq: u64) -> Result<StoredMsg, StoreError> {
        let slot = self.index.get(seq).ok_or(StoreError::NotFound)?;
        Ok(StoredMsg {
            seq,
            subject: Arc::clone(self.index.subject_of(slot)),
            headers: slot.value.headers.clone(),
            payload: slot.value.payload.clone(),
            timestamp: slot.time,
        })
    }
}

impl MessageStore for MemoryStore {
    fn store(
        &mut self,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        timestamp: i64,
    ) -> Result<u64, StoreError> {
        self.removed.clear();
        limits::expire(&self.config, &mut self.index, timestamp, &mut self.removed);
        let size = limits::admit(&self.config, &self.index, subject, headers, payload)?;
        let value = MemMsg {
            headers: Bytes::copy_from_slice(headers),
            payload: Bytes::copy_from_slice(payload),
        };
        let seq = self.index.append(subject, size, timestamp, value);
        let subject_id = self.index.get(seq).map_or(0, |slot| slot.subject);
        limits::enforce(&self.config, &mut self.index, subject_id, &mut self.removed);
        Ok(seq)
    }

    fn load(&self, seq: u64) -> Result<StoredMsg, StoreError> {
        self.msg_at(seq)
    }

    fn load_next(&self, filter: &str, start_seq: u64) -> Result<StoredMsg, StoreError> {
        self.msg_at(self.index.find_next(filter, start_seq)?)
    }

    fn load_last(&self, filter: &str) -> Result<StoredMsg, StoreError> {
        self.msg_at(self.index.find_last(filter)?)
    }

    fn remove(&mut self, seq: u64, _erase: bool) -> Result<bool, StoreError> {
        // Dropping the `Bytes` is erasure enough in memory: nothing else refers to them for long.
        Ok(self.index.remove(seq).is_some())
    }

    fn purge(&mut self, request: &PurgeRequest) -> Result<u64, StoreError> {
        if request.keep.is_some() && request.up_to_seq.is_some() {
            return Err(StoreError::InvalidPurge);
        }
        if let Some(filter) = &request.filter {
            crate::subject::check_filter(filter)?;
        }
        Ok(match self.index.plan_purge(request) {
            PurgePlan::Below(seq) => self.index.remove_below(seq, drop),
            PurgePlan::Seqs(seqs) => seqs
                .into_iter()
                .filter(|&seq| self.index.remove(seq).is_some())
                .count() as u64,
        })
    }

    fn compact(&mut self, seq: u64) -> Result<u64, StoreError> {
        let removed = self.index.remove_below(seq, drop);
        self.index.skip_to(seq);
        Ok(removed)
    }

    fn expire(&mut self, now: i64) -> Result<u64, StoreError> {
        self.removed.clear();
        Ok(limits::expire(
            &self.config,
            &mut self.index,
            now,
            &mut self.removed,
        ))
    }

    fn next_expiry(&self) -> Option<i64> {
        limits::next_expiry(&self.config, &self.index)
    }

    fn state(&self) -> StreamState {
        self.index.state()
    }

    fn deleted(&self) -> Vec<u64> {
        self.index.deleted()
    }

    fn subject_counts(&self, filter: &str) -> BTreeMap<String, u64> {
        self.index.subject_counts(filter)
    }

    fn sync(&mut self) -> Result<SyncTicket, StoreError> {
        Ok(SyncTicket::ready())
    }

    fn snapshot(&self, out: &mut dyn Write) -> Result<(), StoreError> {
        let msgs = self.index.live().map(|(seq, _)| self.msg_at(seq));
        snapshot::write(out, msgs, self.index.last_seq())
    }

    fn update_limits(&mut self, limits: StoreConfig) -> Result<u64, StoreError> {
        limits.validate()?;
        self.config = limits;
        self.removed.clear();
        limits::enforce_all(&self.config, &mut self.index, &mut self.removed);
        Ok(self.removed.len() as u64)
    }
}
