//! Stream lifecycle endpoints: CREATE, UPDATE and DELETE, as nats-server's
//! `jsStreamCreateRequest`/`addStream`, `jsStreamUpdateRequest`/`update` and
//! `jsStreamDeleteRequest` answer them on a single server, with the checks of `checkStreamCfg`
//! that need the account's other streams.

use super::advisory::StreamAction;
use super::request::parse;
use super::{JetStreamApi, StoreProvider, StreamEntry};
use crate::errors::JsError;
use crate::stream::check::check_stream_config;
use crate::stream::config::StreamConfig;
use crate::stream::update::check_update;
use crate::stream::Stream;
use std::collections::{HashSet, VecDeque};

/// nats-server's text when the store behind a new stream cannot be made.
const STORE_FAILED: &str = "error creating store for stream";

impl<P: StoreProvider> JetStreamApi<P> {
    pub(super) fn create_stream(
        &mut self,
        name: &str,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        let requested: StreamConfig = parse(body)?;
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
        // nats-server counts streams (the same one too) and checks limits on the request as
        // sent before it checks the configuration itself.
        if self.limits.max_streams > 0 && self.streams.len() as i64 >= self.limits.max_streams {
            return Err(JsError::MaximumStreamsLimit);
        }
        let reserved = self.reserved_bytes(requested.storage, name);
        self.check_limits(&requested, requested.max_bytes, reserved)?;
        let mut config = check_stream_config(&requested, &self.server_limits)?;
        self.check_with_account(&mut config)?;
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
        self.check_limits(&config, config.max_bytes, reserved)?;
        if self.overlaps_other_streams(&config) {
            return Err(JsError::StreamSubjectOverlap);
        }
        let mut store = self
            .provider
            .open(&config, now)
            .map_err(|_| JsError::StreamCreate(STORE_FAILED.into()))?;
        if config.first_seq > 1 && store.state().last_seq == 0 {
            store
                .compact(config.first_seq)
                .map_err(|_| JsError::StreamCreate(STORE_FAILED.into()))?;
        }
        self.interest_generation += 1;
        self.streams.insert(
            name.to_string(),
            StreamEntry {
                stream: Stream::new(config, store),
                created: now,
                consumers: Default::default(),
            },
        );
        self.advisories
            .stream_action(StreamAction::Create, name, self.domain.as_deref(), now);
        self.info_body(name, true)
    }

    pub(super) fn update_stream(
        &mut self,
        name: &str,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        let requested: StreamConfig = parse(body)?;
        let mut config = check_stream_config(&requested, &self.server_limits)?;
        self.check_with_account(&mut config)?;
        if config.name != name {
            return Err(JsError::StreamMismatch);
        }
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        let old = entry.stream.config().clone();
        let created = entry.created;
        let config = check_update(&old, config)?;
        // A single server holds one copy; nats-server would need a cluster to grow it.
        if config.num_replicas > 1 {
            return Err(JsError::StreamReplicasNotSupported);
        }
        self.check_update_limits(&old, &config)?;
        if self.overlaps_other_streams(&config) {
            return Err(JsError::StreamSubjectOverlap);
        }
        self.provider
            .save_config(&config, created)
            .map_err(|e| JsError::StreamStoreFailed(e.to_string()))?;
        if config.subjects != old.subjects {
            self.interest_generation += 1;
        }
        let entry = self.streams.get_mut(name).ok_or(JsError::StreamNotFound)?;
        entry.stream.update(config)?;
        self.advisories
            .stream_action(StreamAction::Modify, name, self.domain.as_deref(), now);
        let mut body = self.info_body(name, false)?;
        if let Some(domain) = &self.domain {
            body["domain"] = domain.as_str().into();
        }
        Ok(body)
    }

    pub(super) fn delete_stream(
        &mut self,
        name: &str,
        body: &[u8],
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        // A body (even malformed) is refused before the stream is looked up, as nats-server
        // does: a request meant for another endpoint must not delete anything.
        if !super::request::is_empty_request(body) {
            return Err(JsError::NotEmptyRequest);
        }
        let Some(entry) = self.streams.remove(name) else {
            return Err(JsError::StreamNotFound);
        };
        self.stream_deleted(entry);
        self.interest_generation += 1;
        self.provider
            .remove(name)
            .map_err(|e| JsError::StreamGeneral(e.to_string()))?;
        self.advisories
            .stream_action(StreamAction::Delete, name, self.domain.as_deref(), now);
        Ok(serde_json::json!({ "success": true }))
    }

    /// True if a subject of `config` overlaps one of another stream's.
    pub(super) fn overlaps_other_streams(&self, config: &StreamConfig) -> bool {
        self.streams
            .values()
            .map(|entry| entry.stream.config())
            .filter(|other| other.name != config.name)
            .flat_map(|other| &other.subjects)
            .any(|theirs| {
                config.subjects.iter().any(|ours| {
                    natrium_subject::filters_overlap(ours.as_bytes(), theirs.as_bytes())
                })
            })
    }

    /// The parts of nats-server's `checkStreamCfg` that look at the account: origins of a
    /// mirror or sources that exist here (message sizes, filters, direct gets, delivery
    /// prefixes), cycles of sources, and the account's `max_bytes` rules.
    pub(super) fn check_with_account(&self, cfg: &mut StreamConfig) -> Result<(), JsError> {
        let mut origin_subjects: Vec<String> = Vec::new();
        let mut delivery_prefixes: Vec<&str> = Vec::new();
        if let Some(mirror) = &cfg.mirror {
            if let Some(origin) = self.config_of(&mirror.name) {
                origin_subjects.extend(origin.subjects.iter().cloned());
                if too_small(cfg.max_msg_size, origin.max_msg_size) {
                    return Err(JsError::MirrorMaxMessageSizeTooBig);
                }
                if !filter_overlaps(&mirror.filter_subject, &origin.subjects) {
                    return Err(JsError::StreamInvalidConfig(format!(
                        "mirror '{}' filter subject '{}' does not overlap with any origin stream subject",
                        mirror.name, mirror.filter_subject
                    )));
                }
                cfg.mirror_direct = origin.allow_direct;
            }
            if let Some(external) = &mirror.external {
                delivery_prefixes.push(&external.deliver);
            }
        }
        for source in &cfg.sources {
            if let Some(origin) = self.config_of(&source.name) {
                origin_subjects.extend(origin.subjects.iter().cloned());
                if too_small(cfg.max_msg_size, origin.max_msg_size) {
                    return Err(JsError::SourceMaxMessageSizeTooBig);
                }
                if !filter_overlaps(&source.filter_subject, &origin_subjects) {
                    return Err(JsError::StreamInvalidConfig(format!(
                        "source '{}' filter subject '{}' does not overlap with any origin stream subject",
                        source.name, source.filter_subject
                    )));
                }
            }
            if let Some(external) = &source.external {
                delivery_prefixes.push(&external.deliver);
            }
        }
        for prefix in delivery_prefixes.into_iter().filter(|p| !p.is_empty()) {
            for subject in &origin_subjects {
                let delivered = format!("{prefix}.{subject}");
                if natrium_subject::filters_overlap(subject.as_bytes(), delivered.as_bytes()) {
                    return Err(JsError::StreamExternalDeliveryPrefixOverlaps {
                        prefix: prefix.to_string(),
                        subject: subject.clone(),
                    });
                }
            }
        }
        self.check_source_cycles(cfg)?;
        self.check_max_bytes(cfg)
    }

    /// Walks local sources and mirrors from `cfg` breadth first, as nats-server does; an
    /// origin already visited is a cycle.
    fn check_source_cycles(&self, cfg: &StreamConfig) -> Result<(), JsError> {
        let cycle = || JsError::StreamInvalidConfig("detected cycle".into());
        let mut visited: HashSet<&str> = HashSet::new();
        let mut to_visit: VecDeque<&StreamConfig> = VecDeque::from([cfg]);
        while let Some(current) = to_visit.pop_front() {
            visited.insert(current.name.as_str());
            let local_origins = current
                .sources
                .iter()
                .chain(&current.mirror)
                .filter(|origin| origin.external.is_none());
            for origin in local_origins {
                if visited.contains(origin.name.as_str()) {
                    return Err(cycle());
                }
                if let Some(next) = self.config_of(&origin.name) {
                    to_visit.push_back(next);
                }
            }
        }
        Ok(())
    }

    fn config_of(&self, name: &str) -> Option<&StreamConfig> {
        self.streams.get(name).map(|entry| entry.stream.config())
    }
}

/// A copy must take the largest message its origin may hold.
fn too_small(ours: i32, origin: i32) -> bool {
    ours > 0 && origin > 0 && ours < origin
}

/// An empty filter, or one an origin subject collides with.
fn filter_overlaps(filter: &str, origin_subjects: &[String]) -> bool {
    filter.is_empty()
        || origin_subjects.is_empty()
        || origin_subjects
            .iter()
            .any(|subject| natrium_subject::filters_overlap(subject.as_bytes(), filter.as_bytes()))
}
