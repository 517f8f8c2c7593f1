//! The `$JS.API` request handler: one request subject and body in, one response body out.
//! The server subscribes it to `$JS.API.>` (and `$JS.<domain>.API.>`) and sends the reply.

mod account;
pub use account::Usage;
mod consumer_messages;
mod consumers;
mod streams;
pub mod types;

use crate::consumer::advisory::IdGenerator;
use crate::consumer::check::ConsumerLimits;
use crate::consumer::config::ConsumerConfig;
use crate::consumer::set::Consumers;
use crate::consumer::storage::{ConsumerStorage, MemoryConsumerStorage, RecoveredConsumer};
use crate::engine::Outbound;
use crate::errors::JsError;
use crate::stream::check::ServerLimits;
use crate::stream::config::StreamConfig;
use crate::stream::{store_config, BoxedStore, Stream};
use natrium_store::{MemoryStore, StoreError, SyncTicket};
use serde::Serialize;
use std::collections::BTreeMap;
use types::{AccountLimits, ApiStats, ErrorResponse};

/// The prefix of every JetStream API subject.
pub const API_PREFIX: &str = "$JS.API.";

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

/// A stream, when it was created, and its consumers.
pub(crate) struct StreamEntry {
    pub stream: Stream,
    pub created: i64,
    pub consumers: Consumers,
}

/// One account's JetStream: its streams, limits and API counters.
pub struct JetStreamApi<P> {
    provider: P,
    streams: BTreeMap<String, StreamEntry>,
    limits: AccountLimits,
    server_limits: ServerLimits,
    domain: Option<String>,
    stats: ApiStats,
    /// Bumped whenever the set of stream or consumer subjects changes.
    interest_generation: u64,
    /// Advisory ids and generated names.
    ids: IdGenerator,
    /// What consumers produced since the engine last drained it.
    outbox: Vec<Outbound>,
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// An account's JetStream with no streams yet.
    pub fn new(
        provider: P,
        limits: AccountLimits,
        server_limits: ServerLimits,
        domain: Option<String>,
    ) -> Self {
        JetStreamApi {
            provider,
            streams: BTreeMap::new(),
            limits,
            server_limits,
            domain,
            stats: ApiStats::default(),
            interest_generation: 0,
            ids: IdGenerator::default(),
            outbox: Vec::new(),
        }
    }

    /// Opens every stream the provider kept from before.
    pub fn recover(&mut self) -> Result<(), StoreError> {
        for recovered in self.provider.recover()? {
            let name = recovered.config.name.clone();
            let stream = Stream::new(recovered.config, recovered.store);
            self.streams.insert(
                name.clone(),
                StreamEntry {
                    stream,
                    created: recovered.created,
                    consumers: Consumers::default(),
                },
            );
            self.recover_consumers(&name)?;
        }
        self.interest_generation += 1;
        Ok(())
    }

    /// Changes whenever [`stream_subjects`](Self::stream_subjects) would answer differently.
    pub fn interest_generation(&self) -> u64 {
        self.interest_generation
    }

    /// Every subject filter of every stream.
    pub fn stream_subjects(&self) -> Vec<String> {
        self.streams
            .values()
            .flat_map(|entry| entry.stream.config().subjects.iter().cloned())
            .collect()
    }

    /// Stores a message published to a stream subject and returns the PubAck (or its error)
    /// to send once the write is durable; `None` when no stream takes the subject.
    pub fn publish(
        &mut self,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        now: i64,
    ) -> Option<Vec<u8>> {
        let domain = self.domain.clone();
        let entry = self.entry_for_subject(subject)?;
        let name = entry.stream.config().name.clone();
        Some(match entry.stream.publish(subject, headers, payload, now) {
            Ok(published) => {
                if let crate::stream::Published::Stored(seq) = published {
                    Self::stored(entry, seq, subject);
                }
                crate::stream::pub_ack(&name, domain.as_deref(), published)
            }
            Err(error) => crate::stream::pub_ack_error(&name, &error),
        })
    }

    /// Hands every stream written since the last call to durable storage, adding the
    /// tickets to wait on to `tickets`.
    pub fn sync(&mut self, tickets: &mut Vec<SyncTicket>) {
        for entry in self.streams.values_mut() {
            if let Some(ticket) = entry.stream.sync_if_dirty() {
                tickets.push(ticket);
            }
        }
        self.sync_consumers(tickets);
    }

    /// Handles a request on `subject`; `None` if the subject is not an API endpoint here.
    pub fn request(&mut self, subject: &str, body: &[u8], now: i64) -> Option<Vec<u8>> {
        let endpoint = subject.strip_prefix(API_PREFIX)?;
        let (kind, result) = match endpoint
            .split_once('.')
            .map_or((endpoint, ""), |(a, b)| (a, b))
        {
            ("INFO", "") => (types::response_type::ACCOUNT_INFO, self.account_info()),
            ("STREAM", rest) => match rest.split_once('.').map_or((rest, ""), |(a, b)| (a, b)) {
                ("CREATE", name) if !name.is_empty() => (
                    types::response_type::STREAM_CREATE,
                    self.create_stream(name, body, now),
                ),
                ("INFO", name) if !name.is_empty() => {
                    (types::response_type::STREAM_INFO, self.stream_info(name))
                }
                ("DELETE", name) if !name.is_empty() => (
                    types::response_type::STREAM_DELETE,
                    self.delete_stream(name),
                ),
                ("NAMES", "") => (types::response_type::STREAM_NAMES, self.stream_names(body)),
                ("LIST", "") => (types::response_type::STREAM_LIST, self.stream_list(body)),
                _ => return None,
            },
            ("CONSUMER", rest) => self.consumer_request(rest, body, now)?,
            _ => return None,
        };
        self.stats.total += 1;
        Some(match result {
            Ok(response) => with_type(kind, response),
            Err(error) => {
                self.stats.errors += 1;
                serde_json::to_vec(&ErrorResponse {
                    kind,
                    error: error.to_api_error(),
                })
                .unwrap_or_default()
            }
        })
    }

    /// The stream whose subjects match a published subject, if any.
    pub fn stream_for_subject(&mut self, subject: &str) -> Option<&mut Stream> {
        self.entry_for_subject(subject)
            .map(|entry| &mut entry.stream)
    }

    /// The stream (with its consumers) whose subjects match a published subject.
    fn entry_for_subject(&mut self, subject: &str) -> Option<&mut StreamEntry> {
        self.streams.values_mut().find(|entry| {
            entry
                .stream
                .config()
                .subjects
                .iter()
                .any(|filter| natrium_subject::matches(filter.as_bytes(), subject.as_bytes()))
        })
    }

    /// The number of streams.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Consumer limits from the account (the server's `max_ack_pending` and
    /// `max_request_batch` are not configurable yet).
    fn consumer_limits(&self) -> ConsumerLimits {
        ConsumerLimits {
            account_max_ack_pending: self.limits.max_ack_pending,
            ..ConsumerLimits::default()
        }
    }
}

/// The response body with its `type` field.
fn with_type(kind: &str, body: serde_json::Value) -> Vec<u8> {
    let mut object = match body {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    object.insert("type".to_string(), kind.into());
    serde_json::to_vec(&object).unwrap_or_default()
}

/// Serializes a response body; failures cannot happen for these plain types.
fn to_value(body: impl Serialize) -> Result<serde_json::Value, JsError> {
    serde_json::to_value(body).map_err(|_| JsError::BadRequest)
}

#[cfg(test)]
mod tests;
