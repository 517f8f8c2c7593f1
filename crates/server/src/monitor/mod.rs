//! HTTP monitoring: nats-server's `/varz`, `/connz`, `/subsz`, `/healthz` and friends with
//! the same JSON, plus a native Prometheus `/metrics`.
//!
//! Each endpoint's module builds its answer from plain snapshots and a `now` passed in;
//! this module is the shell around them: it gathers the snapshots from the live server,
//! routes requests and serves HTTP/1.1 with hyper.

pub mod connz;
pub mod format;
pub(crate) mod http;
pub mod jetstream;
pub mod metrics;
pub mod others;
pub mod process;
pub mod query;
pub mod subsz;
pub mod varz;

pub(crate) use http::{bind_listener, serve};

use crate::client::{ClientShared, CloseReason};
use crate::subscription::SubscriptionRef;
use connz::{ClosedConnections, ConnectionRecord, SubDetail, DEFAULT_MAX_CLOSED_CLIENTS};
use parking_lot::Mutex;
use process::{CpuSampler, ProcessUsage};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Instant, SystemTime};

/// Monitoring's own server-wide state.
pub struct MonitorState {
    /// Wall-clock start time (`/varz` `start`).
    pub start: SystemTime,
    /// Monotonic start time, the base of `ServerState::now_ms` stamps.
    pub start_instant: Instant,
    /// When the configuration was last loaded (reload will move it).
    pub config_load_time: Mutex<SystemTime>,
    /// Requests served per endpoint (`/varz` `http_req_stats`).
    pub request_counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Recently closed connections.
    pub closed: ClosedConnections,
    /// CPU percentage sampler.
    pub cpu: CpuSampler,
    /// The port the monitoring listener bound (0 without one), for `/varz` asked through
    /// the system account.
    pub http_port: AtomicU16,
}

impl MonitorState {
    /// Monitoring state for a server starting now.
    pub fn new(start_instant: Instant) -> Self {
        let start = SystemTime::now();
        MonitorState {
            start,
            start_instant,
            config_load_time: Mutex::new(start),
            request_counts: Mutex::new(BTreeMap::new()),
            closed: ClosedConnections::new(DEFAULT_MAX_CLOSED_CLIENTS),
            cpu: CpuSampler::new(start_instant, ProcessUsage::read().cpu_ticks),
            http_port: AtomicU16::new(0),
        }
    }

    /// Remembers a connection that just closed, with the subscriptions it had; returns what
    /// was remembered.
    pub(crate) fn record_closed(
        &self,
        client: &ClientShared,
        reason: CloseReason,
        subscriptions: &[SubscriptionRef],
    ) -> ConnectionRecord {
        let mut record = self.connection_record(client, true);
        record.stop = Some(SystemTime::now());
        record.reason = Some(reason.as_str());
        record.num_subscriptions = subscriptions.len();
        record.subscriptions = subscriptions
            .iter()
            .map(|sub| sub_detail(sub, None))
            .collect();
        self.closed.push(record.clone());
        record
    }

    /// A snapshot of one connection; subscriptions listed only `with_subscriptions`.
    pub(crate) fn connection_record(
        &self,
        client: &ClientShared,
        with_subscriptions: bool,
    ) -> ConnectionRecord {
        let (out_msgs, out_bytes) = client.outbound_totals();
        let last_ms = client.last_activity_ms.load(Ordering::Relaxed);
        let last_activity =
            (self.start + std::time::Duration::from_millis(last_ms)).max(client.start);
        let subscriptions = if with_subscriptions {
            client.subscriptions()
        } else {
            Vec::new()
        };
        let num_subscriptions = if with_subscriptions {
            subscriptions.len()
        } else {
            client.subscription_count()
        };
        ConnectionRecord {
            cid: client.id,
            ip: client.peer.ip().to_string(),
            port: client.peer.port(),
            start: client.start,
            last_activity,
            stop: None,
            reason: None,
            rtt_nanos: client.rtt_nanos.load(Ordering::Relaxed),
            pending_bytes: client.pending_bytes(),
            in_msgs: client.in_msgs.load(Ordering::Relaxed),
            out_msgs,
            in_bytes: client.in_bytes.load(Ordering::Relaxed),
            out_bytes,
            num_subscriptions,
            subscriptions: subscriptions
                .iter()
                .map(|sub| sub_detail(sub, None))
                .collect(),
            identity: client.identity(),
            account: client.account_name(),
            websocket: client.websocket.load(Ordering::Relaxed),
        }
    }

    /// Notes that the configuration was (re)loaded now (`/varz` `config_load_time`).
    pub fn note_config_loaded(&self) {
        *self.config_load_time.lock() = SystemTime::now();
    }

    /// Counts one request to `path`.
    pub fn count_request(&self, path: &'static str) {
        *self.request_counts.lock().entry(path).or_default() += 1;
    }
}

/// One subscription as `/connz` (no account) or `/subsz` (with account) shows it.
pub(crate) fn sub_detail(sub: &SubscriptionRef, account: Option<&str>) -> SubDetail {
    SubDetail {
        account: account.map(str::to_string),
        subject: String::from_utf8_lossy(&sub.subject).into_owned(),
        queue: sub
            .queue
            .as_deref()
            .map(|queue| String::from_utf8_lossy(queue).into_owned())
            .unwrap_or_default(),
        sid: String::from_utf8_lossy(&sub.sid).into_owned(),
        msgs: sub.delivered.load(Ordering::Relaxed),
        max: sub.max_deliveries.load(Ordering::Relaxed),
        cid: sub.client.id,
    }
}
