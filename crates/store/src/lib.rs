//! JetStream message store for Natrium: one interface, a memory store and a durable file store.
//!
//! Both stores share the [`MessageStore`] trait and one in-memory index (a dense seq→slot table
//! plus a per-subject sequence index), so limits, purges and filtered reads behave identically;
//! the differential tests hold them to a simple model. The file store appends checksummed records
//! to block files, recovers by replaying them, and by default acknowledges a write only after an
//! fsync shared by every writer waiting at the same time (group commit, see [`SyncTicket`]).
//!
//! Invariant: nothing here reads a clock; timestamps are arguments. The only threads are the file
//! store's flusher, and the only I/O is the file store's.

mod api;
pub mod block;
mod command;
mod compress;
mod config;
mod consumer;
mod encrypt;
mod error;
mod file;
mod index;
mod limits;
mod memory;
mod reclaim;
mod record;
mod recovery;
mod snapshot;
mod subject;
mod subjects;
mod sync;

pub use api::{msg_size, MessageStore, PurgeRequest, StoredMsg, StreamState, MSG_OVERHEAD_BYTES};
pub use command::{Command, Outcome};
pub use compress::Compression;
pub use config::{DiscardPolicy, FileStoreConfig, StoreConfig, SyncPolicy};
pub use consumer::{ConsumerState, Pending, SequencePair};
pub use encrypt::EncryptionKey;
pub use error::StoreError;
pub use file::FileStore;
pub use memory::MemoryStore;
pub use recovery::RecoveryReport;
pub use sync::SyncTicket;
