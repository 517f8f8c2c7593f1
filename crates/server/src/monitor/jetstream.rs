//! The seam between monitoring and JetStream: what `/jsz`, `/varz`, `/healthz` and
//! `/metrics` need from it. The JetStream thread publishes a [`JetStreamSnapshot`] after
//! every batch; without JetStream there is none, and every endpoint answers as nats-server
//! does with JetStream off.

use crate::jetstream::AccountDetails;
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
    /// Per-account detail, when asked for (`acc`, `accounts`, `streams`, `consumers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_details: Option<Vec<AccountDetail>>,
}

/// One account in `/jsz` (nats-server's `AccountDetail`).
#[derive(Debug, Serialize)]
pub struct AccountDetail {
    /// The account's name.
    pub name: String,
    /// Its id (the name, without operator mode).
    pub id: String,
    /// Its usage and API counters.
    #[serde(flatten)]
    pub stats: JetStreamStats,
    /// Its streams, with `streams`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stream_detail: Vec<serde_json::Value>,
}

/// What `/jsz` was asked to detail (`JSzOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JszOptions {
    /// One account only.
    pub account: String,
    /// Every account.
    pub accounts: bool,
    /// Their streams.
    pub streams: bool,
    /// The streams' consumers.
    pub consumers: bool,
    /// Configurations of streams and consumers.
    pub config: bool,
    /// Accounts skipped (in name order).
    pub offset: usize,
    /// Accounts listed at most.
    pub limit: usize,
}

impl JszOptions {
    /// Reads `/jsz`'s query parameters with nats-server's 400 texts.
    pub fn from_query(query: &super::query::Query) -> Result<JszOptions, super::query::QueryError> {
        query.bool("leader-only")?;
        let consumers = query.bool("consumers")?;
        let streams = query.bool("streams")? || consumers;
        let limit = query.int("limit")?;
        Ok(JszOptions {
            account: query.get("acc").unwrap_or_default().to_string(),
            accounts: query.bool("accounts")? || streams,
            streams,
            consumers,
            config: query.bool("config")?,
            offset: usize::try_from(query.int("offset")?).unwrap_or(0),
            limit: if limit <= 0 { 1024 } else { limit as usize },
        })
    }

    /// How much the JetStream thread must gather for this answer.
    pub(crate) fn level(&self) -> crate::jetstream::DetailLevel {
        crate::jetstream::DetailLevel {
            streams: self.streams,
            consumers: self.consumers,
            config: self.config,
        }
    }

    /// Whether the answer needs the JetStream thread's details at all.
    pub fn wants_details(&self) -> bool {
        self.accounts || !self.account.is_empty()
    }
}

/// The `account_details` of `/jsz` for `options`, from every account's full details:
/// one account if named, else every account when asked, paged in name order; streams,
/// consumers and configurations kept only as asked.
pub(crate) fn account_details(
    options: &JszOptions,
    accounts: &[AccountDetails],
) -> Vec<AccountDetail> {
    let mut chosen: Vec<&AccountDetails> = if !options.account.is_empty() {
        accounts
            .iter()
            .filter(|a| a.name == options.account)
            .collect()
    } else if options.accounts {
        let mut all: Vec<&AccountDetails> = accounts.iter().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.into_iter()
            .skip(options.offset)
            .take(options.limit)
            .collect()
    } else {
        Vec::new()
    };
    chosen.dedup_by(|a, b| a.name == b.name);
    chosen
        .into_iter()
        .map(|account| AccountDetail {
            name: account.name.clone(),
            id: account.name.clone(),
            stats: JetStreamStats {
                memory: account.usage.memory,
                storage: account.usage.storage,
                reserved_memory: account.usage.reserved_memory,
                reserved_storage: account.usage.reserved_storage,
                accounts: 0,
                ha_assets: 0,
                api: JszApi {
                    total: account.usage.api_total,
                    errors: account.usage.api_errors,
                },
            },
            stream_detail: if options.streams {
                account
                    .streams
                    .iter()
                    .map(|stream| trim_stream(stream, options))
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// A stream's detail with what was not asked for taken out.
fn trim_stream(stream: &serde_json::Value, options: &JszOptions) -> serde_json::Value {
    let mut stream = stream.clone();
    if let Some(object) = stream.as_object_mut() {
        if !options.config {
            object.remove("config");
        }
        if !options.consumers {
            object.remove("consumer_detail");
        } else if !options.config {
            if let Some(serde_json::Value::Array(consumers)) = object.get_mut("consumer_detail") {
                for consumer in consumers {
                    if let Some(consumer) = consumer.as_object_mut() {
                        consumer.remove("config");
                    }
                }
            }
        }
    }
    stream
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

/// Builds `/jsz` without account detail (see [`account_details`]).
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
        account_details: None,
    }
}
