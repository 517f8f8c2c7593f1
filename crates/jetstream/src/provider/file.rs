//! File storage for one account, laid out as nats-server lays it out:
//! `<store_dir>/jetstream/<account>/streams/<name>/` holds `meta.inf`, `meta.sum` and the
//! message blocks under `msgs/` (the file store's own directory).
//!
//! Memory streams get a [`MemoryStore`] and leave nothing on disk, so a restart does not bring
//! them back, as with nats-server.

use super::meta::{self, io, sync_dir};
use super::{RecoveredStream, Staging, StoreProvider};
use crate::consumer::config::ConsumerConfig;
use crate::consumer::storage::{
    ConsumerStorage, FileConsumerStorage, MemoryConsumerStorage, RecoveredConsumer,
};
use crate::engine::ProviderFactory;
use crate::stream::config::{Compression, StorageType, StreamConfig};
use crate::stream::{store_config, BoxedStore};
use natrium_store::{
    EncryptionKey, FileStore, FileStoreConfig, MemoryStore, StoreError, SyncPolicy,
};
use std::fs;
use std::path::{Path, PathBuf};

/// The directory under `store_dir` that holds every account's JetStream (nats-server's
/// `JetStreamStoreDir`).
pub const JETSTREAM_DIR: &str = "jetstream";
/// The directory under an account's directory that holds its streams.
pub const STREAMS_DIR: &str = "streams";
/// Under an account's directory: archives of snapshots and restores in progress (removed
/// when each ends, and at start, in case a crash left some).
pub const STAGING_DIR: &str = "staging";

/// A stream directory that recovery could not bring back, and why; the server logs these
/// (nats-server warns and skips such a stream too).
#[derive(Debug)]
pub struct SkippedStream {
    /// The stream's directory.
    pub dir: PathBuf,
    /// What was wrong.
    pub reason: String,
}

/// File stores under one account's directory.
#[derive(Debug)]
pub struct FileStores {
    account_dir: PathBuf,
    sync: SyncPolicy,
    encryption_key: Option<EncryptionKey>,
    skipped: Vec<SkippedStream>,
}

impl FileStores {
    /// Streams under `account_dir` (see [`account_dir`](Self::account_dir)), written under the
    /// sync policy and encrypted with the key when one is given.
    pub fn new(
        account_dir: impl Into<PathBuf>,
        sync: SyncPolicy,
        encryption_key: Option<EncryptionKey>,
    ) -> Self {
        FileStores {
            account_dir: account_dir.into(),
            sync,
            encryption_key,
            skipped: Vec::new(),
        }
    }

    /// `<store_dir>/jetstream/<account>`, refusing account names that would leave it.
    pub fn account_dir(store_dir: &Path, account: &str) -> Result<PathBuf, StoreError> {
        if account.is_empty() || account == "." || account == ".." || account.contains(['/', '\\'])
        {
            return Err(StoreError::InvalidConfig(
                "an account name with a path separator can not name a directory",
            ));
        }
        Ok(store_dir.join(JETSTREAM_DIR).join(account))
    }

    /// The provider factory a server with a store directory gives [`crate::JetStream::new`].
    pub fn factory(
        store_dir: PathBuf,
        sync: SyncPolicy,
        encryption_key: Option<EncryptionKey>,
    ) -> ProviderFactory<FileStores> {
        Box::new(move |account| {
            let dir = Self::account_dir(&store_dir, account)?;
            Ok(FileStores::new(dir, sync, encryption_key.clone()))
        })
    }

    /// The streams the last [`recover`](StoreProvider::recover) had to leave behind.
    pub fn skipped(&self) -> &[SkippedStream] {
        &self.skipped
    }

    fn streams_dir(&self) -> PathBuf {
        self.account_dir.join(STREAMS_DIR)
    }

    fn stream_dir(&self, name: &str) -> PathBuf {
        self.streams_dir().join(name)
    }

    fn file_config(&self, config: &StreamConfig) -> FileStoreConfig {
        FileStoreConfig {
            limits: store_config(config),
            sync: self.sync,
            compression: match config.compression {
                Compression::None => natrium_store::Compression::None,
                Compression::S2 => natrium_store::Compression::Lz4,
            },
            encryption_key: self.encryption_key.clone(),
            ..FileStoreConfig::default()
        }
    }

    /// Makes a new stream's directory with its meta files and its store (from `make`); on
    /// failure leaves no directory that recovery would trip over.
    fn create_stream_dir(
        &self,
        config: &StreamConfig,
        created: i64,
        make: impl FnOnce(&Path, FileStoreConfig) -> Result<FileStore, StoreError>,
    ) -> Result<BoxedStore, StoreError> {
        let dir = self.stream_dir(&config.name);
        let context = "creating the stream directory";
        // A directory recovery skipped may still hold messages: never write over it.
        if fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(StoreError::InvalidConfig(
                "the stream's directory already exists and is not empty",
            ));
        }
        fs::create_dir_all(&dir).map_err(io(context))?;
        sync_dir(&self.streams_dir(), context)?;
        let opened =
            meta::write(&dir, config, created).and_then(|()| make(&dir, self.file_config(config)));
        match opened {
            Ok(store) => Ok(Box::new(store)),
            Err(error) => {
                // Nothing was stored yet; leave no directory that recovery would trip over.
                let _ = meta::forget(&dir);
                let _ = fs::remove_dir_all(&dir);
                Err(error)
            }
        }
    }

    fn recover_one(&self, dir: &Path) -> Result<RecoveredStream, String> {
        let (config, created) = meta::read(dir).map_err(|e| e.to_string())?;
        let name = dir.file_name().and_then(|name| name.to_str());
        if name != Some(config.name.as_str()) {
            return Err(format!(
                "meta.inf names stream {:?}, not its directory",
                config.name
            ));
        }
        let store = FileStore::open(dir, self.file_config(&config)).map_err(|e| e.to_string())?;
        Ok(RecoveredStream {
            config,
            created,
            store: Box::new(store),
        })
    }
}

impl StoreProvider for FileStores {
    fn open(&mut self, config: &StreamConfig, created: i64) -> Result<BoxedStore, StoreError> {
        if config.storage == StorageType::Memory {
            return Ok(Box::new(MemoryStore::new(store_config(config))?));
        }
        self.create_stream_dir(config, created, |dir, file_config| {
            FileStore::open(dir, file_config)
        })
    }

    fn restore(
        &mut self,
        config: &StreamConfig,
        created: i64,
        input: &mut dyn std::io::Read,
    ) -> Result<BoxedStore, StoreError> {
        if config.storage == StorageType::Memory {
            return Ok(Box::new(MemoryStore::restore(store_config(config), input)?));
        }
        self.create_stream_dir(config, created, |dir, file_config| {
            FileStore::restore(dir, file_config, input)
        })
    }

    fn save_config(&mut self, config: &StreamConfig, created: i64) -> Result<(), StoreError> {
        if config.storage == StorageType::Memory {
            return Ok(());
        }
        meta::write(&self.stream_dir(&config.name), config, created)
    }

    fn remove(&mut self, name: &str) -> Result<(), StoreError> {
        let dir = self.stream_dir(name);
        if !dir.exists() {
            return Ok(());
        }
        meta::forget(&dir)?;
        fs::remove_dir_all(&dir).map_err(io("removing the stream directory"))?;
        sync_dir(&self.streams_dir(), "removing the stream directory")
    }

    fn open_consumer(
        &mut self,
        stream: &StreamConfig,
        name: &str,
        _config: &ConsumerConfig,
        _created: i64,
    ) -> Result<Box<dyn ConsumerStorage>, StoreError> {
        if stream.storage == StorageType::Memory {
            return Ok(Box::<MemoryConsumerStorage>::default());
        }
        let storage = FileConsumerStorage::open(&self.stream_dir(&stream.name), name)?;
        Ok(Box::new(storage))
    }

    fn recover_consumers(
        &mut self,
        stream: &StreamConfig,
    ) -> Result<Vec<RecoveredConsumer>, StoreError> {
        if stream.storage == StorageType::Memory {
            return Ok(Vec::new());
        }
        FileConsumerStorage::recover_all(&self.stream_dir(&stream.name))
    }

    fn staging(&mut self) -> Result<Staging, StoreError> {
        // An archive holds the messages in the clear: with encryption at rest it stays in
        // memory rather than reach the disk unencrypted.
        if self.encryption_key.is_some() {
            return Ok(Staging::in_memory());
        }
        Staging::in_file(&self.account_dir.join(STAGING_DIR))
            .map_err(io("creating a snapshot or restore staging file"))
    }

    fn recover(&mut self) -> Result<Vec<RecoveredStream>, StoreError> {
        self.skipped.clear();
        // Transfers do not survive a restart: whatever they staged is garbage now.
        let _ = fs::remove_dir_all(self.account_dir.join(STAGING_DIR));
        let entries = match fs::read_dir(self.streams_dir()) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io("listing the streams directory")(error)),
        };
        let mut dirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io("listing the streams directory"))?;
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                dirs.push(entry.path());
            }
        }
        dirs.sort();
        let mut recovered = Vec::new();
        for dir in dirs {
            match self.recover_one(&dir) {
                Ok(stream) => recovered.push(stream),
                Err(reason) => self.skipped.push(SkippedStream { dir, reason }),
            }
        }
        Ok(recovered)
    }
}

#[cfg(test)]
mod tests;
