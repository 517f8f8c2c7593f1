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
use crate::internal::{Batch, Inbox, InlineWork};
use crate::monitor::jetstream::JetStreamSnapshot;
use crate::options::Options;
use crate::server::ServerState;
pub(crate) use details::{AccountDetails, DetailExchange, DetailLevel};
use durable::HeldReplies;
use internal::InternalClients;
use natrium_jetstream::{Inbound, JetStream, Outbound, StoreProvider};
use parking_lot::Mutex;
use provider::Resolved;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::{error, info};

/// The longest the thread sleeps without traffic. Timers say when they are due
/// (`next_deadline`), but a push consumer waiting for its deliver subject to get a subscriber
/// has no deadline: this bounds how late it starts.
const IDLE_TICK_MAX: Duration = Duration::from_millis(100);
/// Monitoring's figures are refreshed at most this often (they walk every stream's state).
const SNAPSHOT_INTERVAL_MIN: Duration = Duration::from_millis(20);

/// The most messages a reader handles in the thread's place (see [`InlineWork`]): a
/// request/reply's batch is one message; bigger batches go to the thread, which keeps
/// storing while readers parse the next ones.
const INLINE_RECORDS_MAX: usize = 16;

/// Whether a reader handles `queued` itself: only a small batch that somebody awaits an
/// answer to (a synchronous publish, an API request, a pull request). Acks and async
/// publishes are better gathered by the thread, whose rounds (each ending in a consumer
/// state write) then cover more of them, while readers go on parsing.
fn worth_running_inline(queued: &Batch) -> bool {
    queued.records.len() <= INLINE_RECORDS_MAX
        && queued.records.iter().any(|record| record.reply.is_some())
}

/// How much later than due a timer set by a reader may fire: the thread is woken to replan
/// only for a timer due earlier than this before its planned wake.
const TIMER_SLACK: Duration = Duration::from_millis(1);

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
            snapshot_at: Instant::now(),
            details,
            batch: Batch::default(),
            out: Vec::new(),
            deliveries: Vec::new(),
            unsynced: Vec::new(),
            thread_wakes_at: Instant::now(),
            stopped: false,
            options_generation: 0,
        };
        // Subscribe before the client listener opens, so no early publish is missed.
        worker.sync_interest();
        worker.publish_snapshot();
        let shared = Arc::new(SharedWorker(Mutex::new(worker)));
        let work: Arc<dyn InlineWork> = Arc::clone(&shared) as Arc<dyn InlineWork>;
        inbox.offer_inline(Arc::downgrade(&work));
        drop(work);
        let thread_inbox = Arc::clone(&inbox);
        let thread = std::thread::Builder::new()
            .name("jetstream".to_string())
            .spawn(move || shared.run(&thread_inbox))
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

/// The engine and everything around it, run by the thread or, while the thread is idle, by
/// a reader whose batch for it is small. Batches are taken from the inbox only under this
/// lock, so they are handled in the order they were queued, whoever handles them.
struct SharedWorker<P>(Mutex<Worker<P>>);

impl<P: StoreProvider + Send> SharedWorker<P> {
    /// The thread: sleeps until woken or the next timer, then handles what is queued.
    fn run(&self, inbox: &Inbox) {
        let mut timeout = self.0.lock().plan_wait();
        while inbox.wait(Some(timeout)) {
            let mut worker = self.0.lock();
            worker.take_and_process(|_| true);
            timeout = worker.plan_wait();
        }
        let mut worker = self.0.lock();
        worker.finish();
        worker.stopped = true;
    }
}

impl<P: StoreProvider + Send> InlineWork for SharedWorker<P> {
    fn try_run(&self) -> bool {
        let Some(mut worker) = self.0.try_lock() else {
            return false;
        };
        if worker.stopped || !worker.take_and_process(worth_running_inline) {
            return false;
        }
        // The batch may have set an earlier timer (a pull request's expiry, a redelivery)
        // than the thread sleeps until: then it must be woken to replan.
        let due = Instant::now() + worker.wait_limit();
        due + TIMER_SLACK >= worker.thread_wakes_at
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
    snapshot_at: Instant,
    /// Monitoring's requests for stream and consumer details.
    details: Arc<DetailExchange>,
    /// The batch being handled (its buffers reused).
    batch: Batch,
    /// The batch's replies and advisories.
    out: Vec<Outbound>,
    /// The tick's consumer deliveries.
    deliveries: Vec<Outbound>,
    /// Replies of batches stored while a sync was in flight: the next sync covers them.
    unsynced: Vec<Outbound>,
    /// When the thread wakes up next without being woken.
    thread_wakes_at: Instant,
    /// The thread has finished: nothing may run any more.
    stopped: bool,
    /// The server options generation the engine's view of account imports reflects.
    options_generation: u64,
}

impl<P: StoreProvider> Worker<P> {
    /// Takes what the inbox holds, if `accept` takes it, and handles it; true when taken.
    fn take_and_process(&mut self, accept: impl FnOnce(&Batch) -> bool) -> bool {
        let mut batch = std::mem::take(&mut self.batch);
        let taken = self.inbox.take_into(&mut batch, accept);
        if taken {
            self.process(&batch);
        }
        self.batch = batch;
        taken
    }

    /// One round: handle the batch, tick the timers, deliver, sync and release replies.
    fn process(&mut self, batch: &Batch) {
        self.clients.release_backpressure();
        let generation = self.server.options_generation();
        if generation != self.options_generation {
            // A reload may have added or removed imports of another account's JetStream.
            self.options_generation = generation;
            provider::learn_external_apis(&mut self.engine, &self.server.options());
        }
        let now = now_nanos();
        for record in &batch.records {
            let inbound = Inbound {
                account: &record.account,
                subject: batch.text(&record.subject),
                reply: record.reply.as_ref().map(|reply| batch.text(reply)),
                headers: batch.bytes(&record.headers),
                payload: batch.bytes(&record.payload),
            };
            self.engine.handle(inbound, now, &mut self.out);
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
        self.engine.tick(now, &has_interest, &mut self.deliveries);
        // Consumer deliveries go before the fsync: their publishers have no PubAck yet,
        // so a delivery whose message a crash then loses breaks no promise (at-least-once
        // allows the redelivery of the publisher's retry), and waiting would add an fsync
        // to every message's way from publisher to consumer. The consumers' new
        // subscriptions (ack subjects) are in place first.
        self.sync_interest();
        let delivered = !self.deliveries.is_empty();
        // By reference, then cleared: moving each message out would copy it once more.
        for message in &self.deliveries {
            self.clients.send(message);
            if message.piece_end {
                self.clients.flush();
            }
        }
        self.deliveries.clear();
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
        let mut replied = self.held.release(|message| clients.send(message));
        self.unsynced.append(&mut self.out);
        if self.held.is_empty() {
            let tickets = self.engine.sync();
            if !self.held.hold(&mut self.unsynced, tickets) {
                replied |= !self.unsynced.is_empty();
                for message in self.unsynced.drain(..) {
                    self.clients.send(&message);
                }
            }
        }
        // The deliveries were written out above; only replies are left to.
        if replied {
            self.clients.end_batch();
        }
        self.snapshot_due |= !batch.records.is_empty() || delivered || replied;
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
    }

    /// Shutdown: waits for the last syncs and sends every reply still held.
    fn finish(&mut self) {
        let clients = &mut self.clients;
        self.held.finish(|message| clients.send(message));
        let tickets = self.engine.sync();
        if !self.held.hold(&mut self.unsynced, tickets) {
            for message in self.unsynced.drain(..) {
                self.clients.send(&message);
            }
        }
        let clients = &mut self.clients;
        self.held.finish(|message| clients.send(message));
        self.clients.end_batch();
        *self.server.jetstream_snapshot.lock() = None;
        info!("JetStream stopped");
    }

    /// How long the thread sleeps next (see [`wait_limit`](Self::wait_limit)), noted so a
    /// reader that sets an earlier timer knows to wake it.
    fn plan_wait(&mut self) -> Duration {
        let limit = self.wait_limit();
        self.thread_wakes_at = Instant::now() + limit;
        limit
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
        self.snapshot_at = Instant::now();
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
