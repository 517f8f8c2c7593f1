//! JetStream in the server: a dedicated thread that owns the `natrium-jetstream` engine.
//!
//! Internal subscriptions (on `$JS.API.>` and every stream's subjects) deliver into an
//! [`Inbox`]; the thread takes a batch, hands each message to the engine, routes the consumer
//! deliveries the batch made possible, syncs the stores and waits for durability, and only
//! then routes the replies. While it waits, the next batch gathers in the inbox, so one fsync
//! covers every publish that arrived meanwhile (group commit) and no PubAck (nor any other
//! reply) leaves before what it confirms is on disk.

mod details;
mod durable;
mod internal;
mod provider;

use crate::account::Account;
use crate::internal::{Batch, Inbox};
use crate::monitor::jetstream::JetStreamSnapshot;
use crate::options::Options;
use crate::server::ServerState;
pub(crate) use details::{AccountDetails, DetailExchange, DetailLevel};
use durable::HeldReplies;
use internal::InternalClients;
use natrium_jetstream::{Inbound, JetStream, StoreProvider};
use provider::Resolved;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{error, info};

/// The longest the thread sleeps without traffic. Timers say when they are due
/// (`next_deadline`), but a push consumer waiting for its deliver subject to get a subscriber
/// has no deadline: this bounds how late it starts.
const IDLE_TICK_MAX: Duration = Duration::from_millis(100);
/// Deliveries are written out every this many messages of a batch, so a consumer's client
/// starts reading while the rest is produced.
const DELIVERY_FLUSH_EVERY: usize = 32;
/// Monitoring's figures are refreshed at most this often (they walk every stream's state).
const SNAPSHOT_INTERVAL_MIN: Duration = Duration::from_millis(20);

/// The running JetStream thread.
pub(crate) struct JetStreamService {
    inbox: Arc<Inbox>,
    thread: Option<JoinHandle<()>>,
}

impl JetStreamService {
    /// Opens the stores (recovering every stream) and starts the thread.
    pub fn start(server: Arc<ServerState>, options: &Options) -> Result<Self, String> {
        let inbox = Arc::new(Inbox::default());
        let details = Arc::new(DetailExchange::new(Arc::clone(&inbox)));
        let _ = server.jetstream_details.set(Arc::clone(&details));
        let (engine, resolved) = provider::open_engine(options, &server.server_name)?;
        let mut worker = Worker {
            clients: InternalClients::new(Arc::clone(&server), Arc::clone(&inbox)),
            engine,
            inbox: Arc::clone(&inbox),
            server,
            resolved,
            held: HeldReplies::start(Arc::clone(&inbox))?,
            snapshot_due: false,
            snapshot_at: std::time::Instant::now(),
            details,
        };
        // Subscribe before the client listener opens, so no early publish is missed.
        worker.sync_interest();
        worker.publish_snapshot();
        let thread = std::thread::Builder::new()
            .name("jetstream".to_string())
            .spawn(move || worker.run())
            .map_err(|e| format!("starting the JetStream thread: {e}"))?;
        Ok(JetStreamService {
            inbox,
            thread: Some(thread),
        })
    }

    /// Stops the thread after its current batch; the stores close with it.
    pub fn shut_down(&mut self) {
        self.inbox.shut_down();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("JetStream thread panicked");
            }
        }
    }
}

impl Drop for JetStreamService {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The thread's state.
struct Worker<P> {
    engine: JetStream<P>,
    clients: InternalClients,
    inbox: Arc<Inbox>,
    server: Arc<ServerState>,
    resolved: Resolved,
    /// Replies waiting for the fsync of what they confirm.
    held: HeldReplies,
    /// Something changed since monitoring's figures were last published.
    snapshot_due: bool,
    /// When they were last published.
    snapshot_at: std::time::Instant,
    /// Monitoring's requests for stream and consumer details.
    details: Arc<DetailExchange>,
}

impl<P: StoreProvider> Worker<P> {
    fn run(mut self) {
        let mut spare = Batch::default();
        let mut out = Vec::new();
        let mut deliveries = Vec::new();
        // Replies of batches stored while a sync was in flight: the next sync covers them.
        let mut unsynced = Vec::new();
        while let Some(batch) = self.inbox.take(Some(self.wait_limit()), spare) {
            self.clients.release_backpressure();
            let now = now_nanos();
            for record in &batch.records {
                let inbound = Inbound {
                    account: &record.account,
                    subject: batch.text(&record.subject),
                    reply: record.reply.as_ref().map(|reply| batch.text(reply)),
                    headers: batch.bytes(&record.headers),
                    payload: batch.bytes(&record.payload),
                };
                self.engine.handle(inbound, now, &mut out);
            }
            // Consumers ask per delivery and per pull request: the accounts are looked up
            // once per batch, and the walk allocates nothing.
            let accounts: Vec<Arc<Account>> = self
                .engine
                .account_names()
                .filter_map(|name| self.server.lookup_account(name))
                .collect();
            let has_interest = |account: &str, subject: &str| {
                accounts
                    .iter()
                    .find(|candidate| candidate.name == account)
                    .is_some_and(|account| account.sublist.has_interest(subject.as_bytes()))
            };
            self.engine.tick(now, &has_interest, &mut deliveries);
            // Consumer deliveries go before the fsync: their publishers have no PubAck yet,
            // so a delivery whose message a crash then loses breaks no promise (at-least-once
            // allows the redelivery of the publisher's retry), and waiting would add an fsync
            // to every message's way from publisher to consumer. The consumers' new
            // subscriptions (ack subjects) are in place first.
            self.sync_interest();
            let delivered = !deliveries.is_empty();
            for (index, message) in deliveries.drain(..).enumerate() {
                self.clients.send(&message);
                if (index + 1) % DELIVERY_FLUSH_EVERY == 0 {
                    self.clients.flush();
                }
            }
            if delivered {
                self.clients.end_batch();
            }
            // Replies wait for the tickets of the sync that covers them, on the sync thread,
            // while this thread goes on storing and delivering. One sync is in flight at a
            // time: what later batches write stays in the stores' buffers (readable) until it
            // settles, then one write and one fsync cover it all. Writing while the disk
            // flushes the same pages would block this thread for the whole fsync. New streams
            // are subscribed (above) before their creation is answered.
            let clients = &mut self.clients;
            let mut had_output = delivered | self.held.release(|message| clients.send(message));
            unsynced.append(&mut out);
            if self.held.is_empty() {
                let tickets = self.engine.sync();
                if !self.held.hold(&mut unsynced, tickets) {
                    had_output |= !unsynced.is_empty();
                    for message in unsynced.drain(..) {
                        self.clients.send(&message);
                    }
                }
            }
            if had_output {
                self.clients.end_batch();
            }
            self.snapshot_due |= !batch.records.is_empty() || had_output;
            if self.snapshot_due && self.snapshot_at.elapsed() >= SNAPSHOT_INTERVAL_MIN {
                self.publish_snapshot();
            }
            let engine = &mut self.engine;
            self.details.serve(|level| {
                engine
                    .account_details(level.streams, level.consumers, level.config)
                    .into_iter()
                    .map(|(name, usage, streams)| AccountDetails {
                        name,
                        usage,
                        streams,
                    })
                    .collect()
            });
            spare = batch;
        }
        let clients = &mut self.clients;
        self.held.finish(|message| clients.send(message));
        let tickets = self.engine.sync();
        if !self.held.hold(&mut unsynced, tickets) {
            for message in unsynced.drain(..) {
                self.clients.send(&message);
            }
        }
        let clients = &mut self.clients;
        self.held.finish(|message| clients.send(message));
        self.clients.end_batch();
        *self.server.jetstream_snapshot.lock() = None;
        info!("JetStream stopped");
    }

    /// How long to sleep at most: until the next timer (or monitoring's figures are due),
    /// within [`IDLE_TICK_MAX`].
    fn wait_limit(&self) -> Duration {
        let limit = if self.snapshot_due {
            SNAPSHOT_INTERVAL_MIN.saturating_sub(self.snapshot_at.elapsed())
        } else {
            IDLE_TICK_MAX
        };
        let Some(deadline) = self.engine.next_deadline() else {
            return limit;
        };
        let nanos = u64::try_from(deadline.saturating_sub(now_nanos())).unwrap_or(0);
        Duration::from_nanos(nanos).min(limit)
    }

    /// Puts the figures monitoring shows where it can read them without asking the thread.
    fn publish_snapshot(&mut self) {
        self.snapshot_due = false;
        self.snapshot_at = std::time::Instant::now();
        let (usage, accounts) = self.engine.usage();
        let resolved = &self.resolved;
        let snapshot = JetStreamSnapshot {
            max_memory: resolved.max_memory.max(0) as u64,
            max_storage: resolved.max_store.max(0) as u64,
            memory: usage.memory,
            storage: usage.storage,
            reserved_memory: usage.reserved_memory,
            reserved_storage: usage.reserved_storage,
            store_dir: resolved.store_dir.display().to_string(),
            domain: resolved.domain.clone(),
            accounts: accounts as u64,
            streams: usage.streams,
            consumers: usage.consumers,
            messages: usage.messages,
            bytes: usage.bytes,
            api_total: usage.api_total,
            api_errors: usage.api_errors,
        };
        *self.server.jetstream_snapshot.lock() = Some(snapshot);
    }

    fn sync_interest(&mut self) {
        let generation = self.engine.interest_generation();
        if self.clients.interest_generation() != generation {
            self.clients.subscribe(&self.engine.interest(), generation);
        }
    }
}

/// Nanoseconds since the Unix epoch: JetStream's timestamps.
fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
