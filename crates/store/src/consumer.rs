//! Consumer state (delivered, ack floor, pending, redelivered) and its durable file.
//!
//! Each consumer has an append-only file `consumers/<name>.state` in the block format: a block
//! file header, then one checksummed record per saved state. Saving appends a record and takes a
//! [`SyncTicket`] from the same group-commit flusher as the messages, so a consumer ack and the
//! publishes around it share fsyncs. Loading takes the last verified record; a torn or damaged
//! tail falls back to the previous state. Once the file grows past a bound it is rewritten with
//! only the latest state (write, fsync, rename, fsync the directory).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::block::{self, FILE_HEADER_BYTES};
use crate::record::{self, Kind, NewRecord};
use crate::{FileStore, StoreError, SyncTicket};

/// A consumer sequence and the stream sequence it delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SequencePair {
    /// Consumer sequence.
    pub consumer_seq: u64,
    /// Stream sequence.
    pub stream_seq: u64,
}

/// A delivered, not yet acknowledged message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pending {
    /// Consumer sequence of the latest delivery.
    pub consumer_seq: u64,
    /// When it was delivered, nanoseconds since the epoch.
    pub timestamp: i64,
}

/// The durable part of a consumer (JetStream `ConsumerState`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerState {
    /// Highest delivered sequences.
    pub delivered: SequencePair,
    /// Everything at or below these sequences is acknowledged.
    pub ack_floor: SequencePair,
    /// Pending acknowledgements by stream sequence.
    pub pending: BTreeMap<u64, Pending>,
    /// Delivery counts above one, by stream sequence.
    pub redelivered: BTreeMap<u64, u64>,
}

impl ConsumerState {
    /// Encodes the state (little-endian integers, counts before lists).
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(48 + self.pending.len() * 24 + self.redelivered.len() * 16);
        let mut put = |value: u64| out.extend_from_slice(&value.to_le_bytes());
        put(self.delivered.consumer_seq);
        put(self.delivered.stream_seq);
        put(self.ack_floor.consumer_seq);
        put(self.ack_floor.stream_seq);
        put(self.pending.len() as u64);
        for (&stream_seq, pending) in &self.pending {
            put(stream_seq);
            put(pending.consumer_seq);
            put(pending.timestamp as u64);
        }
        put(self.redelivered.len() as u64);
        for (&stream_seq, &count) in &self.redelivered {
            put(stream_seq);
            put(count);
        }
        out
    }

    /// Decodes [`encode`](Self::encode)'s output; refuses anything malformed.
    pub fn decode(bytes: &[u8]) -> Result<ConsumerState, StoreError> {
        let mut words = bytes.chunks_exact(8).map(|chunk| {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        });
        let bad = || StoreError::InvalidSnapshot("malformed consumer state");
        if !bytes.len().is_multiple_of(8) {
            return Err(bad());
        }
        let mut next = || words.next().ok_or_else(bad);
        let mut state = ConsumerState {
            delivered: SequencePair {
                consumer_seq: next()?,
                stream_seq: next()?,
            },
            ack_floor: SequencePair {
                consumer_seq: next()?,
                stream_seq: next()?,
            },
            ..ConsumerState::default()
        };
        let pending = next()?;
        if pending > (bytes.len() / 24) as u64 {
            return Err(bad());
        }
        for _ in 0..pending {
            let stream_seq = next()?;
            let entry = Pending {
                consumer_seq: next()?,
                timestamp: next()? as i64,
            };
            state.pending.insert(stream_seq, entry);
        }
        let redelivered = next()?;
        if redelivered > (bytes.len() / 16) as u64 {
            return Err(bad());
        }
        for _ in 0..redelivered {
            let stream_seq = next()?;
            state.redelivered.insert(stream_seq, next()?);
        }
        if next().is_ok() {
            return Err(bad());
        }
        Ok(state)
    }
}

/// A consumer state file rewritten once it grows past this.
const CONSUMER_FILE_BYTES_MAX: u64 = 256 * 1024;

/// An open consumer state file.
#[derive(Debug)]
pub(crate) struct ConsumerFile {
    file: Arc<File>,
    len: u64,
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\');
    ok.then_some(()).ok_or(StoreError::InvalidConfig(
        "consumer name not usable as a file name",
    ))
}

impl FileStore {
    fn consumer_dir(&self) -> PathBuf {
        self.dir.join("consumers")
    }

    fn consumer_path(&self, name: &str) -> PathBuf {
        self.consumer_dir().join(format!("{name}.state"))
    }

    /// Saves a consumer's state; durable once the returned ticket resolves.
    pub fn save_consumer(
        &mut self,
        name: &str,
        state: &ConsumerState,
    ) -> Result<SyncTicket, StoreError> {
        check_name(name)?;
        let payload = state.encode();
        let record = NewRecord {
            kind: Kind::Msg,
            flags: 0,
            seq: 1,
            timestamp: 0,
            subject: b"consumer",
            headers: b"",
            payload: &payload,
        };
        let needs_rewrite = self
            .consumers
            .get(name)
            .is_none_or(|open| open.len + record.len() as u64 > CONSUMER_FILE_BYTES_MAX);
        if needs_rewrite {
            self.rewrite_consumer(name, record)?;
            return Ok(SyncTicket::ready());
        }
        let Some(open) = self.consumers.get_mut(name) else {
            return Err(StoreError::NotFound);
        };
        let mut bytes = Vec::with_capacity(record.len());
        record.encode_into(&mut bytes);
        open.file
            .write_all_at(&bytes, open.len)
            .map_err(StoreError::io("writing a consumer state file"))?;
        open.len += bytes.len() as u64;
        let file = open.file.clone();
        self.flusher.mark_dirty(&file);
        self.flusher.ticket()
    }

    /// Writes a fresh file holding only `record` and renames it into place, durably.
    fn rewrite_consumer(&mut self, name: &str, record: NewRecord<'_>) -> Result<(), StoreError> {
        let dir = self.consumer_dir();
        fs::create_dir_all(&dir).map_err(StoreError::io("creating the consumer directory"))?;
        let path = self.consumer_path(name);
        let temporary = path.with_extension("state.new");
        let mut bytes = block::file_header().to_vec();
        record.encode_into(&mut bytes);
        let file = crate::file::replace_file(
            &temporary,
            &path,
            &bytes,
            "replacing a consumer state file",
        )?;
        File::open(&dir)
            .and_then(|dir| dir.sync_all())
            .map_err(StoreError::io("syncing the consumer directory"))?;
        self.consumers.insert(
            name.to_string(),
            ConsumerFile {
                file: Arc::new(file),
                len: bytes.len() as u64,
            },
        );
        Ok(())
    }

    /// Loads a consumer's last durable state, `None` if it was never saved.
    pub fn load_consumer(&self, name: &str) -> Result<Option<ConsumerState>, StoreError> {
        check_name(name)?;
        let bytes = match fs::read(self.consumer_path(name)) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(StoreError::Io {
                    context: "reading a consumer state file",
                    source: error,
                })
            }
        };
        let scan = block::scan(&bytes);
        if !scan.damage.is_empty() {
            tracing::warn!(consumer = name, damage = ?scan.damage, "consumer state file damaged; using the last valid state");
        }
        for found in scan.records.iter().rev() {
            let Ok(record) = record::decode(&bytes[found.offset..found.offset + found.len]) else {
                continue;
            };
            match ConsumerState::decode(record.payload) {
                Ok(state) => return Ok(Some(state)),
                Err(_) => tracing::warn!(
                    consumer = name,
                    offset = found.offset,
                    "undecodable consumer state skipped"
                ),
            }
        }
        if bytes.len() > FILE_HEADER_BYTES {
            tracing::warn!(consumer = name, "no valid consumer state in its file");
        }
        Ok(None)
    }

    /// Deletes a consumer's state file.
    pub fn delete_consumer(&mut self, name: &str) -> Result<(), StoreError> {
        check_name(name)?;
        self.consumers.remove(name);
        match fs::remove_file(self.consumer_path(name)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
                context: "deleting a consumer state file",
                source: error,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(state: ConsumerState) {
        assert_eq!(ConsumerState::decode(&state.encode()).unwrap(), state);
        let bytes = state.encode();
        for cut in 0..bytes.len() {
            assert!(
                ConsumerState::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn state_round_trips_and_truncation_is_refused() {
        check(ConsumerState::default());
        check(ConsumerState {
            delivered: SequencePair {
                consumer_seq: 9,
                stream_seq: 20,
            },
            ack_floor: SequencePair {
                consumer_seq: 5,
                stream_seq: 12,
            },
            pending: [
                (
                    14,
                    Pending {
                        consumer_seq: 6,
                        timestamp: -1,
                    },
                ),
                (
                    20,
                    Pending {
                        consumer_seq: 9,
                        timestamp: 7,
                    },
                ),
            ]
            .into_iter()
            .collect(),
            redelivered: [(14, 3)].into_iter().collect(),
        });
    }
}
