//! The seam between monitoring and JetStream: what `/jsz`, `/varz`, `/healthz` and
//! `/metrics` need from it. The JetStream thread publishes a [`JetStreamSnapshot`] after
//! every batch; without JetStream there is none, and every endpoint answers as nats-server
//! does with JetStream off.

use serde::Serialize;

/// JetStream's figures at one moment.
#[derive(Debug, Clone, Default)]
pub struct JetStreamSnapshot {
    /// Memory limit in bytes.
    pub max_memory: u64,
    /// Storage limit in bytes.
    pub max_storage: u64,
    /// Memory used by memory-backed streams, in bytes.
    pub memory: u64,
    /// Storage used by file-backed streams, in bytes.
    pub storage: u64,
    /// Memory reserved by streams' `max_bytes`, in bytes.
    pub reserved_memory: u64,
    /// Storage reserved by streams' `max_bytes`, in bytes.
    pub reserved_storage: u64,
    /// The store directory.
    pub store_dir: String,
    /// The JetStream domain, if any.
    pub domain: String,
    /// Accounts with JetStream enabled.
    pub accounts: u64,
    /// Streams.
    pub streams: u64,
    /// Consumers.
    pub consumers: u64,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// `$JS.API` requests served.
    pub api_total: u64,
    /// `$JS.API` requests answered with an error.
    pub api_errors: u64,
}

/// JetStream's latest figures; `None` while it is not running.
pub(crate) fn snapshot(server: &crate::server::ServerState) -> Option<JetStreamSnapshot> {
    server.jetstream_snapshot.lock().clone()
}

/// nats-server's `JSInfo` (the `/jsz` answer), with the figures it shows for a server
/// without JetStream (`disabled: true`, zeros).
#[derive(Debug, Serialize)]
pub struct Jsz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// True while JetStream is off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Limits.
    pub config: JszConfig,
    /// Usage and API counters, inline as nats-server embeds `JetStreamStats` in `JSInfo`.
    #[serde(flatten)]
    pub stats: JetStreamStats,
    /// Streams.
    pub streams: u64,
    /// Consumers.
    pub consumers: u64,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
}

/// `/jsz`'s `config` section (also `/varz`'s `jetstream.config`).
#[derive(Debug, Serialize)]
pub struct JszConfig {
    /// Memory limit, bytes.
    pub max_memory: u64,
    /// Storage limit, bytes.
    pub max_storage: u64,
    /// The store directory.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub store_dir: String,
    /// The JetStream domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

impl JszConfig {
    fn of(figures: &JetStreamSnapshot) -> JszConfig {
        JszConfig {
            max_memory: figures.max_memory,
            max_storage: figures.max_storage,
            store_dir: figures.store_dir.clone(),
            domain: figures.domain.clone(),
        }
    }
}

/// `/varz`'s `jetstream` section: empty with JetStream off.
#[derive(Debug, Default, Serialize)]
pub struct JetStreamVarz {
    /// The limits and directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<JszConfig>,
    /// Usage and API counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<JetStreamStats>,
}

/// nats-server's `JetStreamStats`.
#[derive(Debug, Serialize)]
pub struct JetStreamStats {
    /// Memory used, bytes.
    pub memory: u64,
    /// Storage used, bytes.
    pub storage: u64,
    /// Memory reserved, bytes.
    pub reserved_memory: u64,
    /// Storage reserved, bytes.
    pub reserved_storage: u64,
    /// JetStream-enabled accounts.
    pub accounts: u64,
    /// Replicated assets (no clustering yet).
    pub ha_assets: u64,
    /// API counters.
    pub api: JszApi,
}

/// Builds `/varz`'s `jetstream` section.
pub fn varz_section(snapshot: Option<&JetStreamSnapshot>) -> JetStreamVarz {
    let Some(figures) = snapshot else {
        return JetStreamVarz::default();
    };
    JetStreamVarz {
        config: Some(JszConfig::of(figures)),
        stats: Some(JetStreamStats::of(figures)),
    }
}

impl JetStreamStats {
    fn of(figures: &JetStreamSnapshot) -> JetStreamStats {
        JetStreamStats {
            memory: figures.memory,
            storage: figures.storage,
            reserved_memory: figures.reserved_memory,
            reserved_storage: figures.reserved_storage,
            accounts: figures.accounts,
            ha_assets: 0,
            api: JszApi {
                total: figures.api_total,
                errors: figures.api_errors,
            },
        }
    }
}

/// `/jsz`'s `api` section.
#[derive(Debug, Serialize)]
pub struct JszApi {
    /// Requests served.
    pub total: u64,
    /// Requests that failed.
    pub errors: u64,
}

/// Builds `/jsz`. The `acc`, `accounts`, `streams`, `consumers` and `config` parameters
/// select per-account detail, which exists only once JetStream does.
pub fn jsz(server_id: &str, now: String, snapshot: Option<&JetStreamSnapshot>) -> Jsz {
    let figures = snapshot.cloned().unwrap_or_default();
    Jsz {
        server_id: server_id.to_string(),
        now,
        disabled: snapshot.is_none(),
        config: JszConfig::of(&figures),
        stats: JetStreamStats::of(&figures),
        streams: figures.streams,
        consumers: figures.consumers,
        messages: figures.messages,
        bytes: figures.bytes,
    }
}
