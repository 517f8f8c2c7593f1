//! The system account's service: a thread with an internal client in the system account
//! that publishes nats-server's events (client connects and disconnects, account connection
//! counts, periodic server statistics, shutdown) and answers the `$SYS.REQ` requests with
//! the same JSON as the monitoring endpoints.
//!
//! Connections never wait on it: they queue an event and wake the thread, which builds the
//! JSON and routes it like any publish. Routers queue service latency measurements the same
//! way; the thread publishes them in the exporting account (`latency.rs`).

pub(crate) mod events;
mod latency;
mod requests;

use crate::account::latency::LatencyReport;
use crate::account::Account;
use crate::internal::{Batch, Inbox, InternalClient, InternalMessage};
use crate::monitor::connz::ConnectionRecord;
use crate::monitor::format;
use crate::monitor::http;
use crate::monitor::others::{AccountStat, DataStats};
use crate::server::ServerState;
use events::{
    AccountConnections, ClientInfo, ConnectEvent, DisconnectEvent, EventServer, TypedEvent,
    ACCOUNT_CONNECTIONS_TYPE, CONNECT_EVENT_TYPE, DISCONNECT_EVENT_TYPE,
};
use natrium_jetstream::consumer::advisory::IdGenerator;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use tracing::{error, warn};

/// The first statistics go out this soon after start; the interval then doubles.
const STATSZ_INTERVAL_FIRST: Duration = Duration::from_millis(250);
/// The interval of the periodic statistics, once ramped up.
const STATSZ_INTERVAL: Duration = Duration::from_secs(10);
/// How often an account with connections repeats its connection count.
const ACCOUNT_CONNS_HEARTBEAT: Duration = Duration::from_secs(30);
/// Events queued for the thread beyond which latency reports are dropped (and counted)
/// rather than queued: measurements must not grow memory when the thread falls behind.
const LATENCY_QUEUE_EVENTS_MAX: usize = 16 * 1024;

/// Something a connection tells the system account about.
pub(crate) enum SystemEvent {
    /// A client authenticated into an account.
    Connect(ConnectionRecord),
    /// A client of an account closed (the record has its stop time and reason).
    Disconnect(ConnectionRecord),
    /// A sampled service request was measured.
    Latency(LatencyReport),
}

/// Where connections queue events for the system thread.
pub(crate) struct SystemEvents {
    inbox: Arc<Inbox>,
    queue: Mutex<Vec<SystemEvent>>,
    /// Latency reports dropped because the queue was full, not yet logged.
    latency_dropped: AtomicU64,
}

impl SystemEvents {
    /// Queues `event` and wakes the thread.
    pub fn push(&self, event: SystemEvent) {
        self.queue.lock().push(event);
        self.inbox.wake();
    }

    /// Queues a latency report, unless [`LATENCY_QUEUE_EVENTS_MAX`] events already wait.
    pub fn push_latency(&self, report: LatencyReport) {
        {
            let mut queue = self.queue.lock();
            if queue.len() >= LATENCY_QUEUE_EVENTS_MAX {
                drop(queue);
                self.latency_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            queue.push(SystemEvent::Latency(report));
        }
        self.inbox.wake();
    }

    /// Wakes the thread to look at its timers (a tracked route opened).
    pub fn wake(&self) {
        self.inbox.wake();
    }
}

/// The running system account thread.
pub(crate) struct SystemService {
    events: Arc<SystemEvents>,
    thread: Option<JoinHandle<()>>,
}

impl SystemService {
    /// Subscribes to the `$SYS.REQ` subjects in `account` and starts the thread.
    pub fn start(server: Arc<ServerState>, account: Arc<Account>) -> Result<Self, String> {
        let inbox = Arc::new(Inbox::default());
        let events = Arc::new(SystemEvents {
            inbox: Arc::clone(&inbox),
            queue: Mutex::new(Vec::new()),
            latency_dropped: AtomicU64::new(0),
        });
        let mut client = InternalClient::new(&server, account, &inbox);
        client.set_filters(&requests::filters(&server.server_id));
        let worker = Worker {
            client,
            inbox,
            events: Arc::clone(&events),
            server,
            seq: 0,
            ids: IdGenerator::default(),
            statsz_interval: STATSZ_INTERVAL_FIRST,
            statsz_due: Instant::now() + STATSZ_INTERVAL_FIRST,
            tracked: BTreeMap::new(),
            latency: latency::LatencyPublishers::default(),
        };
        let thread = std::thread::Builder::new()
            .name("system".to_string())
            .spawn(move || worker.run())
            .map_err(|e| format!("starting the system account thread: {e}"))?;
        Ok(SystemService {
            events,
            thread: Some(thread),
        })
    }

    /// The queue connections report to.
    pub fn events(&self) -> Arc<SystemEvents> {
        Arc::clone(&self.events)
    }

    /// Publishes the shutdown event and stops the thread.
    pub fn shut_down(&mut self) {
        self.events.inbox.shut_down();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("system account thread panicked");
            }
        }
    }
}

impl Drop for SystemService {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The thread's state.
struct Worker {
    client: InternalClient,
    inbox: Arc<Inbox>,
    events: Arc<SystemEvents>,
    server: Arc<ServerState>,
    /// The `seq` of the last event's server block.
    seq: u64,
    ids: IdGenerator,
    statsz_interval: Duration,
    statsz_due: Instant,
    /// Accounts with connections, and when their count is next repeated.
    tracked: BTreeMap<String, Instant>,
    /// Where latency reports are published, and the timeout checks.
    latency: latency::LatencyPublishers,
}

impl Worker {
    fn run(mut self) {
        let mut spare = Batch::default();
        loop {
            let wait = self.next_due().saturating_duration_since(Instant::now());
            let Some(batch) = self.inbox.take(Some(wait), spare) else {
                break;
            };
            self.client.release_backpressure();
            for record in &batch.records {
                let reply = record.reply.as_ref().map(|reply| batch.text(reply));
                self.request(
                    batch.text(&record.subject),
                    reply,
                    batch.bytes(&record.payload),
                );
            }
            let events = std::mem::take(&mut *self.events.queue.lock());
            for event in events {
                self.event(event);
            }
            self.timers();
            self.client.end_batch(&self.server);
            self.latency.end_batch(&self.server);
            spare = batch;
        }
        let subject = format!("$SYS.SERVER.{}.SHUTDOWN", self.server.server_id);
        let server = self.event_server();
        self.publish(&subject, &server);
        self.client.end_batch(&self.server);
    }

    fn next_due(&self) -> Instant {
        let heartbeat = self.tracked.values().min().copied();
        let due = heartbeat.map_or(self.statsz_due, |due| due.min(self.statsz_due));
        self.latency
            .timeout_check_due
            .map_or(due, |check| check.min(due))
    }

    fn timers(&mut self) {
        let now = Instant::now();
        if now >= self.statsz_due {
            let subject = format!("$SYS.SERVER.{}.STATSZ", self.server.server_id);
            self.send_statsz(&subject);
            self.statsz_interval = (self.statsz_interval * 2).min(STATSZ_INTERVAL);
            self.statsz_due = now + self.statsz_interval;
        }
        let due: Vec<String> = self
            .tracked
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for account in due {
            self.account_connections(&account);
        }
        self.latency.schedule_timeout_check(&self.server, now);
        for report in self.latency.timed_out(&self.server, now) {
            self.latency_report(report);
        }
        let dropped = self.events.latency_dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            warn!("Dropped {dropped} service latency reports: the system account queue is full");
        }
    }

    /// Publishes one measurement on its export's latency subject, in the exporter.
    fn latency_report(&mut self, report: LatencyReport) {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let id = self.ids.next_id(nanos);
        let system_account = &self.client.account().name;
        let message = latency::message(&self.server, system_account, &report, id);
        self.latency
            .publish(&self.server, &self.inbox, &report, &message);
    }

    fn event(&mut self, event: SystemEvent) {
        let (record, connected) = match event {
            SystemEvent::Connect(record) => (record, true),
            SystemEvent::Disconnect(record) => (record, false),
            SystemEvent::Latency(report) => return self.latency_report(report),
        };
        let account = record.account.to_string();
        let now = SystemTime::now();
        let client = client_info(&record);
        if connected {
            let event = ConnectEvent {
                event: self.typed(CONNECT_EVENT_TYPE, now),
                server: self.event_server(),
                client,
            };
            self.publish(&format!("$SYS.ACCOUNT.{account}.CONNECT"), &event);
        } else {
            let event = DisconnectEvent {
                event: self.typed(DISCONNECT_EVENT_TYPE, now),
                server: self.event_server(),
                client,
                // As nats-server words it: what the client sent is what the server received.
                sent: DataStats {
                    msgs: record.in_msgs,
                    bytes: record.in_bytes,
                },
                received: DataStats {
                    msgs: record.out_msgs,
                    bytes: record.out_bytes,
                },
                reason: record.reason.unwrap_or_default().to_string(),
            };
            self.publish(&format!("$SYS.ACCOUNT.{account}.DISCONNECT"), &event);
        }
        self.account_connections(&account);
    }

    /// Publishes an account's connection count under both of nats-server's subjects, and
    /// repeats it while the account has connections.
    fn account_connections(&mut self, account: &str) {
        let Some(stat) = http::account_stat(&self.server, account) else {
            self.tracked.remove(account);
            return;
        };
        if stat.total_conns == 0 {
            self.tracked.remove(account);
        } else {
            self.tracked.insert(
                account.to_string(),
                Instant::now() + ACCOUNT_CONNS_HEARTBEAT,
            );
        }
        let message = self.account_connections_message(stat);
        let body = serde_json::to_vec(&message).unwrap_or_default();
        for subject in [
            format!("$SYS.ACCOUNT.{account}.SERVER.CONNS"),
            format!("$SYS.SERVER.ACCOUNT.{account}.CONNS"),
        ] {
            self.publish_bytes(&subject, &body);
        }
    }

    /// An account's connection count as nats-server sends it (event and CONNS answer).
    fn account_connections_message(&mut self, stat: AccountStat) -> AccountConnections {
        AccountConnections {
            event: self.typed(ACCOUNT_CONNECTIONS_TYPE, SystemTime::now()),
            server: self.event_server(),
            stat,
        }
    }

    fn typed(&mut self, kind: &'static str, now: SystemTime) -> TypedEvent {
        let nanos = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        TypedEvent {
            kind,
            id: self.ids.next_id(nanos),
            timestamp: format::rfc3339_nanos(now),
        }
    }

    /// The server block of the next message, with the next sequence number.
    fn event_server(&mut self) -> EventServer {
        self.seq += 1;
        requests::event_server(&self.server, self.seq)
    }

    fn publish<T: Serialize>(&mut self, subject: &str, message: &T) {
        let body = serde_json::to_vec(message).unwrap_or_default();
        self.publish_bytes(subject, &body);
    }

    fn publish_bytes(&mut self, subject: &str, body: &[u8]) {
        let message = InternalMessage {
            subject,
            deliver: subject,
            reply: None,
            headers: &[],
            payload: body,
            cached: false,
        };
        let max_pending = self.server.options().max_pending;
        self.client.send(&self.server, max_pending, message);
    }
}

/// A connection as advisories describe it.
fn client_info(record: &ConnectionRecord) -> ClientInfo {
    let mut info = ClientInfo {
        start: Some(format::rfc3339_nanos(record.start)),
        host: record.ip.clone(),
        id: record.cid,
        acc: record.account.to_string(),
        rtt: record.rtt_nanos,
        stop: record.stop.map(format::rfc3339_nanos),
        ..ClientInfo::default()
    };
    info.describe_client(&record.identity, record.websocket);
    info
}
