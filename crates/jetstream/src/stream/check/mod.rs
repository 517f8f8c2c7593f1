//! Defaults and validation of a stream configuration, as nats-server's `checkStreamCfg`
//! applies them, for the parts that do not depend on other streams (overlap with existing
//! streams and mirror sizes are checked by the stream manager).

use super::config::{DiscardPolicy, StreamConfig};
use crate::errors::JsError;

/// The longest stream name.
pub const NAME_LEN_MAX: usize = 255;
/// The longest description.
pub const DESCRIPTION_LEN_MAX: usize = 4 * 1024;
/// The most replicas a stream may ask for.
pub const REPLICAS_MAX: i64 = 5;
/// The deduplication window when none is given: two minutes.
pub const DUPLICATE_WINDOW_DEFAULT_NANOS: i64 = 120 * NANOS_PER_SECOND;
/// The shortest max age and deduplication window: 100 ms.
const WINDOW_MIN_NANOS: i64 = 100 * 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Server-wide JetStream limits that bound stream configurations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerLimits {
    /// The largest deduplication window allowed (`jetstream { limits { duplicate_window } }`).
    pub duplicate_window_max_nanos: Option<i64>,
    /// The server's memory storage (`max_memory_store`) that streams' `max_bytes` may
    /// reserve; `None` leaves it unchecked.
    pub max_memory_bytes: Option<i64>,
    /// The server's file storage (`max_file_store`), likewise.
    pub max_storage_bytes: Option<i64>,
}

/// True if `name` can name a stream or consumer: non-empty, no `.`, `*`, `>` or whitespace.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains([' ', '\t', '\r', '\n', '\x0c', '.', '*', '>'])
}

fn invalid(message: impl Into<String>) -> JsError {
    JsError::StreamInvalidConfig(message.into())
}

/// Returns `config` with nats-server's defaults filled in, or the error nats-server gives.
pub fn check_stream_config(
    config: &StreamConfig,
    limits: &ServerLimits,
) -> Result<StreamConfig, JsError> {
    if !is_valid_name(&config.name) {
        return Err(invalid(
            "stream name is required and can not contain '.', '*', '>'",
        ));
    }
    if config.name.len() > NAME_LEN_MAX {
        return Err(invalid(format!(
            "stream name is too long, maximum allowed is {NAME_LEN_MAX}"
        )));
    }
    if config.description.len() > DESCRIPTION_LEN_MAX {
        return Err(invalid(format!(
            "stream description is too long, maximum allowed is {DESCRIPTION_LEN_MAX}"
        )));
    }
    let mut cfg = config.clone();
    if cfg.num_replicas == 0 {
        cfg.num_replicas = 1;
    }
    if cfg.num_replicas > REPLICAS_MAX {
        return Err(invalid(format!("maximum replicas is {REPLICAS_MAX}")));
    }
    if cfg.num_replicas < 0 {
        return Err(JsError::ReplicasCountCannotBeNegative);
    }
    for limit in [
        &mut cfg.max_msgs,
        &mut cfg.max_msgs_per_subject,
        &mut cfg.max_bytes,
        &mut cfg.max_consumers,
    ] {
        if *limit == 0 {
            *limit = -1;
        }
    }
    if cfg.max_msg_size == 0 {
        cfg.max_msg_size = -1;
    }
    if cfg.duplicate_window == 0 && cfg.mirror.is_none() {
        let window_max = match limits.duplicate_window_max_nanos {
            Some(max) if max > 0 => max.min(DUPLICATE_WINDOW_DEFAULT_NANOS),
            _ => DUPLICATE_WINDOW_DEFAULT_NANOS,
        };
        cfg.duplicate_window = if cfg.max_age != 0 && cfg.max_age < window_max {
            cfg.max_age
        } else {
            window_max
        };
    }
    if cfg.max_age > 0 && cfg.max_age < WINDOW_MIN_NANOS {
        return Err(invalid("max age needs to be >= 100ms"));
    }
    if cfg.duplicate_window < 0 {
        return Err(invalid("duplicates window can not be negative"));
    }
    if cfg.max_age != 0 && cfg.duplicate_window > cfg.max_age {
        return Err(invalid("duplicates window can not be larger then max age"));
    }
    if let Some(max) = limits.duplicate_window_max_nanos.filter(|&max| max > 0) {
        if cfg.duplicate_window > max {
            return Err(invalid(format!(
                "duplicates window can not be larger then server limit of {}",
                natrium_gofmt::go_duration(max.unsigned_abs())
            )));
        }
    }
    if cfg.duplicate_window > 0 && cfg.duplicate_window < WINDOW_MIN_NANOS {
        return Err(invalid("duplicates window needs to be >= 100ms"));
    }
    if cfg.deny_purge && cfg.allow_rollup_hdrs {
        return Err(invalid("roll-ups require the purge permission"));
    }
    if cfg.discard_new_per_subject {
        if cfg.discard != DiscardPolicy::New {
            return Err(invalid(
                "discard new per subject requires discard new policy to be set",
            ));
        }
        if cfg.max_msgs_per_subject <= 0 {
            return Err(invalid(
                "discard new per subject requires max msgs per subject > 0",
            ));
        }
    }
    if cfg.mirror.is_some() {
        if !cfg.subjects.is_empty() {
            return Err(JsError::MirrorWithSubjects);
        }
        if !cfg.sources.is_empty() {
            return Err(JsError::MirrorWithSources);
        }
    }
    check_external_prefixes(&cfg)?;
    check_subjects(&mut cfg)?;
    check_republish(&mut cfg)?;
    Ok(cfg)
}

/// The parts of mirror and source `external` prefixes that need no other stream: delivery
/// prefixes are literal subjects, API prefixes literal and clear of the local API.
fn check_external_prefixes(cfg: &StreamConfig) -> Result<(), JsError> {
    let externals = cfg
        .mirror
        .iter()
        .chain(&cfg.sources)
        .filter_map(|source| source.external.as_ref());
    for external in externals.clone() {
        let prefix = &external.deliver;
        if !prefix.is_empty() && !natrium_subject::is_valid_literal_subject(prefix.as_bytes()) {
            return Err(JsError::StreamInvalidExternalDeliverySubject(
                prefix.clone(),
            ));
        }
    }
    for external in externals {
        let prefix = &external.api;
        if prefix.is_empty() {
            continue;
        }
        if !natrium_subject::is_valid_literal_subject(prefix.as_bytes()) {
            return Err(invalid(format!(
                "stream external api prefix {prefix:?} must be a valid subject without wildcards"
            )));
        }
        if natrium_subject::filters_overlap(prefix.as_bytes(), API_SUBJECT.as_bytes()) {
            return Err(JsError::StreamExternalApiOverlap {
                prefix: prefix.clone(),
                subject: API_SUBJECT.to_string(),
            });
        }
    }
    Ok(())
}

/// The local JetStream API prefix, as nats-server's overlap checks name it.
const API_SUBJECT: &str = "$JS.API";

/// A republish source defaults to every subject and must be one of the stream's; its
/// destination must not feed the stream again.
fn check_republish(cfg: &mut StreamConfig) -> Result<(), JsError> {
    let Some(republish) = cfg.republish.as_mut() else {
        return Ok(());
    };
    if republish.src.is_empty() {
        republish.src = ">".to_string();
    }
    let collides = |filter: &str| {
        cfg.subjects
            .iter()
            .any(|subject| natrium_subject::filters_overlap(filter.as_bytes(), subject.as_bytes()))
    };
    if !collides(&republish.src) {
        return Err(invalid(
            "stream configuration for republish source is not valid subset of subjects",
        ));
    }
    if collides(&republish.dest) {
        return Err(invalid(
            "stream configuration for republish destination forms a cycle",
        ));
    }
    let valid = |subject: &str| natrium_subject::is_valid_subject(subject.as_bytes());
    if !valid(&republish.src) || !valid(&republish.dest) {
        return Err(invalid("stream configuration for republish not valid"));
    }
    Ok(())
}

/// Subjects default to the stream's name; each must be valid, distinct, and outside the API.
fn check_subjects(cfg: &mut StreamConfig) -> Result<(), JsError> {
    if cfg.subjects.is_empty() {
        if cfg.mirror.is_none() && cfg.sources.is_empty() {
            cfg.subjects.push(cfg.name.clone());
        }
        return Ok(());
    }
    let mut seen = std::collections::HashSet::new();
    for subject in &cfg.subjects {
        if !seen.insert(subject.as_str()) {
            return Err(invalid("duplicate subjects detected"));
        }
        if natrium_subject::is_subset_of(subject.as_bytes(), b"$JS.API.>") {
            return Err(invalid("subjects overlap with jetstream api"));
        }
        if !natrium_subject::is_valid_subject(subject.as_bytes()) {
            return Err(invalid("invalid subject"));
        }
    }
    // Overlapping subjects of one stream would store a message twice.
    for subject in &cfg.subjects {
        for other in &cfg.subjects {
            if other != subject
                && natrium_subject::filters_overlap(other.as_bytes(), subject.as_bytes())
            {
                return Err(invalid(format!(
                    "subject {subject:?} overlaps with {other:?}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
