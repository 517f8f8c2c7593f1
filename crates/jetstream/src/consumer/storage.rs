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
//! state, checksummed). Both are replaced whole (write a temporary file, rename), so a killed
//! process leaves the old or the new file, never a torn one. Only the configuration is
//! fsynced: after a power failure a torn `o.dat` fails its checksum and the consumer starts
//! again by its deliver policy, which redelivers but loses nothing (at-least-once).

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
                created: super::time::parse_rfc3339(&meta.created).unwrap_or(0),
                state,
                storage: Box::new(FileConsumerStorage {
                    dir,
                    unwritten: None,
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
        replace_file(&self.dir, META_FILE, &bytes, Durability::Fsync)
    }

    fn sync(&mut self) -> Result<SyncTicket, StoreError> {
        if let Some(bytes) = self.unwritten.take() {
            // Handed to the OS, not fsynced: a killed process loses no ack, and after a power
            // failure an older state can only redeliver, which at-least-once allows (nats-server
            // does not fsync consumer state either). An fsync per batch of acks would cap a
            // consumer at a few hundred batches a second.
            replace_file(&self.dir, STATE_FILE, &bytes, Durability::OsOnly)?;
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

/// `o.dat`: magic, the encoded state, and an FNV-1a checksum of the state.
fn encode_state(state: &ConsumerState) -> Vec<u8> {
    let body = state.encode();
    let mut bytes = Vec::with_capacity(body.len() + 16);
    bytes.extend_from_slice(STATE_MAGIC);
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(&fnv1a(&body).to_le_bytes());
    bytes
}

/// Reads `o.dat`; `None` unless magic and checksum verify and the state decodes.
fn decode_state(bytes: &[u8]) -> Option<ConsumerState> {
    let body = bytes.strip_prefix(STATE_MAGIC)?;
    let (body, sum) = body.split_at_checked(body.len().checked_sub(8)?)?;
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

/// How far [`replace_file`] takes a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// To the disk: fsync the file and the directory.
    Fsync,
    /// To the operating system only; the rename still replaces the file whole.
    OsOnly,
}

/// Writes `dir/name` whole: a temporary file, renamed over the old one, fsynced as asked.
fn replace_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), StoreError> {
    let path = dir.join(name);
    let temporary = dir.join(format!("{name}.new"));
    let mut file = File::create(&temporary).map_err(io_error("writing consumer state"))?;
    file.write_all(bytes)
        .and_then(|()| match durability {
            Durability::Fsync => file.sync_all(),
            Durability::OsOnly => Ok(()),
        })
        .map_err(io_error("writing consumer state"))?;
    fs::rename(&temporary, &path).map_err(io_error("replacing consumer state"))?;
    if durability == Durability::OsOnly {
        return Ok(());
    }
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
