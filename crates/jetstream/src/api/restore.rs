//! `$JS.API.STREAM.RESTORE.<stream>`, as nats-server 2.9's `jsStreamRestoreRequest` and
//! `processStreamRestore` answer it: the request's `{config, state}` is checked up front and
//! the reply names a `deliver_subject` (`$JS.SNAPSHOT.RESTORE.<stream>.<id>`). The client
//! sends the archive there in chunks, each with a reply subject the engine answers with an
//! empty message; an empty chunk ends it, and its reply gets a `stream_create_response`: the
//! restored stream's info, or the error.
//!
//! Chunks are staged where the provider says (a file beside the account's streams, or memory;
//! bounded by the server's file storage limit, as nats-server bounds its staging file) and
//! the stream is rebuilt from them at the end, read back in order: the store with its
//! sequences and times, then its durable consumers with their states. A transfer with no chunk
//! for 5 s is dropped, as nats-server drops a stalled restore.

use super::archive::{self, TransferEvent, RESTORE_DELIVER_PREFIX};
use super::request::{is_empty_request, parse};
use super::types::response_type;
use super::{JetStreamApi, StoreProvider, StreamEntry};
use crate::consumer::storage::{ConsumerStorage, MemoryConsumerStorage};
use crate::consumer::{Consumer, Start};
use crate::engine::{Inbound, Outbound};
use crate::errors::JsError;
use crate::provider::Staging;
use crate::stream::check::check_stream_config;
use crate::stream::config::StreamConfig;
use crate::stream::Stream;
use serde::Deserialize;

/// A restore with no chunk for this long is dropped (nats-server's `activityInterval`).
const STALL_NANOS: i64 = 5_000_000_000;

/// The body of a RESTORE request; `state` is informational.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RestoreRequest {
    config: StreamConfig,
}

/// A restore being received.
pub(crate) struct RestoreSession {
    stream: String,
    account: String,
    deliver: String,
    staged: Staging,
    staged_bytes_max: u64,
    started: i64,
    last_activity: i64,
}

impl RestoreSession {
    /// Where the chunks arrive.
    pub(super) fn deliver(&self) -> &str {
        &self.deliver
    }

    /// When the transfer counts as stalled.
    pub(super) fn deadline(&self) -> i64 {
        self.last_activity + STALL_NANOS
    }
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// Checks a RESTORE request and opens the subject its chunks go to.
    pub(super) fn restore_request(
        &mut self,
        name: &str,
        message: &Inbound<'_>,
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        if is_empty_request(message.payload) {
            return Err(JsError::BadRequest);
        }
        let mut request: RestoreRequest = parse(message.payload)?;
        if request.config.name.is_empty() {
            request.config.name = name.to_string();
        }
        if request.config.name != name {
            return Err(JsError::StreamMismatch);
        }
        let mut config = check_stream_config(&request.config, &self.server_limits)?;
        self.check_with_account(&mut config)?;
        if self.limits.max_streams > 0 && self.streams.len() as i64 >= self.limits.max_streams {
            return Err(JsError::MaximumStreamsLimit);
        }
        let reserved = self.reserved_bytes(config.storage, name);
        self.check_limits(&config, config.max_bytes, reserved)?;
        let restoring = self.transfers.restores.iter().any(|r| r.stream == name);
        if self.streams.contains_key(name) || restoring {
            return Err(JsError::StreamNameExistRestoreFailed);
        }
        let staged = self
            .provider
            .staging()
            .map_err(|e| JsError::StreamRestore(e.to_string()))?;
        let deliver = format!("{RESTORE_DELIVER_PREFIX}{name}.{}", self.ids.next_id(now));
        let staged_bytes_max = self
            .server_limits
            .max_storage_bytes
            .and_then(|bytes| u64::try_from(bytes).ok())
            .filter(|&bytes| bytes > 0)
            .unwrap_or(u64::MAX);
        self.transfers.restores.push(RestoreSession {
            stream: name.to_string(),
            account: message.account.to_string(),
            deliver: deliver.clone(),
            staged,
            staged_bytes_max,
            started: now,
            last_activity: now,
        });
        self.interest_generation += 1;
        self.advisories.transfer(
            TransferEvent::RestoreCreate,
            name,
            message.account,
            self.domain.as_deref(),
            now,
        );
        Ok(serde_json::json!({ "deliver_subject": deliver }))
    }

    /// One chunk on a restore's deliver subject: staged and acked, or (empty) the end.
    pub(super) fn restore_chunk(
        &mut self,
        message: &Inbound<'_>,
        now: i64,
        out: &mut Vec<Outbound>,
    ) {
        let Some(at) = self
            .transfers
            .restores
            .iter()
            .position(|session| session.deliver == message.subject)
        else {
            return;
        };
        let Some(reply) = message.reply else {
            // Every chunk needs a reply subject to hear back on; without one, give up.
            self.end_restore(at, now);
            return;
        };
        let session = &mut self.transfers.restores[at];
        session.last_activity = now;
        if !message.payload.is_empty() {
            let over =
                session.staged.len() + message.payload.len() as u64 > session.staged_bytes_max;
            let failed = if over {
                Some(JsError::InsufficientResources)
            } else {
                let staged = session.staged.append(message.payload);
                staged.err().map(|e| JsError::StreamRestore(e.to_string()))
            };
            if let Some(error) = failed {
                self.end_restore(at, now);
                let body = super::error_body(response_type::STREAM_CREATE, &error);
                out.push(Outbound::reply(message.account, reply, body));
                return;
            }
            out.push(Outbound::reply(message.account, reply, Vec::new()));
            return;
        }
        let session = self.end_restore(at, now);
        let result = self.rebuild(&session, now);
        let body = super::json_answer(response_type::STREAM_CREATE, result);
        if let super::Answer::Json { body, .. } = body {
            out.push(Outbound::reply(message.account, reply, body));
        }
    }

    /// Drops restores that stalled.
    pub(super) fn tick_restores(&mut self, now: i64) {
        while let Some(at) = self
            .transfers
            .restores
            .iter()
            .position(|session| now >= session.deadline())
        {
            self.end_restore(at, now);
        }
    }

    /// Closes a restore's subject and announces its end.
    fn end_restore(&mut self, at: usize, now: i64) -> RestoreSession {
        let session = self.transfers.restores.remove(at);
        self.interest_generation += 1;
        self.advisories.transfer(
            TransferEvent::RestoreComplete {
                start: session.started,
                bytes: session.staged.len(),
            },
            &session.stream,
            &session.account,
            self.domain.as_deref(),
            now,
        );
        session
    }

    /// Rebuilds the stream and its durable consumers from a received archive.
    fn rebuild(
        &mut self,
        session: &RestoreSession,
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        let name = session.stream.as_str();
        let mut input = session.staged.reader();
        let archive =
            archive::read(&mut input, session.staged.len()).map_err(JsError::StreamRestore)?;
        if archive.meta.config.name != name {
            return Err(JsError::StreamRestore(format!(
                "snapshot is of stream {:?}",
                archive.meta.config.name
            )));
        }
        if self.streams.contains_key(name) {
            return Err(JsError::StreamNameExistRestoreFailed);
        }
        let mut config = check_stream_config(&archive.meta.config, &self.server_limits)?;
        self.check_with_account(&mut config)?;
        if self.overlaps_other_streams(&config) {
            return Err(JsError::StreamSubjectOverlap);
        }
        let created = archive.meta.created;
        let store = self
            .provider
            .restore(&config, created, &mut input)
            .map_err(|e| JsError::StreamRestore(e.to_string()))?;
        let mut entry = StreamEntry {
            stream: Stream::new(config, store),
            created,
            consumers: Default::default(),
        };
        let stream_config = entry.stream.config().clone();
        for (archived, state) in archive.meta.consumers.into_iter().zip(archive.states) {
            let storage: Box<dyn ConsumerStorage> =
                if archived.config.is_durable() && !archived.config.mem_storage {
                    self.provider
                        .open_consumer(&stream_config, &archived.name, &archived.config, created)
                        .and_then(|mut storage| {
                            storage.save_config(&archived.config, archived.created)?;
                            storage.save_state(&state)?;
                            Ok(storage)
                        })
                        .map_err(|e| JsError::StreamRestore(e.to_string()))?
                } else {
                    Box::<MemoryConsumerStorage>::default()
                };
            let start = Start {
                name: archived.name,
                config: archived.config,
                created: archived.created,
                state: Some(state),
                storage,
            };
            let consumer = Consumer::new(
                start,
                name,
                stream_config.retention,
                entry.stream.store(),
                Some(now),
            );
            entry.consumers.insert(consumer);
        }
        self.streams.insert(name.to_string(), entry);
        self.interest_generation += 1;
        self.info_body(name, false)
    }
}
