//! A stream's configuration as the JetStream API carries it (`io.nats.jetstream.api.v1`),
//! with nats-server's JSON field names and which fields it leaves out when empty.
//!
//! Durations are integer nanoseconds on the wire, as Go's `time.Duration` marshals them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// When messages leave the stream besides its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionPolicy {
    /// Only limits (age, count, size) remove messages.
    #[default]
    Limits,
    /// A message goes once every consumer with interest has acknowledged it.
    Interest,
    /// A message goes once any consumer has acknowledged it.
    #[serde(rename = "workqueue")]
    WorkQueue,
}

/// What happens to a new message when a limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscardPolicy {
    /// Old messages make room.
    #[default]
    Old,
    /// The new message is refused.
    New,
}

/// Where the stream keeps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    /// On disk (the default).
    #[default]
    File,
    /// In memory.
    Memory,
}

/// How a file stream compresses what it keeps (`compression`, nats-server 2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Blocks are kept as written.
    #[default]
    None,
    /// nats-server's S2; Natrium's file store compresses sealed blocks with LZ4 instead, so
    /// the setting means "compress" and the bytes on disk are Natrium's own.
    S2,
}

/// A transform applied to subjects as messages enter the stream (nats-server 2.10).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubjectTransform {
    /// Subjects the transform applies to.
    #[serde(default)]
    pub src: String,
    /// What they become.
    #[serde(default)]
    pub dest: String,
}

/// Where replicas of a stream should be placed (clustered mode).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Placement {
    /// The cluster to place the stream in.
    pub cluster: String,
    /// Servers must carry all of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A stream in another account or domain, reached through its API and delivery prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExternalStream {
    /// The JetStream API prefix of the other domain or account.
    pub api: String,
    /// The subject prefix its messages are delivered on.
    #[serde(default)]
    pub deliver: String,
}

/// A mirror or source: another stream this one copies messages from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamSource {
    /// The origin stream's name.
    pub name: String,
    /// Start copying at this sequence.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub opt_start_seq: u64,
    /// Start copying at this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_start_time: Option<String>,
    /// Copy only messages whose subject matches.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filter_subject: String,
    /// The origin is in another account or domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalStream>,
}

/// Republish stored messages to another subject.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RePublish {
    /// Which stored subjects to republish.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src: String,
    /// Where to republish them.
    pub dest: String,
    /// Send only the headers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub headers_only: bool,
}

/// A stream's configuration. Integer limits use -1 for "no limit" once checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamConfig {
    /// The stream's name.
    pub name: String,
    /// A description for humans.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The subjects the stream stores, wildcards allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// When messages leave besides limits.
    pub retention: RetentionPolicy,
    /// Most consumers; -1 for no limit.
    pub max_consumers: i64,
    /// Most messages; -1 for no limit.
    pub max_msgs: i64,
    /// Most bytes; -1 for no limit.
    pub max_bytes: i64,
    /// Oldest message age in nanoseconds; 0 for no limit.
    pub max_age: i64,
    /// Most messages per subject; -1 for no limit.
    pub max_msgs_per_subject: i64,
    /// Largest message; -1 for no limit. An `int32` as in nats-server, so a larger value is
    /// invalid JSON there and here.
    #[serde(skip_serializing_if = "is_zero_i32")]
    pub max_msg_size: i32,
    /// What a full stream does with new messages.
    pub discard: DiscardPolicy,
    /// File or memory.
    pub storage: StorageType,
    /// Compression of a file stream's blocks.
    pub compression: Compression,
    /// The sequence the stream starts at.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub first_seq: u64,
    /// How many copies in a cluster.
    pub num_replicas: i64,
    /// Do not acknowledge publishes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_ack: bool,
    /// The deduplication window in nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub duplicate_window: i64,
    /// Placement in a cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// The stream this one mirrors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<StreamSource>,
    /// The streams this one sources from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<StreamSource>,
    /// Republish stored messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub republish: Option<RePublish>,
    /// Allow `$JS.API.DIRECT.GET` (what KV clients use).
    pub allow_direct: bool,
    /// Allow direct gets from mirrors too.
    pub mirror_direct: bool,
    /// With discard new, refuse per subject instead of for the whole stream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub discard_new_per_subject: bool,
    /// No more messages in or out, ever.
    pub sealed: bool,
    /// Messages may not be deleted.
    pub deny_delete: bool,
    /// The stream may not be purged.
    pub deny_purge: bool,
    /// Allow the `Nats-Rollup` header.
    pub allow_rollup_hdrs: bool,
    /// Transforms subjects as messages are stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_transform: Option<SubjectTransform>,
    /// Free-form annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

fn is_zero_u64(value: &u64) -> bool {
    *value == 0
}

fn is_zero_i32(value: &i32) -> bool {
    *value == 0
}

fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}
