//! Stream reading endpoints: INFO (with `subjects_filter`, `deleted_details` and paging of the
//! subjects), NAMES and LIST (with a subject filter), as nats-server 2.9 answers them.

use super::request::parse_optional;
use super::types::{Paged, StreamInfo, StreamStateJson};
use super::{to_value, JetStreamApi, StoreProvider, StreamEntry};
use crate::errors::JsError;
use natrium_gofmt::rfc3339_or_zero as rfc3339_nanos;
use serde::Deserialize;

/// The most names one NAMES response carries.
const NAMES_LIMIT: usize = 1024;
/// The most streams one LIST response carries.
const LIST_LIMIT: usize = 256;
/// The most subjects one INFO response lists (nats-server's `JSMaxSubjectDetails`).
const SUBJECTS_LIMIT: usize = 100_000;

/// The optional body of NAMES and LIST.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PagedRequest {
    offset: usize,
    subject: String,
}

/// The optional body of STREAM.INFO.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InfoRequest {
    offset: usize,
    deleted_details: bool,
    subjects_filter: String,
}

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn stream_info(
        &self,
        name: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, JsError> {
        let request: InfoRequest = parse_optional(body)?;
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        let mut info = self.info(entry);
        info.domain = self.domain.clone();
        if request.deleted_details {
            let deleted = entry.stream.store().deleted();
            info.state.deleted = (!deleted.is_empty()).then_some(deleted);
        }
        let mut paged = Paged {
            total: 0,
            offset: 0,
            limit: 0,
        };
        if !request.subjects_filter.is_empty() {
            let counts = entry
                .stream
                .store()
                .subject_counts(&request.subjects_filter);
            if !counts.is_empty() {
                // Subjects come sorted; a page past the end is empty, not an error.
                let offset = request.offset.min(counts.len());
                paged = Paged {
                    total: counts.len(),
                    offset,
                    limit: SUBJECTS_LIMIT,
                };
                let page = counts.into_iter().skip(offset).take(SUBJECTS_LIMIT);
                let page: std::collections::BTreeMap<String, u64> = page.collect();
                info.state.subjects = (!page.is_empty()).then_some(page);
            }
        }
        let mut body = to_value(info)?;
        let paging = to_value(paged)?;
        if let (Some(object), Some(paging)) = (body.as_object_mut(), paging.as_object()) {
            object.extend(paging.clone());
        }
        Ok(body)
    }

    pub(super) fn stream_names(&self, body: &[u8]) -> Result<serde_json::Value, JsError> {
        let request: PagedRequest = parse_optional(body)?;
        let names: Vec<&String> = self
            .matching(&request.subject)
            .map(|(name, _)| name)
            .collect();
        // As nats-server, an offset past the end is answered as the end.
        let offset = request.offset.min(names.len());
        let page: Vec<&String> = names[offset..].iter().take(NAMES_LIMIT).copied().collect();
        let mut response = to_value(Paged {
            total: names.len(),
            offset,
            limit: NAMES_LIMIT,
        })?;
        // nats-server's names are a Go slice that stays nil, so `null`, when no stream
        // matches; only slicing past the end of a full unfiltered list leaves it empty.
        let nil = names.is_empty() || (page.is_empty() && !request.subject.is_empty());
        response["streams"] = if nil {
            serde_json::Value::Null
        } else {
            to_value(page)?
        };
        Ok(response)
    }

    pub(super) fn stream_list(&self, body: &[u8]) -> Result<serde_json::Value, JsError> {
        let request: PagedRequest = parse_optional(body)?;
        let entries: Vec<(&String, &StreamEntry)> = self.matching(&request.subject).collect();
        let offset = request.offset.min(entries.len());
        let page = entries
            .iter()
            .skip(offset)
            .take(LIST_LIMIT)
            .map(|(_, entry)| self.info(entry))
            .collect::<Vec<_>>();
        let mut response = to_value(Paged {
            total: entries.len(),
            offset,
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

    /// A stream's info as CREATE and UPDATE answer it.
    pub(super) fn info_body(
        &self,
        name: &str,
        did_create: bool,
    ) -> Result<serde_json::Value, JsError> {
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        let mut body = to_value(self.info(entry))?;
        if did_create {
            body["did_create"] = true.into();
        }
        Ok(body)
    }

    /// A stream's info: configuration, state, and its mirror or sources.
    pub(super) fn info(&self, entry: &StreamEntry) -> StreamInfo {
        let (mirror, sources) = self.source_info(entry);
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
                subjects: None,
                num_deleted: state.num_deleted,
                deleted: None,
                consumer_count: entry.consumers.len() as u64,
            },
            domain: None,
            mirror,
            sources,
        }
    }
}
