//! The system account thread's part in service latency tracking: it turns the routers'
//! [`LatencyReport`]s into nats-server's `ServiceLatency` JSON and publishes each on its
//! export's latency subject in the exporting account, through one internal client per
//! such account; and, while tracked routes are open, it looks for those that timed out
//! (504) once a second.

use super::events::{ClientInfo, ServiceLatency, TypedEvent, SERVICE_LATENCY_TYPE};
use crate::account::latency::{LatencyReport, LatencyStatus, Party, Tracking};
use crate::account::Account;
use crate::client::Internal;
use crate::internal::{Inbox, InternalClient, InternalMessage};
use crate::monitor::format;
use crate::server::ServerState;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How often open tracked routes are checked for timeouts.
pub(super) const TIMEOUT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Internal clients publishing reports, one per exporting account (by account id).
#[derive(Default)]
pub(super) struct LatencyPublishers {
    clients: HashMap<u64, InternalClient>,
    /// When to look for timed-out tracked routes next; `None` while none are open.
    pub timeout_check_due: Option<Instant>,
}

impl LatencyPublishers {
    /// Publishes `message` on `report`'s subject in its exporter.
    pub fn publish(
        &mut self,
        server: &ServerState,
        inbox: &Arc<Inbox>,
        report: &LatencyReport,
        message: &ServiceLatency,
    ) {
        let body = serde_json::to_vec(message).unwrap_or_default();
        let client = self
            .clients
            .entry(report.exporter.id)
            .or_insert_with(|| InternalClient::new(server, Arc::clone(&report.exporter), inbox));
        let message = InternalMessage {
            subject: &report.subject,
            deliver: &report.subject,
            reply: None,
            headers: &[],
            payload: &body,
            cached: true,
        };
        client.send(server, server.options().max_pending, message);
    }

    /// Wakes the writers the reports reached and counts the deliveries.
    pub fn end_batch(&mut self, server: &ServerState) {
        for client in self.clients.values_mut() {
            client.end_batch(server);
        }
    }

    /// Schedules a timeout check if any account has tracked routes and none is scheduled.
    pub fn schedule_timeout_check(&mut self, server: &ServerState, now: Instant) {
        if self.timeout_check_due.is_none() && any_tracked(server) {
            self.timeout_check_due = Some(now + TIMEOUT_CHECK_INTERVAL);
        }
    }

    /// If due, takes every tracked route past its deadline (as 504 reports) and schedules
    /// the next check while tracked routes remain.
    pub fn timed_out(&mut self, server: &ServerState, now: Instant) -> Vec<LatencyReport> {
        if self.timeout_check_due.is_none_or(|due| due > now) {
            return Vec::new();
        }
        let mut reports = Vec::new();
        let mut still_tracked = false;
        for account in server.accounts.all() {
            for tracking in account.responses.take_timed_out(now) {
                reports.push(timeout_report(&account, tracking));
            }
            still_tracked |= account.responses.has_tracked();
        }
        self.timeout_check_due = still_tracked.then(|| now + TIMEOUT_CHECK_INTERVAL);
        reports
    }
}

fn any_tracked(server: &ServerState) -> bool {
    server
        .accounts
        .all()
        .iter()
        .any(|account| account.responses.has_tracked())
}

/// A request that got no answer within its export's threshold (nats-server's
/// `sendBackendErrorTrackingLatency` with `rsiTimeout`).
fn timeout_report(exporter: &Arc<Account>, tracking: Tracking) -> LatencyReport {
    let requestor = Party::of(&tracking.requestor, tracking.share);
    let status = LatencyStatus::ServiceTimeout;
    let subject = &tracking.subject;
    LatencyReport::failure(exporter, subject, status, requestor, tracking.received_at)
}

/// The JSON of `report`, with its event header.
pub(super) fn message(
    server: &ServerState,
    system_account: &str,
    report: &LatencyReport,
    id: String,
) -> ServiceLatency {
    ServiceLatency {
        event: TypedEvent {
            kind: SERVICE_LATENCY_TYPE,
            id,
            timestamp: format::rfc3339_nanos(SystemTime::now()),
        },
        status: report.status.code(),
        description: report.status.description(),
        requestor: report
            .requestor
            .as_ref()
            .and_then(|party| client_info(server, system_account, party)),
        responder: report
            .responder
            .as_ref()
            .and_then(|party| client_info(server, system_account, party)),
        start: format::rfc3339_nanos(report.start),
        service: nanos(report.figures.service),
        system: nanos(report.figures.system),
        total: nanos(report.figures.total),
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// One party as nats-server's `getClientInfo` describes it: account and round trip always,
/// the rest when detailed. JetStream's internal client is kind `JetStream`; the system
/// account's own clients are not described, as nats-server leaves them out.
fn client_info(server: &ServerState, system_account: &str, party: &Party) -> Option<ClientInfo> {
    let client = &party.client;
    let account = client.account_name();
    let internal = matches!(client.internal, Some(Internal::Sink(_)));
    if internal && system_account == &*account {
        return None;
    }
    let mut info = ClientInfo {
        acc: account.to_string(),
        rtt: nanos(party.rtt),
        ..ClientInfo::default()
    };
    if !party.detailed {
        return Some(info);
    }
    info.server = server.server_name.clone();
    info.start = Some(format::rfc3339_nanos(client.start));
    info.id = client.id;
    if internal {
        info.kind = "JetStream".to_string();
        return Some(info);
    }
    info.host = client.peer.ip().to_string();
    let websocket = client.websocket.load(std::sync::atomic::Ordering::Relaxed);
    info.describe_client(&client.identity(), websocket);
    Some(info)
}
