//! Where a consumer's configuration and state are kept between restarts.
//!
//! The stream's [`StoreProvider`](crate::api::StoreProvider) opens one [`ConsumerStorage`]
//! per consumer. The state uses `natrium-store`'s [`ConsumerState`] and its encoding. A
//! consumer saves its state at most once per sync batch; the engine waits on the returned
//! ticket before sending anything the batch produced, so an ack's confirmation never leaves
//! before the ack is durable.

use super::config::ConsumerConfig;
use natrium_store::{ConsumerState, StoreError, SyncTicket};

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
}
