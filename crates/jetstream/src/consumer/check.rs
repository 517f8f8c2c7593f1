//! Defaults and validation of a consumer configuration, as nats-server's
//! `setConsumerConfigDefaults` and `checkConsumerCfg` apply them (2.9.10, with 2.10's
//! `filter_subjects` and `metadata` checks), and which changes an update may make
//! (`checkNewConsumerConfig`).

use super::config::{AckPolicy, ConsumerConfig, DeliverPolicy};
use crate::errors::JsError;
use crate::stream::config::{RetentionPolicy, StreamConfig};
use crate::time::parse_rfc3339;
use natrium_subject::{has_wildcard, is_subset_of, is_valid_subject};

/// How long a delivery waits for its ack by default: 30 s.
pub const ACK_WAIT_DEFAULT_NANOS: i64 = 30 * NANOS_PER_SECOND;
/// Outstanding acks allowed by default for acking consumers.
pub const MAX_ACK_PENDING_DEFAULT: i64 = 1000;
/// Waiting pull requests allowed by default.
pub const MAX_WAITING_DEFAULT: i64 = 512;
/// How long an ephemeral waits without interest before deleting itself: 5 s.
pub const INACTIVE_THRESHOLD_DEFAULT_NANOS: i64 = 5 * NANOS_PER_SECOND;
/// The longest description.
pub const DESCRIPTION_LEN_MAX: usize = 4 * 1024;
/// The longest consumer name.
pub const NAME_LEN_MAX: usize = 255;
/// The most bytes of metadata keys and values together (2.10).
pub const METADATA_BYTES_MAX: usize = 128 * 1024;
/// The shortest idle heartbeat of a push consumer: 100 ms.
const HEARTBEAT_MIN_NANOS: i64 = 100 * NANOS_PER_MILLISECOND;
const NANOS_PER_MILLISECOND: i64 = 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Limits on consumers from the server (`jetstream { limits { ... } }`) and the account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerLimits {
    /// The server's `max_ack_pending`; 0 for none.
    pub server_max_ack_pending: i64,
    /// The server's `max_request_batch`; 0 for none.
    pub server_max_request_batch: i64,
    /// The account's `max_ack_pending`; 0 or less for none.
    pub account_max_ack_pending: i64,
}

/// Fills in nats-server's defaults (`setConsumerConfigDefaults`).
pub fn set_defaults(config: &mut ConsumerConfig, limits: &ConsumerLimits) {
    if !config.is_push() && config.max_waiting == 0 {
        config.max_waiting = MAX_WAITING_DEFAULT;
    }
    if config.ack_wait == 0 && config.needs_acks() {
        config.ack_wait = ACK_WAIT_DEFAULT_NANOS;
    }
    if config.max_deliver == 0 {
        config.max_deliver = -1;
    }
    // A backoff list overrides the ack wait with its first delay.
    if let Some(&first) = config.backoff.first() {
        config.ack_wait = first;
    }
    if config.needs_acks() && config.max_ack_pending == 0 {
        let mut pending = MAX_ACK_PENDING_DEFAULT;
        for limit in [
            limits.server_max_ack_pending,
            limits.account_max_ack_pending,
        ] {
            if limit > 0 && limit < pending {
                pending = limit;
            }
        }
        config.max_ack_pending = pending;
    }
    if !config.is_push() && config.max_batch == 0 && limits.server_max_request_batch > 0 {
        config.max_batch = limits.server_max_request_batch;
    }
}

/// Checks a configuration with defaults set against its stream (`checkConsumerCfg`).
pub fn check_config(
    config: &ConsumerConfig,
    stream: &StreamConfig,
    limits: &ConsumerLimits,
) -> Result<(), JsError> {
    if config.num_replicas > 0 && config.num_replicas > stream.num_replicas {
        return Err(JsError::ConsumerReplicasExceedsStream);
    }
    if config.num_replicas < 0 {
        return Err(JsError::ReplicasCountCannotBeNegative);
    }
    if stream.retention != RetentionPolicy::Limits
        && config.num_replicas != 0
        && config.num_replicas != stream.num_replicas
    {
        return Err(JsError::ConsumerReplicasShouldMatchStream);
    }
    let backoff_len = config.backoff.len() as i64;
    if backoff_len > 0 && config.max_deliver != -1 && config.max_deliver <= backoff_len {
        return Err(JsError::ConsumerMaxDeliverBackoff);
    }
    if config.description.len() > DESCRIPTION_LEN_MAX {
        return Err(JsError::ConsumerDescriptionTooLong(DESCRIPTION_LEN_MAX));
    }
    if config.is_push() {
        check_push(config, stream)?;
    } else {
        check_pull(config, stream, limits)?;
    }
    for limit in [
        limits.server_max_ack_pending,
        limits.account_max_ack_pending,
    ] {
        if limit > 0 && config.max_ack_pending > limit {
            return Err(JsError::ConsumerMaxPendingAckExcess(limit));
        }
    }
    if config.direct {
        if !config.is_push() {
            return Err(JsError::ConsumerDirectRequiresPush);
        }
        if config.is_durable() {
            return Err(JsError::ConsumerDirectRequiresEphemeral);
        }
    }
    check_filters(config, stream)?;
    check_start(config)?;
    if !config.sample_freq.is_empty() {
        let text = config
            .sample_freq
            .strip_suffix('%')
            .unwrap_or(&config.sample_freq);
        match text.parse::<i64>() {
            Ok(value) if value >= 0 => {}
            // Go reports a nil error for a negative frequency.
            Ok(_) => return Err(JsError::ConsumerInvalidSampling("<nil>".into())),
            Err(_) => {
                return Err(JsError::ConsumerInvalidSampling(format!(
                    "strconv.Atoi: parsing {text:?}: invalid syntax"
                )))
            }
        }
    }
    if config.flow_control && config.idle_heartbeat == 0 {
        return Err(JsError::ConsumerFlowControlNeedsHeartbeats);
    }
    if config.is_durable() && !config.name.is_empty() && config.name != config.durable_name {
        return Err(JsError::ConsumerCreateDurableAndNameMismatch);
    }
    let metadata_len: usize = config.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if metadata_len > METADATA_BYTES_MAX {
        return Err(JsError::ConsumerMetadataLength(format!(
            "{}KB",
            METADATA_BYTES_MAX / 1024
        )));
    }
    Ok(())
}

fn check_push(config: &ConsumerConfig, stream: &StreamConfig) -> Result<(), JsError> {
    let deliver = config.deliver_subject.as_bytes();
    if has_wildcard(deliver) {
        return Err(JsError::ConsumerDeliverToWildcards);
    }
    if !is_valid_subject(deliver) {
        return Err(JsError::ConsumerInvalidDeliverSubject);
    }
    let cycle = stream
        .subjects
        .iter()
        .any(|subject| is_subset_of(deliver, subject.as_bytes()));
    if cycle {
        return Err(JsError::ConsumerDeliverCycle);
    }
    if config.max_waiting != 0 {
        return Err(JsError::ConsumerPushMaxWaiting);
    }
    if config.max_ack_pending > 0 && config.ack_policy == AckPolicy::None {
        return Err(JsError::ConsumerMaxPendingAckPolicyRequired);
    }
    if config.idle_heartbeat > 0 && config.idle_heartbeat < HEARTBEAT_MIN_NANOS {
        return Err(JsError::ConsumerSmallHeartbeat);
    }
    Ok(())
}

fn check_pull(
    config: &ConsumerConfig,
    stream: &StreamConfig,
    limits: &ConsumerLimits,
) -> Result<(), JsError> {
    if config.ack_policy == AckPolicy::None && stream.retention == RetentionPolicy::WorkQueue {
        return Err(JsError::ConsumerPullRequiresAck);
    }
    if config.rate_limit_bps > 0 {
        return Err(JsError::ConsumerPullWithRateLimit);
    }
    if config.max_waiting < 0 {
        return Err(JsError::ConsumerMaxWaitingNegative);
    }
    if config.idle_heartbeat > 0 {
        return Err(JsError::ConsumerHeartbeatRequiresPush);
    }
    if config.flow_control {
        return Err(JsError::ConsumerFlowControlRequiresPush);
    }
    if config.max_batch < 0 {
        return Err(JsError::ConsumerMaxRequestBatchNegative);
    }
    if config.max_expires != 0 && config.max_expires < NANOS_PER_MILLISECOND {
        return Err(JsError::ConsumerMaxRequestExpiresTooSmall);
    }
    let batch_max = limits.server_max_request_batch;
    if batch_max > 0 && config.max_batch > batch_max {
        return Err(JsError::ConsumerMaxRequestBatchExceeded(batch_max));
    }
    Ok(())
}

/// `filter_subject` xor `filter_subjects`, each valid, not overlapping, and inside the
/// stream's subjects (2.9.10's `validFilteredSubject`).
fn check_filters(config: &ConsumerConfig, stream: &StreamConfig) -> Result<(), JsError> {
    if !config.filter_subject.is_empty() && !config.filter_subjects.is_empty() {
        return Err(JsError::ConsumerDuplicateFilterSubjects);
    }
    if config.filter_subjects.iter().any(String::is_empty) {
        return Err(JsError::ConsumerEmptyFilter);
    }
    let filters = config.filters();
    for (i, filter) in filters.iter().enumerate() {
        if filters[i + 1..]
            .iter()
            .any(|other| natrium_subject::filters_overlap(filter.as_bytes(), other.as_bytes()))
        {
            return Err(JsError::ConsumerOverlappingSubjectFilters);
        }
        if !valid_filtered_subject(filter, stream) {
            return Err(JsError::ConsumerFilterNotSubset);
        }
    }
    Ok(())
}

/// A filter must be a valid subject inside one of the stream's subjects, or a wildcard
/// wider than one of them. Mirrors and sourcing streams take any valid filter, since what
/// they hold comes from elsewhere.
fn valid_filtered_subject(filter: &str, stream: &StreamConfig) -> bool {
    let filter = filter.as_bytes();
    if !is_valid_subject(filter) {
        return false;
    }
    if stream.mirror.is_some() || !stream.sources.is_empty() {
        return true;
    }
    let wildcard = has_wildcard(filter);
    stream.subjects.iter().any(|subject| {
        let subject = subject.as_bytes();
        is_subset_of(filter, subject) || (wildcard && is_subset_of(subject, filter))
    })
}

/// The start position options each deliver policy allows, with nats-server's texts.
fn check_start(config: &ConsumerConfig) -> Result<(), JsError> {
    let bad_start = |policy: &str, start: &str| {
        JsError::ConsumerInvalidPolicy(format!(
            "consumer delivery policy is deliver {policy}, but optional start {start} is also set"
        ))
    };
    let not_set = |policy: &str, missing: &str| {
        JsError::ConsumerInvalidPolicy(format!(
            "consumer delivery policy is deliver {policy}, but optional {missing} is not set"
        ))
    };
    let has_seq = config.opt_start_seq > 0;
    let has_time = config.opt_start_time.is_some();
    let plain = |policy: &str| {
        if has_seq {
            Err(bad_start(policy, "sequence"))
        } else if has_time {
            Err(bad_start(policy, "time"))
        } else {
            Ok(())
        }
    };
    match config.deliver_policy {
        DeliverPolicy::All => plain("all"),
        DeliverPolicy::Last => plain("last"),
        DeliverPolicy::New => plain("new"),
        DeliverPolicy::LastPerSubject => {
            plain("last per subject")?;
            if config.filters().is_empty() {
                return Err(not_set("last per subject", "filter subject"));
            }
            Ok(())
        }
        DeliverPolicy::ByStartSequence => {
            if !has_seq {
                return Err(not_set("by start sequence", "start sequence"));
            }
            if has_time {
                return Err(bad_start("by start sequence", "time"));
            }
            Ok(())
        }
        DeliverPolicy::ByStartTime => {
            let Some(time) = &config.opt_start_time else {
                return Err(not_set("by start time", "start time"));
            };
            if has_seq {
                return Err(bad_start("by start time", "start sequence"));
            }
            // Go would have refused the JSON; so do we, with the same error class.
            parse_rfc3339(time).map(|_| ()).ok_or(JsError::InvalidJson)
        }
    }
}

/// Whether a consumer may take `new` in place of `old` (`checkNewConsumerConfig`);
/// `deliver_bound` says whether the old deliver subject still has subscribers.
pub fn check_update(
    old: &ConsumerConfig,
    new: &ConsumerConfig,
    deliver_bound: bool,
) -> Result<(), JsError> {
    if old == new {
        return Ok(());
    }
    let refuse = |what: &str| {
        Err(JsError::ConsumerCreate(format!(
            "{what} can not be updated"
        )))
    };
    if old.deliver_policy != new.deliver_policy {
        return refuse("deliver policy");
    }
    if old.opt_start_seq != new.opt_start_seq {
        return refuse("start sequence");
    }
    let old_time = old.opt_start_time.as_deref().and_then(parse_rfc3339);
    let new_time = new.opt_start_time.as_deref().and_then(parse_rfc3339);
    if old_time != new_time {
        return refuse("start time");
    }
    if old.ack_policy != new.ack_policy {
        return refuse("ack policy");
    }
    if old.replay_policy != new.replay_policy {
        return refuse("replay policy");
    }
    if old.idle_heartbeat != new.idle_heartbeat {
        return refuse("heart beats");
    }
    if old.flow_control != new.flow_control {
        return refuse("flow control");
    }
    if old.max_waiting != new.max_waiting {
        return refuse("max waiting");
    }
    if old.deliver_subject != new.deliver_subject {
        if old.deliver_subject.is_empty() {
            return Err(JsError::ConsumerCreate(
                "can not update pull consumer to push based".into(),
            ));
        }
        if new.deliver_subject.is_empty() {
            return Err(JsError::ConsumerCreate(
                "can not update push consumer to pull based".into(),
            ));
        }
        if deliver_bound {
            return Err(JsError::ConsumerNameExists);
        }
    }
    let backoff_len = new.backoff.len() as i64;
    if backoff_len > 0 && new.max_deliver != -1 && new.max_deliver <= backoff_len {
        return Err(JsError::ConsumerMaxDeliverBackoff);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
