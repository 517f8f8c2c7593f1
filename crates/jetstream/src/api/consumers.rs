//! Consumer endpoints: CREATE (ephemeral, named with `action`, with a filter in the
//! subject), DURABLE.CREATE, DELETE, INFO, NAMES, LIST and LEADER.STEPDOWN, as nats-server's
//! `jsConsumerCreateRequest` and friends answer them on a single server.

use super::types::{response_type, Paged};
use super::{to_value, JetStreamApi, StoreProvider, StreamEntry};
use crate::consumer::check::{check_config, check_update, set_defaults, NAME_LEN_MAX};
use crate::consumer::config::{
    AckPolicy, ConsumerAction, ConsumerConfig, CreateConsumerRequest, DeliverPolicy,
};
use crate::consumer::storage::{ConsumerStorage, MemoryConsumerStorage};
use crate::consumer::{advisory::AdvisoryKind, Consumer, Context, Start};
use crate::errors::JsError;
use crate::stream::check::is_valid_name;
use crate::stream::config::RetentionPolicy;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The most names one NAMES response carries.
const NAMES_LIMIT: usize = 1024;
/// The most consumers one LIST response carries.
const LIST_LIMIT: usize = 256;

/// What a CREATE subject says about the consumer.
enum CreateKind<'a> {
    /// `CREATE.<stream>`: a generated name.
    LegacyEphemeral,
    /// `DURABLE.CREATE.<stream>.<durable>`.
    LegacyDurable(&'a str),
    /// `CREATE.<stream>.<name>[.<filter>]`.
    Named(&'a str, Option<String>),
}

/// The optional body of NAMES and LIST.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PagedRequest {
    offset: usize,
}

/// `(response type, result)` of one consumer endpoint.
pub(super) type Answer = (&'static str, Result<serde_json::Value, JsError>);

impl<P: StoreProvider> JetStreamApi<P> {
    /// Handles `$JS.API.CONSUMER.<rest>`; `None` when no endpoint matches (MSG.NEXT is a
    /// consumer message, not an API request: see [`JetStreamApi::consumer_message`]).
    pub(super) fn consumer_request(&mut self, rest: &str, body: &[u8], now: i64) -> Option<Answer> {
        let tokens: Vec<&str> = rest.split('.').collect();
        Some(match tokens.as_slice() {
            ["CREATE", stream] => (
                response_type::CONSUMER_CREATE,
                self.create_consumer(stream, CreateKind::LegacyEphemeral, body, now),
            ),
            ["CREATE", stream, name, filter @ ..] => {
                let filter = (!filter.is_empty()).then(|| filter.join("."));
                (
                    response_type::CONSUMER_CREATE,
                    self.create_consumer(stream, CreateKind::Named(name, filter), body, now),
                )
            }
            ["DURABLE", "CREATE", rest @ ..] => (
                response_type::CONSUMER_CREATE,
                match rest {
                    [stream, durable] => {
                        self.create_consumer(stream, CreateKind::LegacyDurable(durable), body, now)
                    }
                    _ => Err(JsError::ConsumerDurableNameNotInSubject),
                },
            ),
            ["DELETE", stream, name] => (
                response_type::CONSUMER_DELETE,
                self.delete_consumer(stream, name, body, now),
            ),
            ["INFO", stream, name] => (
                response_type::CONSUMER_INFO,
                self.consumer_info(stream, name, body),
            ),
            ["NAMES", stream] => (
                response_type::CONSUMER_NAMES,
                self.consumer_names(stream, body),
            ),
            ["LIST", stream] => (
                response_type::CONSUMER_LIST,
                self.consumer_list(stream, body),
            ),
            // A single server has no consumer leaders to step down.
            ["LEADER", "STEPDOWN", _, _] => (
                response_type::CONSUMER_LEADER_STEPDOWN,
                Err(JsError::ClusterRequired),
            ),
            _ => return None,
        })
    }

    fn create_consumer(
        &mut self,
        stream_name: &str,
        kind: CreateKind<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        let request: CreateConsumerRequest =
            serde_json::from_slice(body).map_err(|_| JsError::InvalidJson)?;
        if request.stream_name != stream_name {
            return Err(JsError::StreamMismatch);
        }
        let mut config = request.config;
        let subject_name = match &kind {
            CreateKind::LegacyEphemeral => None,
            CreateKind::LegacyDurable(name) | CreateKind::Named(name, _) => Some(*name),
        };
        if subject_name.is_some_and(|name| name.contains(['/', '\\'])) {
            return Err(JsError::ConsumerNameContainsPathSeparators);
        }
        match &kind {
            CreateKind::LegacyDurable(name) => {
                if config.durable_name.is_empty() {
                    return Err(JsError::ConsumerDurableNameNotSet);
                }
                if config.durable_name != *name {
                    return Err(JsError::ConsumerDurableNameNotMatchSubject);
                }
            }
            CreateKind::Named(name, filter) => {
                if config.is_durable() && config.durable_name != *name {
                    return Err(JsError::ConsumerDurableNameNotMatchSubject);
                }
                config.name = name.to_string();
                if let Some(filter) = filter {
                    if !config.filter_subjects.is_empty() {
                        return Err(JsError::ConsumerMultipleFiltersNotAllowed);
                    }
                    if &config.filter_subject != filter {
                        return Err(JsError::ConsumerCreateFilterSubjectMismatch);
                    }
                }
            }
            CreateKind::LegacyEphemeral => {
                if config.is_durable() {
                    return Err(JsError::ConsumerEphemeralWithDurableName);
                }
            }
        }
        if config.num_replicas > 1 {
            return Err(JsError::StreamReplicasNotSupported);
        }
        let limits = self.consumer_limits();
        let account_max_consumers = self.limits.max_consumers;
        let entry = entry_mut(&mut self.streams, stream_name)?;
        let stream_config = entry.stream.config().clone();
        set_defaults(&mut config, &limits);
        check_config(&config, &stream_config, &limits)?;

        let existing_name = if config.is_durable() {
            Some(config.durable_name.clone())
        } else {
            Some(config.name.clone()).filter(|name| !name.is_empty())
        };
        if let Some(name) = &existing_name {
            if entry.consumers.get(name).is_some() {
                return update_consumer(entry, name, config, request.action);
            }
        }
        if request.action == ConsumerAction::Update {
            return Err(JsError::ConsumerDoesNotExist);
        }
        let mut max_consumers = stream_config.max_consumers;
        if max_consumers <= 0
            || (account_max_consumers > 0 && account_max_consumers < max_consumers)
        {
            max_consumers = account_max_consumers;
        }
        if max_consumers > 0 && entry.consumers.len() as i64 >= max_consumers {
            return Err(JsError::MaximumConsumersLimit);
        }
        if stream_config.retention == RetentionPolicy::WorkQueue && !config.direct {
            if config.ack_policy != AckPolicy::Explicit {
                return Err(JsError::ConsumerWorkQueueRequiresExplicitAck);
            }
            if !entry.consumers.is_empty() {
                let filters = config.filters();
                if filters.is_empty() {
                    return Err(JsError::ConsumerWorkQueueMultipleUnfiltered);
                }
                let name = existing_name.as_deref().unwrap_or_default();
                if !entry.consumers.partition_unique(name, &filters) {
                    return Err(JsError::ConsumerWorkQueueNotUnique);
                }
            }
            if config.deliver_policy != DeliverPolicy::All {
                return Err(JsError::ConsumerWorkQueueNotDeliverAll);
            }
        }
        let name = match existing_name {
            Some(name) => name,
            None => loop {
                // Legacy ephemerals get a generated name; retry the rare collision.
                let name = self.ids.token(now, 8);
                if entry.consumers.get(&name).is_none() {
                    config.name = name.clone();
                    break name;
                }
            },
        };
        if config.is_durable() && name.len() > NAME_LEN_MAX {
            return Err(JsError::ConsumerNameTooLong(NAME_LEN_MAX));
        }
        if !is_valid_name(&name) {
            return Err(JsError::ConsumerBadDurableName);
        }
        let storage: Box<dyn ConsumerStorage> = if config.is_durable() && !config.mem_storage {
            let mut storage = self
                .provider
                .open_consumer(&stream_config, &name, &config, now)
                .map_err(|e| JsError::ConsumerStoreFailed(e.to_string()))?;
            storage
                .save_config(&config, now)
                .map_err(|e| JsError::ConsumerStoreFailed(e.to_string()))?;
            storage
        } else {
            Box::<MemoryConsumerStorage>::default()
        };
        let start = Start {
            name: name.clone(),
            config,
            created: now,
            state: None,
            storage,
        };
        let consumer = Consumer::new(
            start,
            stream_name,
            stream_config.retention,
            entry.stream.store(),
            Some(now),
        );
        entry.consumers.insert(consumer);
        self.interest_generation += 1;
        let mut context =
            Context::new(now, self.domain.as_deref(), &mut self.ids, &mut self.outbox)
                .in_account(&self.account);
        context.advise(stream_name, &name, AdvisoryKind::Created);
        consumer_info_body(entry, &name)
    }

    fn delete_consumer(
        &mut self,
        stream_name: &str,
        name: &str,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        if !is_empty_request(body) {
            return Err(JsError::NotEmptyRequest);
        }
        let entry = entry_mut(&mut self.streams, stream_name)?;
        let mut context =
            Context::new(now, self.domain.as_deref(), &mut self.ids, &mut self.outbox)
                .in_account(&self.account);
        if !entry
            .consumers
            .delete(name, &mut entry.stream, &mut context)
        {
            return Err(JsError::ConsumerNotFound);
        }
        self.interest_generation += 1;
        Ok(serde_json::json!({ "success": true }))
    }

    fn consumer_info(
        &mut self,
        stream_name: &str,
        name: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, JsError> {
        if !is_empty_request(body) {
            return Err(JsError::NotEmptyRequest);
        }
        let entry = entry_mut(&mut self.streams, stream_name)?;
        consumer_info_body(entry, name)
    }

    fn consumer_names(&self, stream_name: &str, body: &[u8]) -> Result<serde_json::Value, JsError> {
        let request = paged_request(body)?;
        let entry = self
            .streams
            .get(stream_name)
            .ok_or(JsError::StreamNotFound)?;
        let total = entry.consumers.len();
        let offset = request.offset.min(total);
        let names: Vec<&String> = entry
            .consumers
            .names()
            .skip(offset)
            .take(NAMES_LIMIT)
            .collect();
        let mut response = to_value(Paged {
            total,
            offset,
            limit: NAMES_LIMIT,
        })?;
        response["consumers"] = to_value(names)?;
        Ok(response)
    }

    fn consumer_list(
        &mut self,
        stream_name: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, JsError> {
        let request = paged_request(body)?;
        let entry = entry_mut(&mut self.streams, stream_name)?;
        let total = entry.consumers.len();
        let offset = request.offset.min(total);
        let StreamEntry {
            stream, consumers, ..
        } = entry;
        let infos: Vec<_> = consumers
            .iter_mut()
            .skip(offset)
            .take(LIST_LIMIT)
            .map(|consumer| consumer.info(stream.store()))
            .collect();
        let mut response = to_value(Paged {
            total,
            offset,
            limit: LIST_LIMIT,
        })?;
        response["consumers"] = to_value(infos)?;
        Ok(response)
    }
}

/// A stream by name, or nats-server's stream-not-found error.
fn entry_mut<'a>(
    streams: &'a mut BTreeMap<String, StreamEntry>,
    stream_name: &str,
) -> Result<&'a mut StreamEntry, JsError> {
    streams.get_mut(stream_name).ok_or(JsError::StreamNotFound)
}

/// Applies a create request to an existing consumer (`updateConfig`).
fn update_consumer(
    entry: &mut StreamEntry,
    name: &str,
    config: ConsumerConfig,
    action: ConsumerAction,
) -> Result<serde_json::Value, JsError> {
    let retention = entry.stream.config().retention;
    let Some(existing) = entry.consumers.get(name) else {
        return Err(JsError::ConsumerDoesNotExist);
    };
    if action == ConsumerAction::Create && existing.config() != &config {
        return Err(JsError::ConsumerAlreadyExists);
    }
    if retention == RetentionPolicy::WorkQueue
        && !entry.consumers.partition_unique(name, &config.filters())
    {
        return Err(JsError::ConsumerWorkQueueNotUnique);
    }
    let bound = existing.is_push_bound();
    check_update(existing.config(), &config, bound)?;
    if let Some(consumer) = entry.consumers.get_mut(name) {
        consumer
            .update_config(config, entry.stream.store())
            .map_err(|e| JsError::ConsumerCreate(e.to_string()))?;
    }
    consumer_info_body(entry, name)
}

/// The consumer's info as a response body.
fn consumer_info_body(entry: &mut StreamEntry, name: &str) -> Result<serde_json::Value, JsError> {
    let consumer = entry
        .consumers
        .get_mut(name)
        .ok_or(JsError::ConsumerNotFound)?;
    to_value(consumer.info(entry.stream.store()))
}

/// No body, or an empty JSON object, is no request (`isEmptyRequest`).
fn is_empty_request(body: &[u8]) -> bool {
    body.is_empty()
        || matches!(
            serde_json::from_slice::<serde_json::Value>(body),
            Ok(serde_json::Value::Object(map)) if map.is_empty()
        )
}

/// An empty body means no options; anything else must be the request JSON.
fn paged_request(body: &[u8]) -> Result<PagedRequest, JsError> {
    if is_empty_request(body) {
        return Ok(PagedRequest::default());
    }
    serde_json::from_slice(body).map_err(|_| JsError::InvalidJson)
}
