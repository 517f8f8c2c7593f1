//! One account's JetStream: its streams, and the `$JS.API` requests and stream publishes the
//! engine hands it. Answers, advisories and PubAcks come out as [`Outbound`] messages.
//!
//! Endpoints live one concern per file: `account.rs` (INFO), `streams.rs` (CREATE, UPDATE,
//! DELETE), `listing.rs` (INFO, NAMES, LIST), `messages.rs` (PURGE, MSG.GET, MSG.DELETE),
//! `direct.rs` (DIRECT.GET), `snapshot.rs` and `restore.rs` (SNAPSHOT, RESTORE and their chunk
//! transfers, over the archive format of `archive.rs`), with `limits.rs` (account limits), `request.rs` (reading bodies
//! as Go does) and `advisory.rs`.
//!
//! Stream templates (`STREAM.TEMPLATE.*`) are not endpoints: nats-server deprecated them and
//! 2.14 removed them, after which such a request gets no answer at all; Natrium answers as a
//! current nats-server does.

mod account;
pub use account::Usage;
pub mod advisory;
mod archive;
mod consumer_messages;
mod consumers;
mod direct;
mod disabled;
pub use disabled::not_enabled_answer;
mod limits;
mod listing;
mod messages;
mod monitor;
mod request;
mod restore;
mod snapshot;
mod sourcing;
mod streams;
pub mod types;

use crate::consumer::advisory::IdGenerator;
use crate::consumer::check::ConsumerLimits;
use crate::consumer::set::Consumers;
use crate::engine::{Inbound, Outbound};
use crate::errors::JsError;
use crate::stream::check::ServerLimits;
use crate::stream::Stream;
use advisory::Advisories;
use natrium_store::{MessageStore, StoreError, SyncTicket};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use types::{response_type, AccountLimits, ApiStats, ErrorResponse};

pub use crate::provider::{MemoryStores, RecoveredStream, StoreProvider};

/// The prefix of every JetStream API subject.
pub const API_PREFIX: &str = "$JS.API.";

/// The reply subject [`JetStreamApi::request`] answers on.
const REQUEST_REPLY: &str = "_INBOX.request";

/// The server name API audits carry when none was set.
const SERVER_NAME_DEFAULT: &str = "natrium";

/// A stream, when it was created, and its consumers.
pub(crate) struct StreamEntry {
    pub stream: Stream,
    pub created: i64,
    pub consumers: Consumers,
}

/// How nats-server accounts for an answer: `sendAPIResponse` (counted, audited),
/// `sendAPIErrResponse` (counted as an error, audited), or a plain send (neither; MSG.GET's
/// success).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tracking {
    Success,
    Error,
    Untracked,
}

/// What one endpoint answers.
pub(crate) enum Answer {
    /// A JSON response.
    Json { body: Vec<u8>, tracking: Tracking },
    /// A message with headers (direct get), or a status-only header block.
    Message { headers: Vec<u8>, payload: Vec<u8> },
}

/// One account's JetStream: its streams, limits and API counters.
pub struct JetStreamApi<P> {
    provider: P,
    streams: BTreeMap<String, StreamEntry>,
    limits: AccountLimits,
    server_limits: ServerLimits,
    domain: Option<String>,
    server_name: String,
    stats: ApiStats,
    advisories: Advisories,
    /// Bumped whenever the set of stream or consumer subjects changes.
    interest_generation: u64,
    /// Advisory ids and generated names.
    ids: IdGenerator,
    /// What consumers produced since the engine last drained it.
    outbox: Vec<Outbound>,
    /// The account's name as the engine keys it, given to deliveries as they are made.
    account: Arc<str>,
    /// How far each mirror and source stream has copied its origins.
    sourcing: BTreeMap<String, sourcing::StreamSourcing>,
    /// Snapshots being sent and restores being received.
    transfers: archive::Transfers,
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
            server_name: SERVER_NAME_DEFAULT.to_string(),
            stats: ApiStats::default(),
            advisories: Advisories::default(),
            interest_generation: 0,
            ids: IdGenerator::default(),
            outbox: Vec::new(),
            account: Outbound::unassigned_account(),
            sourcing: BTreeMap::new(),
            transfers: archive::Transfers::default(),
        }
    }

    /// Names the account, so that its consumers' deliveries carry it from the start.
    pub fn with_account(mut self, account: &Arc<str>) -> Self {
        self.account = Arc::clone(account);
        self
    }

    /// Names the server in API audits (nats-server's `server_name`, or its id).
    pub fn with_server_name(mut self, name: &str) -> Self {
        if !name.is_empty() {
            self.server_name = name.to_string();
        }
        self
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

    /// Handles one message for this account: an API request (`subject` in the `$JS.API.`
    /// form) or a publish to a stream subject. Replies, PubAcks and advisories go to `out`.
    pub fn handle(&mut self, message: Inbound<'_>, now: i64, out: &mut Vec<Outbound>) {
        if self.transfer_message(&message, now, out) {
            return;
        }
        if let Some(endpoint) = message.subject.strip_prefix(API_PREFIX) {
            self.handle_request(endpoint, message, now, out);
        } else if let Some(ack) =
            self.publish(message.subject, message.headers, message.payload, now)
        {
            if let Some(reply) = message.reply {
                out.push(Outbound::reply(message.account, reply, ack));
            }
        }
    }

    fn handle_request(
        &mut self,
        endpoint: &str,
        message: Inbound<'_>,
        now: i64,
        out: &mut Vec<Outbound>,
    ) {
        let answer = match self.transfer_request(endpoint, &message, now) {
            Some(answer) => Some(answer),
            None => self.dispatch(endpoint, message.payload, now),
        };
        let Some(answer) = answer else {
            return;
        };
        match answer {
            Answer::Json { body, tracking } => {
                match tracking {
                    Tracking::Success => self.stats.total += 1,
                    Tracking::Error => {
                        self.stats.total += 1;
                        self.stats.errors += 1;
                    }
                    Tracking::Untracked => {}
                }
                if tracking != Tracking::Untracked {
                    self.advisories.api_audit(
                        &self.server_name,
                        message.account,
                        message.subject,
                        message.payload,
                        &body,
                        self.domain.as_deref(),
                        now,
                    );
                }
                if let Some(reply) = message.reply {
                    out.push(Outbound::reply(message.account, reply, body));
                }
            }
            Answer::Message { headers, payload } => {
                if let Some(reply) = message.reply {
                    let mut answer = Outbound::reply(message.account, reply, payload);
                    answer.headers = headers.into();
                    out.push(answer);
                }
            }
        }
        for (subject, body) in self.advisories.drain() {
            out.push(Outbound::reply(message.account, &subject, body));
        }
    }

    /// Handles an API request and returns the body of its reply; `None` if the subject is not
    /// an endpoint here. Advisories it raises are dropped (tests and tools).
    pub fn request(&mut self, subject: &str, body: &[u8], now: i64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let account = Outbound::unassigned_account();
        let message = Inbound {
            account: &account,
            subject,
            reply: Some(REQUEST_REPLY),
            headers: b"",
            payload: body,
        };
        self.handle(message, now, &mut out);
        out.into_iter()
            .find(|sent| &*sent.deliver == REQUEST_REPLY)
            .map(|sent| sent.payload.to_vec())
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
        let random = crate::stream::transform::random_from(now);
        let transformed =
            crate::stream::transform::for_stream(entry.stream.config(), subject, random);
        let subject = transformed.as_deref().unwrap_or(subject);
        let republish = crate::stream::republish::Republish::prepare(
            entry.stream.config(),
            entry.stream.store(),
            subject,
            random,
        );
        let mut republished = None;
        let ack = match entry.stream.publish(subject, headers, payload, now) {
            Ok(published) => {
                if let crate::stream::Published::Stored(seq) = published {
                    Self::stored(entry, seq, subject);
                    republished = republish
                        .map(|republish| republish.message(&name, subject, seq, headers, payload));
                }
                crate::stream::pub_ack(&name, domain.as_deref(), published)
            }
            Err(error) => crate::stream::pub_ack_error(&name, &error),
        };
        self.outbox.extend(republished);
        Some(ack)
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

    /// Removes messages past their stream's `max_age` at `now`. Cheap when nothing is due:
    /// each store knows its next expiry.
    pub fn expire(&mut self, now: i64) {
        for entry in self.streams.values_mut() {
            let store = entry.stream.store_mut();
            if store.next_expiry().is_some_and(|due| due <= now) {
                if let Err(e) = store.expire(now) {
                    tracing::error!("JetStream: expiring {:?}: {e}", entry.stream.config().name);
                }
            }
        }
    }

    /// Routes an endpoint (the subject after `$JS.API.`) to its handler; `None` when no
    /// endpoint has that subject, which nats-server leaves unanswered.
    fn dispatch(&mut self, endpoint: &str, body: &[u8], now: i64) -> Option<Answer> {
        let (group, rest) = split_token(endpoint);
        let (kind, result) = match (group, rest) {
            ("INFO", "") => (response_type::ACCOUNT_INFO, self.account_info()),
            ("DIRECT", rest) => {
                let (get, target) = split_token(rest);
                return (get == "GET")
                    .then(|| self.direct_get(target, body))
                    .flatten();
            }
            ("STREAM", rest) => {
                let (action, name) = split_token(rest);
                match (action, name) {
                    ("NAMES", "") => (response_type::STREAM_NAMES, self.stream_names(body)),
                    ("LIST", "") => (response_type::STREAM_LIST, self.stream_list(body)),
                    ("MSG", rest) => {
                        let (operation, name) = split_token(rest);
                        let name = single_token(name)?;
                        return match operation {
                            "GET" => Some(self.msg_get(name, body)),
                            "DELETE" => Some(json_answer(
                                response_type::STREAM_MSG_DELETE,
                                self.msg_delete(name, body),
                            )),
                            _ => None,
                        };
                    }
                    (action, name) => {
                        let name = single_token(name)?;
                        match action {
                            "CREATE" => (
                                response_type::STREAM_CREATE,
                                self.create_stream(name, body, now),
                            ),
                            "UPDATE" => (
                                response_type::STREAM_UPDATE,
                                self.update_stream(name, body, now),
                            ),
                            "INFO" => (response_type::STREAM_INFO, self.stream_info(name, body)),
                            "DELETE" => (
                                response_type::STREAM_DELETE,
                                self.delete_stream(name, body, now),
                            ),
                            "PURGE" => (response_type::STREAM_PURGE, self.purge_stream(name, body)),
                            _ => return None,
                        }
                    }
                }
            }
            ("CONSUMER", rest) => self.consumer_request(rest, body, now)?,
            _ => return None,
        };
        Some(json_answer(kind, result))
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

    /// The store of the stream called `name`, if any (another account's sources read it).
    pub fn stream(&self, name: &str) -> Option<&dyn MessageStore> {
        self.streams.get(name).map(|entry| entry.stream.store())
    }

    /// The stream called `name`, if any.
    pub fn stream_mut(&mut self, name: &str) -> Option<&mut Stream> {
        self.streams.get_mut(name).map(|entry| &mut entry.stream)
    }

    /// The store provider (e.g. to report the streams recovery skipped).
    pub fn provider(&self) -> &P {
        &self.provider
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

/// The first token of `subject` and the rest after its dot (empty when there is none).
fn split_token(subject: &str) -> (&str, &str) {
    subject.split_once('.').unwrap_or((subject, ""))
}

/// `name` when it is one non-empty token, as a `*` in nats-server's subscriptions matches.
fn single_token(name: &str) -> Option<&str> {
    (!name.is_empty() && !name.contains('.')).then_some(name)
}

/// A JSON answer counted as nats-server counts it: errors as errors.
fn json_answer(kind: &str, result: Result<serde_json::Value, JsError>) -> Answer {
    match result {
        Ok(response) => Answer::Json {
            body: with_type(kind, response),
            tracking: Tracking::Success,
        },
        Err(error) => Answer::Json {
            body: error_body(kind, &error),
            tracking: Tracking::Error,
        },
    }
}

/// `{"type": kind, "error": {...}}`.
fn error_body(kind: &str, error: &JsError) -> Vec<u8> {
    serde_json::to_vec(&ErrorResponse {
        kind,
        error: error.to_api_error(),
    })
    .unwrap_or_default()
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
