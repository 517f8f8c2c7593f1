//! Response bodies of the JetStream API, with nats-server's field names and omissions.

use crate::errors::ApiError;
use crate::stream::config::StreamConfig;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `type` field of each response: `io.nats.jetstream.api.v1.<endpoint>_response`.
pub mod response_type {
    /// `$JS.API.INFO`.
    pub const ACCOUNT_INFO: &str = "io.nats.jetstream.api.v1.account_info_response";
    /// `$JS.API.STREAM.CREATE.*`.
    pub const STREAM_CREATE: &str = "io.nats.jetstream.api.v1.stream_create_response";
    /// `$JS.API.STREAM.INFO.*`.
    pub const STREAM_INFO: &str = "io.nats.jetstream.api.v1.stream_info_response";
    /// `$JS.API.STREAM.DELETE.*`.
    pub const STREAM_DELETE: &str = "io.nats.jetstream.api.v1.stream_delete_response";
    /// `$JS.API.STREAM.NAMES`.
    pub const STREAM_NAMES: &str = "io.nats.jetstream.api.v1.stream_names_response";
    /// `$JS.API.STREAM.LIST`.
    pub const STREAM_LIST: &str = "io.nats.jetstream.api.v1.stream_list_response";
    /// `$JS.API.STREAM.UPDATE.*`.
    pub const STREAM_UPDATE: &str = "io.nats.jetstream.api.v1.stream_update_response";
    /// `$JS.API.STREAM.PURGE.*`.
    pub const STREAM_PURGE: &str = "io.nats.jetstream.api.v1.stream_purge_response";
    /// `$JS.API.STREAM.MSG.GET.*`.
    pub const STREAM_MSG_GET: &str = "io.nats.jetstream.api.v1.stream_msg_get_response";
    /// `$JS.API.STREAM.MSG.DELETE.*`.
    pub const STREAM_MSG_DELETE: &str = "io.nats.jetstream.api.v1.stream_msg_delete_response";
    /// `$JS.API.STREAM.SNAPSHOT.*`.
    pub const STREAM_SNAPSHOT: &str = "io.nats.jetstream.api.v1.stream_snapshot_response";
    /// `$JS.API.STREAM.RESTORE.*`.
    pub const STREAM_RESTORE: &str = "io.nats.jetstream.api.v1.stream_restore_response";
    /// `$JS.API.CONSUMER.CREATE.*` and `DURABLE.CREATE.*`.
    pub const CONSUMER_CREATE: &str = "io.nats.jetstream.api.v1.consumer_create_response";
    /// `$JS.API.CONSUMER.DELETE.*`.
    pub const CONSUMER_DELETE: &str = "io.nats.jetstream.api.v1.consumer_delete_response";
    /// `$JS.API.CONSUMER.INFO.*`.
    pub const CONSUMER_INFO: &str = "io.nats.jetstream.api.v1.consumer_info_response";
    /// `$JS.API.CONSUMER.NAMES.*`.
    pub const CONSUMER_NAMES: &str = "io.nats.jetstream.api.v1.consumer_names_response";
    /// `$JS.API.CONSUMER.LIST.*`.
    pub const CONSUMER_LIST: &str = "io.nats.jetstream.api.v1.consumer_list_response";
    /// `$JS.API.CONSUMER.LEADER.STEPDOWN.*`.
    pub const CONSUMER_LEADER_STEPDOWN: &str =
        "io.nats.jetstream.api.v1.consumer_leader_stepdown_response";
}

/// A stream's state as `StreamInfo.state` reports it; times are RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamStateJson {
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// The first sequence.
    pub first_seq: u64,
    /// When the first message was stored.
    pub first_ts: String,
    /// The last sequence.
    pub last_seq: u64,
    /// When the last message was stored.
    pub last_ts: String,
    /// Distinct subjects.
    #[serde(skip_serializing_if = "is_zero")]
    pub num_subjects: u64,
    /// Messages per subject, when `subjects_filter` asked for them (one page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjects: Option<BTreeMap<String, u64>>,
    /// Deleted sequences between first and last.
    #[serde(skip_serializing_if = "is_zero")]
    pub num_deleted: u64,
    /// The deleted sequences, when `deleted_details` asked for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Vec<u64>>,
    /// Consumers on the stream.
    pub consumer_count: u64,
}

/// `StreamInfo`: configuration, creation time and state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    /// The configuration in force.
    pub config: StreamConfig,
    /// When the stream was created (RFC 3339).
    pub created: String,
    /// The current state.
    pub state: StreamStateJson,
    /// The JetStream domain, on INFO and UPDATE answers when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The mirrored origin's progress, on a mirror.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<super::sourcing::SourceInfo>,
    /// Each sourced origin's progress.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<super::sourcing::SourceInfo>,
}

/// Paging fields of list-style responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Paged {
    /// Entries in all.
    pub total: usize,
    /// The first entry returned.
    pub offset: usize,
    /// The most entries one response carries.
    pub limit: usize,
}

/// Account limits as `$JS.API.INFO` reports them (-1 for no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccountLimits {
    /// Memory storage in bytes.
    pub max_memory: i64,
    /// File storage in bytes.
    pub max_storage: i64,
    /// Streams.
    pub max_streams: i64,
    /// Consumers.
    pub max_consumers: i64,
    /// Outstanding acks per consumer.
    pub max_ack_pending: i64,
    /// Largest memory stream.
    pub memory_max_stream_bytes: i64,
    /// Largest file stream.
    pub storage_max_stream_bytes: i64,
    /// Streams must set max_bytes.
    pub max_bytes_required: bool,
}

impl Default for AccountLimits {
    fn default() -> Self {
        AccountLimits {
            max_memory: -1,
            max_storage: -1,
            max_streams: -1,
            max_consumers: -1,
            max_ack_pending: -1,
            memory_max_stream_bytes: -1,
            storage_max_stream_bytes: -1,
            max_bytes_required: false,
        }
    }
}

/// API request counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiStats {
    /// Requests handled.
    pub total: u64,
    /// Requests answered with an error.
    pub errors: u64,
}

/// The body of `$JS.API.INFO`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountInfo {
    /// Memory storage used, in bytes.
    pub memory: u64,
    /// File storage used, in bytes.
    pub storage: u64,
    /// Memory storage reserved by streams' `max_bytes`, in bytes (nats-server 2.10).
    pub reserved_memory: u64,
    /// File storage reserved by streams' `max_bytes`, in bytes (nats-server 2.10).
    pub reserved_storage: u64,
    /// Streams.
    pub streams: usize,
    /// Consumers.
    pub consumers: usize,
    /// The account's limits.
    pub limits: AccountLimits,
    /// The JetStream domain, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// API counters.
    pub api: ApiStats,
}

/// An error response: `{"type": ..., "error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorResponse<'a> {
    /// The response type of the endpoint.
    #[serde(rename = "type")]
    pub kind: &'a str,
    /// What went wrong.
    pub error: ApiError,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}
