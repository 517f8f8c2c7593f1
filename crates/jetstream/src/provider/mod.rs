//! Where streams keep their messages: the [`StoreProvider`] seam between the JetStream logic
//! and storage, with [`MemoryStores`] (everything in memory) and [`FileStores`] (nats-server's
//! `<store_dir>/jetstream/<account>/streams/<name>/` layout).

mod file;
mod meta;
mod staging;

pub use file::{FileStores, SkippedStream};
pub use staging::{Staging, StagingReader};

use crate::consumer::config::ConsumerConfig;
use crate::consumer::storage::{ConsumerStorage, MemoryConsumerStorage, RecoveredConsumer};
use crate::stream::config::StreamConfig;
use crate::stream::{store_config, BoxedStore};
use natrium_store::{MemoryStore, StoreError};

/// A stream found again when an account's JetStream starts.
pub struct RecoveredStream {
    /// Its configuration as last saved.
    pub config: StreamConfig,
    /// When it was created (nanoseconds since the epoch).
    pub created: i64,
    /// Its store, recovered.
    pub store: BoxedStore,
}

/// Opens and removes the stores behind streams (file stores under `store_dir`, or memory),
/// and keeps each stream's configuration where a restart finds it.
pub trait StoreProvider {
    /// Opens (creating if needed) the store for a checked stream configuration, and saves the
    /// configuration beside it.
    fn open(&mut self, config: &StreamConfig, created: i64) -> Result<BoxedStore, StoreError>;
    /// Saves a changed configuration of an open stream.
    fn save_config(&mut self, config: &StreamConfig, created: i64) -> Result<(), StoreError>;
    /// Removes everything a deleted stream kept.
    fn remove(&mut self, name: &str) -> Result<(), StoreError>;
    /// Every stream kept from before, recovered.
    fn recover(&mut self) -> Result<Vec<RecoveredStream>, StoreError>;
    /// Opens where a durable consumer of `stream` keeps its configuration and state (a file
    /// provider: `<stream dir>/obs/<name>/`). The default keeps them in memory.
    fn open_consumer(
        &mut self,
        _stream: &StreamConfig,
        _name: &str,
        _config: &ConsumerConfig,
        _created: i64,
    ) -> Result<Box<dyn ConsumerStorage>, StoreError> {
        Ok(Box::<MemoryConsumerStorage>::default())
    }
    /// Creates the store of a restored stream from a store snapshot (the bytes of
    /// `MessageStore::snapshot`), keeping its sequences and times, and saves the configuration
    /// beside it. The default keeps it in memory.
    fn restore(
        &mut self,
        config: &StreamConfig,
        _created: i64,
        input: &mut dyn std::io::Read,
    ) -> Result<BoxedStore, StoreError> {
        Ok(Box::new(MemoryStore::restore(store_config(config), input)?))
    }
    /// Where a snapshot or restore keeps its archive during the transfer. The default keeps
    /// it in memory.
    fn staging(&mut self) -> Result<Staging, StoreError> {
        Ok(Staging::in_memory())
    }
    /// Every durable consumer `stream` kept from before. The default has none.
    fn recover_consumers(
        &mut self,
        _stream: &StreamConfig,
    ) -> Result<Vec<RecoveredConsumer>, StoreError> {
        Ok(Vec::new())
    }
}

/// Every stream in memory, whatever its `storage` says (tests, and a server without a store
/// directory).
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStores;

impl StoreProvider for MemoryStores {
    fn open(&mut self, config: &StreamConfig, _created: i64) -> Result<BoxedStore, StoreError> {
        Ok(Box::new(MemoryStore::new(store_config(config))?))
    }

    fn save_config(&mut self, _config: &StreamConfig, _created: i64) -> Result<(), StoreError> {
        Ok(())
    }

    fn remove(&mut self, _name: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn recover(&mut self) -> Result<Vec<RecoveredStream>, StoreError> {
        Ok(Vec::new())
    }
}
