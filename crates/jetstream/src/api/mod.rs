//! The `$JS.API` request handler: one request subject and body in, one response body out.
//! The server subscribes it to `$JS.API.>` (and `$JS.<domain>.API.>`) and sends the reply.

mod account;
mod streams;
pub mod types;

use crate::errors::JsError;
use crate::stream::check::ServerLimits;
use crate::stream::Stream;
use natrium_store::{StoreError, SyncTicket};
use serde::Serialize;
use std::collections::BTreeMap;
use types::{AccountLimits, ApiStats, ErrorResponse};

pub use crate::provider::{MemoryStores, RecoveredStream, StoreProvider};

/// The prefix of every JetStream API subject.
pub const API_PREFIX: &str = "$JS.API.";

/// A stream and when it was created.
pub(crate) struct StreamEntry {
    pub stream: Stream,
    pub created: i64,
}

/// One account's JetStream: its streams, limits and API counters.
pub struct JetStreamApi<P> {
    provider: P,
    streams: BTreeMap<String, StreamEntry>,
    limits: AccountLimits,
    server_limits: ServerLimits,
    domain: Option<String>,
    stats: ApiStats,
    /// Bumped whenever the set of stream subjects changes.
    interest_generation: u64,
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
        }
    }

    /// Opens every stream the provider kept from before.
    pub fn recover(&mut self) -> Result<(), StoreError> {
        for recovered in self.provider.recover()? {
            let name = recovered.config.name.clone();
            let stream = Stream::new(recovered.config, recovered.store);
            self.streams.insert(
                name,
                StreamEntry {
                    stream,
                    created: recovered.created,
                },
            );
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
        let stream = self.stream_for_subject(subject)?;
        let name = stream.config().name.clone();
        Some(match stream.publish(subject, headers, payload, now) {
            Ok(published) => crate::stream::pub_ack(&name, domain.as_deref(), published),
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
        self.streams
            .values_mut()
            .map(|entry| &mut entry.stream)
            .find(|stream| {
                stream
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

    /// The stream called `name`, if any.
    pub fn stream_mut(&mut self, name: &str) -> Option<&mut Stream> {
        self.streams.get_mut(name).map(|entry| &mut entry.stream)
    }

    /// The store provider (e.g. to report the streams recovery skipped).
    pub fn provider(&self) -> &P {
        &self.provider
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
