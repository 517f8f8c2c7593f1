//! Where a consumer's configuration and state are kept between restarts.
//!
//! The stream's [`StoreProvider`](crate::api::StoreProvider) opens one [`ConsumerStorage`]
//! per consumer. The state uses `natrium-store`'s [`ConsumerState`] and its encoding. A
//! consumer saves its state at most once per sync batch; the engine waits on the returned
//! ticket before sending anything the batch produced, so an ack's confirmation never leaves
//! before the ack is durable.
//!
//! [`FileConsumerStorage`] keeps a durable under `<stream dir>/obs/<name>/` as nats-server
//! does: `meta.inf` (name, creation time and configuration as JSON) and `o.dat` (the
//! state, checksummed and length-prefixed). The configuration is replaced whole and fsynced;
//! the state is overwritten in place by one write per batch, not fsynced: a killed process
//! loses nothing, and after a power failure a torn `o.dat` fails its checksum and the consumer
//! starts again by its deliver policy, which redelivers but loses nothing (at-least-once).

use super::config::ConsumerConfig;
use natrium_store::{ConsumerState, StoreError, SyncTicket};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One consumer's durable home.
pub trait ConsumerStorage: Send {
    /// Records the latest state; durable once the ticket of the next [`sync`](Self::sync)
    /// resolves.
    fn save_state(&mut self, state: &ConsumerState) -> Result<(), StoreError>;
    /// Saves a new or changed configuration.
    fn save_config(&mut self, config: &ConsumerConfig, created: i64) -> Result<(), StoreError>;
    /// Makes everything saved so far durable.
    fn sync(&mut self) -> Result<SyncTicket, StoreError>;
    /// Removes everything kept for the consumer.
    fn delete(&mut self) -> Result<(), StoreError>;
    /// False when saving is pointless (nothing is read back after a restart), so the
    /// consumer skips building its state each batch.
    fn persists(&self) -> bool {
        true
    }
}

/// A consumer found again when its stream is recovered.
pub struct RecoveredConsumer {
    /// Its name.
    pub name: String,
    /// Its configuration as last saved.
    pub config: ConsumerConfig,
    /// When it was created (nanoseconds since the epoch).
    pub created: i64,
    /// Its last durable state, if any was saved.
    pub state: Option<ConsumerState>,
    /// Where it keeps saving.
    pub storage: Box<dyn ConsumerStorage>,
}

/// Keeps the state in memory: ephemerals, `mem_storage` consumers and memory providers.
#[derive(Debug, Default)]
pub struct MemoryConsumerStorage {
    /// The last state saved.
    pub state: Option<ConsumerState>,
    /// The configuration last saved.
    pub config: Option<(ConsumerConfig, i64)>,
}

impl ConsumerStorage for MemoryConsumerStorage {
    fn save_state(&mut self, state: &ConsumerState) -> Result<(), StoreError> {
        self.state = Some(state.clone());
        Ok(())
    }

    fn save_config(&mut self, config: &ConsumerConfig, created: i64) -> Result<(), StoreError> {
        self.config = Some((config.clone(), created));
        Ok(())
    }

    fn sync(&mut self) -> Result<SyncTicket, StoreError> {
        Ok(SyncTicket::ready())
    }

    fn delete(&mut self) -> Result<(), StoreError> {
        self.state = None;
        self.config = None;
        Ok(())
    }

    fn persists(&self) -> bool {
        false
    }
}

/// A durable's directory under its stream: `meta.inf` and `o.dat`.
#[derive(Debug)]
pub struct FileConsumerStorage {
    dir: PathBuf,
    /// The state saved since the last sync, not yet written.
    unwritten: Option<Vec<u8>>,
    /// `o.dat`, kept open: each sync is one positioned write.
    state_file: Option<File>,
}

/// `meta.inf`: what nats-server's `FileConsumerInfo` holds.
#[derive(Serialize, Deserialize)]
struct Meta {
    name: String,
    created: String,
    config: ConsumerConfig,
}

/// The directory under a stream's directory that holds its durable consumers.
pub const CONSUMERS_DIR: &str = "obs";
const META_FILE: &str = "meta.inf";
const STATE_FILE: &str = "o.dat";
/// Leads `o.dat`, so a file from elsewhere is not mistaken for state.
const STATE_MAGIC: &[u8; 8] = b"NTRMCON1";

impl FileConsumerStorage {
    /// Opens (creating) the directory of consumer `name` under `stream_dir`.
    pub fn open(stream_dir: &Path, name: &str) -> Result<Self, StoreError> {
        let dir = stream_dir.join(CONSUMERS_DIR).join(name);
        fs::create_dir_all(&dir).map_err(io_error("creating a consumer directory"))?;
        Ok(FileConsumerStorage {
            dir,
            unwritten: None,
            state_file: None,
        })
    }

    /// Every consumer kept under `stream_dir`, in name order. A consumer whose `meta.inf`
    /// is unreadable is skipped (and left on disk); an unreadable `o.dat` recovers the
    /// consumer without state, so it starts again by its deliver policy.
    pub fn recover_all(stream_dir: &Path) -> Result<Vec<RecoveredConsumer>, StoreError> {
        let root = stream_dir.join(CONSUMERS_DIR);
        let entries = match fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(StoreError::Io {
                    context: "listing consumer directories",
                    source: error,
                })
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        let mut recovered = Vec::new();
        for name in names {
            let dir = root.join(&name);
            let Some(meta) = fs::read(dir.join(META_FILE))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Meta>(&bytes).ok())
            else {
                continue;
            };
            let state = fs::read(dir.join(STATE_FILE))
                .ok()
                .and_then(|bytes| decode_state(&bytes));
            recovered.push(RecoveredConsumer {
                name: meta.name,
                config: meta.config,
                created: crate::time::parse_rfc3339(&meta.created).unwrap_or(0),
                state,
                storage: Box::new(FileConsumerStorage {
                    dir,
                    unwritten: None,
                    state_file: None,
                }),
            });
        }
        Ok(recovered)
    }
}

impl ConsumerStorage for FileConsumerStorage {
    fn save_state(&mut self, state: &ConsumerState) -> Result<(), StoreError> {
        self.unwritten = Some(encode_state(state));
        Ok(())
    }

    fn save_config(&mut self, config: &ConsumerConfig, created: i64) -> Result<(), StoreError> {
        let name = self
            .dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        let meta = Meta {
            name,
            created: natrium_gofmt::rfc3339_or_zero(created),
            config: config.clone(),
        };
        let bytes = serde_json::to_vec(&meta)
            .map_err(|_| StoreError::InvalidConfig("consumer configuration not encodable"))?;
        replace_file(&self.dir, META_FILE, &bytes)
    }

    fn sync(&mut self) -> Result<SyncTicket, StoreError> {
        if let Some(bytes) = self.unwritten.take() {
            // One positioned write over the old state, handed to the OS and not fsynced. A
            // killed process loses no ack: a write syscall is never half done by a kill, and
            // the length prefix makes leftover bytes of a longer old state harmless. After a
            // power failure a torn state fails its checksum and the consumer starts again by
            // its deliver policy: redeliveries, which at-least-once allows (nats-server does
            // not fsync consumer state either). An fsync per batch of acks, or a rename, would
            // cap a consumer at a few thousand batches a second.
            let file = match &mut self.state_file {
                Some(file) => file,
                None => self.state_file.insert(
                    fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(self.dir.join(STATE_FILE))
                        .map_err(io_error("opening consumer state"))?,
                ),
            };
            use std::os::unix::fs::FileExt;
            file.write_all_at(&bytes, 0)
                .map_err(io_error("writing consumer state"))?;
        }
        Ok(SyncTicket::ready())
    }

    fn delete(&mut self) -> Result<(), StoreError> {
        self.unwritten = None;
        match fs::remove_dir_all(&self.dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
                context: "removing a consumer directory",
                source: error,
            }),
            _ => Ok(()),
        }
    }
}

/// Wraps an I/O error with what was being done.
fn io_error(context: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// `o.dat`: magic, the state's length, the encoded state, and an FNV-1a checksum of the
/// state. Bytes after that are leftovers of a longer earlier state.
fn encode_state(state: &ConsumerState) -> Vec<u8> {
    let body = state.encode();
    let mut bytes = Vec::with_capacity(body.len() + 24);
    bytes.extend_from_slice(STATE_MAGIC);
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(&fnv1a(&body).to_le_bytes());
    bytes
}

/// Reads `o.dat`; `None` unless magic and checksum verify and the state decodes.
fn decode_state(bytes: &[u8]) -> Option<ConsumerState> {
    let rest = bytes.strip_prefix(STATE_MAGIC)?;
    let (length, rest) = rest.split_at_checked(8)?;
    let length = usize::try_from(u64::from_le_bytes(length.try_into().ok()?)).ok()?;
    let (body, rest) = rest.split_at_checked(length)?;
    let sum = rest.get(..8)?;
    let expected = u64::from_le_bytes(sum.try_into().ok()?);
    if fnv1a(body) != expected {
        return None;
    }
    ConsumerState::decode(body).ok()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes `dir/name` whole and durably: a temporary file, fsync, rename, fsync the directory.
fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(name);
    let temporary = dir.join(format!("{name}.new"));
    let mut file = File::create(&temporary).map_err(io_error("writing consumer metadata"))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error("writing consumer metadata"))?;
    fs::rename(&temporary, &path).map_err(io_error("replacing consumer metadata"))?;
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("syncing a consumer directory"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use natrium_store::{Pending, SequencePair};

    fn temporary_dir(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("natrium-consumer-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_shorter_state_written_over_a_longer_one_reads_back() {
        let dir = temporary_dir("overwrite");
        let mut storage = FileConsumerStorage::open(&dir, "C").unwrap();
        let mut long = ConsumerState::default();
        for seq in 1..=50 {
            long.pending.insert(
                seq,
                Pending {
                    consumer_seq: seq,
                    timestamp: 7,
                },
            );
        }
        storage.save_state(&long).unwrap();
        assert!(storage.sync().unwrap().is_done());
        let short = ConsumerState {
            ack_floor: SequencePair {
                consumer_seq: 50,
                stream_seq: 50,
            },
            ..ConsumerState::default()
        };
        storage.save_state(&short).unwrap();
        assert!(storage.sync().unwrap().is_done());
        let bytes = fs::read(dir.join("obs/C").join(STATE_FILE)).unwrap();
        assert!(
            bytes.len() > encode_state(&short).len(),
            "the longer state's tail is left"
        );
        assert_eq!(decode_state(&bytes), Some(short));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn state_and_config_survive_and_damage_is_refused() {
        let stream_dir = temporary_dir("storage");
        let mut storage = FileConsumerStorage::open(&stream_dir, "D").unwrap();
        let config: ConsumerConfig =
            serde_json::from_str(r#"{"durable_name":"D","ack_policy":"explicit"}"#).unwrap();
        storage
            .save_config(&config, 1_764_165_000_000_000_000)
            .unwrap();
        let state = ConsumerState {
            delivered: SequencePair {
                consumer_seq: 3,
                stream_seq: 7,
            },
            ack_floor: SequencePair {
                consumer_seq: 1,
                stream_seq: 4,
            },
            pending: [(
                6,
                Pending {
                    consumer_seq: 2,
                    timestamp: 5,
                },
            )]
            .into_iter()
            .collect(),
            redelivered: [(6, 1)].into_iter().collect(),
        };
        storage.save_state(&state).unwrap();
        assert!(FileConsumerStorage::recover_all(&stream_dir).unwrap()[0]
            .state
            .is_none());
        assert!(storage.sync().unwrap().is_done());
        let recovered = FileConsumerStorage::recover_all(&stream_dir).unwrap();
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].name, "D");
        assert_eq!(recovered[0].config, config);
        assert_eq!(recovered[0].created, 1_764_165_000_000_000_000);
        assert_eq!(recovered[0].state.as_ref(), Some(&state));

        let state_path = stream_dir.join("obs/D/o.dat");
        let mut bytes = fs::read(&state_path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        fs::write(&state_path, &bytes).unwrap();
        assert!(FileConsumerStorage::recover_all(&stream_dir).unwrap()[0]
            .state
            .is_none());
        storage.delete().unwrap();
        assert!(FileConsumerStorage::recover_all(&stream_dir)
            .unwrap()
            .is_empty());
        let _ = fs::remove_dir_all(&stream_dir);
    }
}
