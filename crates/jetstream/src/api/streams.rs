//! Stream endpoints: CREATE, INFO, DELETE, NAMES and LIST, as nats-server's
//! `jsStreamCreateRequest` and friends answer them on a single server.

use super::types::{Paged, StreamInfo, StreamStateJson};
use super::{to_value, JetStreamApi, StoreProvider, StreamEntry};
use crate::errors::JsError;
use crate::stream::check::check_stream_config;
use crate::stream::config::StreamConfig;
use crate::stream::Stream;
use natrium_gofmt::rfc3339_or_zero as rfc3339_nanos;
use serde::Deserialize;

/// The most names one NAMES response carries.
const NAMES_LIMIT: usize = 1024;
/// The most streams one LIST response carries.
const LIST_LIMIT: usize = 256;

/// The optional body of NAMES and LIST.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PagedRequest {
    offset: usize,
    subject: String,
}

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn create_stream(
        &mut self,
        name: &str,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        let requested: StreamConfig =
            serde_json::from_slice(body).map_err(|_| JsError::InvalidJson)?;
        if requested.name != name {
            return Err(JsError::StreamMismatch);
        }
        if name.contains(['/', '\\']) {
            return Err(JsError::StreamNameContainsPathSeparators);
        }
        if requested.sealed {
            return Err(JsError::StreamInvalidConfig(
                "stream configuration for create can not be sealed".into(),
            ));
        }
        if requested.mirror_direct && requested.mirror.is_none() {
            return Err(JsError::StreamInvalidConfig(
                "stream has no mirror but does have mirror direct".into(),
            ));
        }
        let config = check_stream_config(&requested, &self.server_limits)?;
        if config.num_replicas > 1 {
            return Err(JsError::StreamReplicasNotSupported);
        }
        if let Some(existing) = self.streams.get(name) {
            // Creating the same stream again is not an error: it answers with its info.
            if existing.stream.config() == &config {
                return self.info_body(name, false);
            }
            return Err(JsError::StreamNameExists);
        }
        if self.limits.max_streams > 0 && self.streams.len() as i64 >= self.limits.max_streams {
            return Err(JsError::MaximumStreamsLimit);
        }
        let overlaps = self.streams.values().any(|entry| {
            entry.stream.config().subjects.iter().any(|theirs| {
                config.subjects.iter().any(|ours| {
                    natrium_subject::filters_overlap(ours.as_bytes(), theirs.as_bytes())
                })
            })
        });
        if overlaps {
            return Err(JsError::StreamSubjectOverlap);
        }
        let store = self
            .provider
            .open(&config, now)
            .map_err(|e| JsError::StreamInvalidConfig(e.to_string()))?;
        self.interest_generation += 1;
        self.streams.insert(
            name.to_string(),
            StreamEntry {
                stream: Stream::new(config, store),
                created: now,
                consumers: Default::default(),
            },
        );
        self.info_body(name, true)
    }

    pub(super) fn stream_info(&self, name: &str) -> Result<serde_json::Value, JsError> {
        let mut body = self.info_body(name, false)?;
        if let Some(object) = body.as_object_mut() {
            // StreamInfo responses carry (empty) paging fields on a single server.
            for field in ["total", "offset", "limit"] {
                object.insert(field.to_string(), 0.into());
            }
        }
        Ok(body)
    }

    pub(super) fn delete_stream(&mut self, name: &str) -> Result<serde_json::Value, JsError> {
        let Some(entry) = self.streams.remove(name) else {
            return Err(JsError::StreamNotFound);
        };
        self.stream_deleted(entry);
        self.interest_generation += 1;
        self.provider
            .remove(name)
            .map_err(|e| JsError::StreamInvalidConfig(e.to_string()))?;
        Ok(serde_json::json!({ "success": true }))
    }

    pub(super) fn stream_names(&self, body: &[u8]) -> Result<serde_json::Value, JsError> {
        let request = paged_request(body)?;
        let names: Vec<&String> = self
            .matching(&request.subject)
            .map(|(name, _)| name)
            .collect();
        let page: Vec<&String> = names
            .iter()
            .skip(request.offset)
            .take(NAMES_LIMIT)
            .copied()
            .collect();
        let mut response = to_value(Paged {
            total: names.len(),
            offset: request.offset,
            limit: NAMES_LIMIT,
        })?;
        response["streams"] = to_value(page)?;
        Ok(response)
    }

    pub(super) fn stream_list(&self, body: &[u8]) -> Result<serde_json::Value, JsError> {
        let request = paged_request(body)?;
        let entries: Vec<(&String, &StreamEntry)> = self.matching(&request.subject).collect();
        let page = entries
            .iter()
            .skip(request.offset)
            .take(LIST_LIMIT)
            .map(|(_, entry)| info(entry))
            .collect::<Vec<_>>();
        let mut response = to_value(Paged {
            total: entries.len(),
            offset: request.offset,
            limit: LIST_LIMIT,
        })?;
        response["streams"] = to_value(page)?;
        Ok(response)
    }

    /// Streams in name order whose subjects overlap `filter` (all when it is empty).
    fn matching<'a>(
        &'a self,
        filter: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a StreamEntry)> {
        self.streams.iter().filter(move |(_, entry)| {
            filter.is_empty()
                || entry.stream.config().subjects.iter().any(|subject| {
                    natrium_subject::filters_overlap(filter.as_bytes(), subject.as_bytes())
                })
        })
    }

    fn info_body(&self, name: &str, did_create: bool) -> Result<serde_json::Value, JsError> {
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        let mut body = to_value(info(entry))?;
        if did_create {
            body["did_create"] = true.into();
        }
        Ok(body)
    }
}

/// An empty body means no options; anything else must be the request JSON.
fn paged_request(body: &[u8]) -> Result<PagedRequest, JsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(PagedRequest::default());
    }
    serde_json::from_slice(body).map_err(|_| JsError::InvalidJson)
}

fn info(entry: &StreamEntry) -> StreamInfo {
    let state = entry.stream.store().state();
    StreamInfo {
        config: entry.stream.config().clone(),
        created: rfc3339_nanos(entry.created),
        state: StreamStateJson {
            messages: state.msgs,
            bytes: state.bytes,
            first_seq: state.first_seq,
            first_ts: rfc3339_nanos(state.first_time),
            last_seq: state.last_seq,
            last_ts: rfc3339_nanos(state.last_time),
            num_subjects: state.num_subjects,
            num_deleted: state.num_deleted,
            consumer_count: entry.consumers.len() as u64,
        },
    }
}
