//! A consumer's configuration as the JetStream API carries it (`io.nats.jetstream.api.v1`),
//! with nats-server's JSON field names, enum spellings and omissions.
//!
//! Durations are integer nanoseconds on the wire, as Go's `time.Duration` marshals them.
//! Enum fields are plain strings in JSON; an unknown spelling fails the whole request as
//! invalid JSON, as Go's `UnmarshalJSON` for these types does.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a new consumer starts in its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeliverPolicy {
    /// From the first message (`undefined` is read as this too, as nats-server does).
    #[default]
    #[serde(rename = "all", alias = "undefined")]
    All,
    /// From the last message (matching the filter).
    #[serde(rename = "last")]
    Last,
    /// Only messages stored after the consumer was created.
    #[serde(rename = "new")]
    New,
    /// From `opt_start_seq`.
    #[serde(rename = "by_start_sequence")]
    ByStartSequence,
    /// From the first message at or after `opt_start_time`.
    #[serde(rename = "by_start_time")]
    ByStartTime,
    /// The last message of every subject matching the filter, then new ones.
    #[serde(rename = "last_per_subject")]
    LastPerSubject,
}

/// How deliveries are acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckPolicy {
    /// No acks; a delivery is final (Go's zero value, so the default when absent).
    #[default]
    None,
    /// Acking a message acks every message delivered before it.
    All,
    /// Every message is acked on its own.
    Explicit,
}

/// How fast stored messages are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayPolicy {
    /// As fast as the consumer takes them.
    #[default]
    Instant,
    /// With the gaps they were stored with.
    Original,
}

/// A consumer's configuration. Fields left out of JSON when empty follow nats-server's
/// `omitempty` tags; `-1` means "no limit" where a default stamps it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumerConfig {
    /// The durable name (deprecated in favour of `name`, still what 2.9 clients send).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub durable_name: String,
    /// The consumer's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// A description for humans.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where delivery starts.
    pub deliver_policy: DeliverPolicy,
    /// The first stream sequence, with `by_start_sequence`.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub opt_start_seq: u64,
    /// The first message time (RFC 3339), with `by_start_time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_start_time: Option<String>,
    /// How deliveries are acknowledged.
    pub ack_policy: AckPolicy,
    /// How long a delivery waits for its ack before redelivery, in nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub ack_wait: i64,
    /// Most deliveries of one message; -1 for no limit.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_deliver: i64,
    /// Redelivery delays by delivery count, in nanoseconds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backoff: Vec<i64>,
    /// Deliver only messages whose subject matches.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filter_subject: String,
    /// Deliver only messages whose subject matches one of these (2.10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter_subjects: Vec<String>,
    /// How fast to replay.
    pub replay_policy: ReplayPolicy,
    /// Delivery rate limit in bits per second.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub rate_limit_bps: u64,
    /// Ack sampling, e.g. `"50%"`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sample_freq: String,
    /// Most pull requests waiting at once.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_waiting: i64,
    /// Most deliveries awaiting an ack; -1 for no limit.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_ack_pending: i64,
    /// Push: idle heartbeat interval in nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub idle_heartbeat: i64,
    /// Push: flow control.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flow_control: bool,
    /// Deliver headers only, with the payload size in `Nats-Msg-Size`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub headers_only: bool,
    /// Pull: largest batch one request may ask for.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_batch: i64,
    /// Pull: longest expiry one request may ask for, in nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_expires: i64,
    /// Pull: largest `max_bytes` one request may ask for.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub max_bytes: i64,
    /// Push: where messages are delivered (absent for pull consumers).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub deliver_subject: String,
    /// Push: the queue group the deliver subject is subscribed with.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub deliver_group: String,
    /// How long without interest or requests before the consumer deletes itself, in
    /// nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub inactive_threshold: i64,
    /// Replicas in a cluster; 0 inherits the stream's.
    pub num_replicas: i64,
    /// Keep the consumer's state in memory even on a file stream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mem_storage: bool,
    /// Internal consumers of mirrors and sources.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub direct: bool,
    /// Free-form metadata (2.10).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl ConsumerConfig {
    /// Push consumers have a deliver subject; pull consumers do not.
    pub fn is_push(&self) -> bool {
        !self.deliver_subject.is_empty()
    }

    /// Durable consumers have a durable name and outlive their subscribers.
    pub fn is_durable(&self) -> bool {
        !self.durable_name.is_empty()
    }

    /// The subject filters, from `filter_subject` or `filter_subjects`; empty for all.
    pub fn filters(&self) -> Vec<String> {
        if !self.filter_subject.is_empty() {
            return vec![self.filter_subject.clone()];
        }
        self.filter_subjects.clone()
    }

    /// True when deliveries wait for acks (explicit or all).
    pub fn needs_acks(&self) -> bool {
        self.ack_policy != AckPolicy::None
    }
}

/// What a 2.10 create request may do to an existing consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ConsumerAction {
    /// Create it, or update it if it exists (`""`, and what older clients send by omission).
    #[default]
    #[serde(rename = "")]
    CreateOrUpdate,
    /// Create only; an existing consumer with a different configuration is an error.
    #[serde(rename = "create")]
    Create,
    /// Update only; a missing consumer is an error.
    #[serde(rename = "update")]
    Update,
}

/// The body of `CONSUMER.CREATE` and `CONSUMER.DURABLE.CREATE`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateConsumerRequest {
    /// The stream, which must match the subject's.
    pub stream_name: String,
    /// The requested configuration.
    pub config: ConsumerConfig,
    /// Create, update, or either.
    pub action: ConsumerAction,
}

fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}

fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_values_are_the_defaults_and_empty_fields_are_left_out() {
        let config: ConsumerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config.ack_policy, AckPolicy::None);
        assert_eq!(config.deliver_policy, DeliverPolicy::All);
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"deliver_policy":"all","ack_policy":"none","replay_policy":"instant","num_replicas":0}"#
        );
        let undefined: ConsumerConfig =
            serde_json::from_str(r#"{"deliver_policy":"undefined"}"#).unwrap();
        assert_eq!(undefined.deliver_policy, DeliverPolicy::All);
        for bad in [
            r#"{"deliver_policy":"first"}"#,
            r#"{"ack_policy":"Explicit"}"#,
            r#"{"replay_policy":"fast"}"#,
        ] {
            assert!(
                serde_json::from_str::<ConsumerConfig>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_field_round_trips_with_its_wire_name() {
        let text = r#"{"durable_name":"D","name":"D","description":"d","deliver_policy":"by_start_sequence","opt_start_seq":5,"ack_policy":"explicit","ack_wait":1000,"max_deliver":5,"backoff":[1,2],"filter_subjects":["a","b"],"replay_policy":"original","rate_limit_bps":8,"sample_freq":"50%","max_waiting":3,"max_ack_pending":9,"idle_heartbeat":7,"flow_control":true,"headers_only":true,"max_batch":4,"max_expires":6,"max_bytes":2,"deliver_subject":"x","deliver_group":"g","inactive_threshold":11,"num_replicas":1,"mem_storage":true,"metadata":{"k":"v"}}"#;
        let config: ConsumerConfig = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&config).unwrap(), text);
        assert_eq!(config.filters(), vec!["a", "b"]);
    }

    #[test]
    fn actions_are_read_as_nats_server_spells_them() {
        let parse = |text: &str| serde_json::from_str::<CreateConsumerRequest>(text);
        assert_eq!(parse("{}").unwrap().action, ConsumerAction::CreateOrUpdate);
        assert_eq!(
            parse(r#"{"action":"create"}"#).unwrap().action,
            ConsumerAction::Create
        );
        assert_eq!(
            parse(r#"{"action":"update"}"#).unwrap().action,
            ConsumerAction::Update
        );
        assert!(parse(r#"{"action":"upsert"}"#).is_err());
    }
}
