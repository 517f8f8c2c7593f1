//! The part of a connection other connections touch: its outbound buffer and its socket.
//!
//! Publishers append frames to a subscriber's outbound buffer under a short lock and
//! mark the subscriber "flush pending"; at the end of each read batch they wake its
//! writer once. So a burst of messages costs one wake and one write, not one per message.

use super::auth::SharedAuthz;
use super::CloseReason;
use crate::account::imports::Forward;
use crate::account::Account;
use crate::internal::InternalSink;

use crate::subscription::SubscriptionRef;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// What happened to a frame offered to a connection's outbound buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the caller must wake this connection's writer at the end of its batch.
    NeedsFlush,
    /// Queued; a wake is already promised by someone.
    FlushAlreadyPending,
    /// Not queued: the connection is closed.
    Closed,
    /// Not queued: it would have gone over `max_pending`; the connection is now closed.
    SlowConsumer,
}

pub(crate) struct OutboundState {
    /// Frames waiting for the writer.
    pub buf: Vec<u8>,
    /// Bytes the writer has taken but not yet finished writing.
    pub in_flight: usize,
    /// Set once; the writer drains (or drops) what is left and shuts the socket.
    pub closed: Option<CloseReason>,
    /// Messages queued to this connection.
    pub out_msgs: u64,
    /// Message bytes (headers and payload, no framing) queued to this connection.
    pub out_bytes: u64,
}

/// What a client said about itself in CONNECT, shown by `/connz`.
#[derive(Debug, Clone, Default)]
pub struct ClientIdentity {
    /// The connection's name.
    pub name: String,
    /// The client library's language.
    pub lang: String,
    /// The client library's version.
    pub version: String,
    /// The user it authenticated as (empty without authentication).
    pub user: String,
}

/// A connection as seen by the rest of the server.
pub struct ClientShared {
    /// The connection id (`cid`).
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// Set at CONNECT for clients (protocol 1) that accept INFO updates later on.
    pub info_updates: AtomicBool,
    /// Set before the reader starts for a client that came through the websocket listener.
    pub websocket: AtomicBool,
    /// `ip:port - cid:N`, plus the client's name once known: the prefix of its log lines.
    label: Mutex<Arc<str>>,
    /// Whether the client accepts HMSG; messages with headers are stripped otherwise.
    pub headers: AtomicBool,
    /// PINGs sent and not yet answered.
    pub pings_outstanding: AtomicU32,
    /// Milliseconds since server start of the last inbound read batch.
    pub last_activity_ms: AtomicU64,
    /// Set by the reader at CONNECT: the writer re-arms the first PING.
    pub connect_received: AtomicBool,
    pub(crate) outbound: Mutex<OutboundState>,
    flush_pending: AtomicBool,
    /// Set while more than half of `max_pending` is queued: publishers should stall.
    pub(crate) backed_up: AtomicBool,
    /// Signalled when a backed-up connection has drained below half of `max_pending`.
    pub(crate) drained: Notify,
    pub(crate) wake_writer: Notify,
    socket: Mutex<Option<Arc<TcpStream>>>,
    /// Set for plain TCP clients: the socket carries the protocol as is (no TLS, no
    /// websocket framing), so a server thread may write queued bytes straight to it.
    direct_writes: AtomicBool,
    /// When the connection was accepted (wall clock, for `/connz`).
    pub start: SystemTime,
    /// When the connection was accepted (monotonic, for round-trip times).
    start_instant: Instant,
    /// The account the client is bound to: `$G` until CONNECT binds it to its user's.
    account: Mutex<Arc<Account>>,
    /// Name, language and version from CONNECT.
    identity: Mutex<Arc<ClientIdentity>>,
    /// Messages received from this client; added once per read batch.
    pub in_msgs: AtomicU64,
    /// Message bytes received from this client; added once per read batch.
    pub in_bytes: AtomicU64,
    /// The last PING round trip in nanoseconds; 0 until one is measured.
    pub rtt_nanos: AtomicU64,
    /// Nanoseconds after `start_instant` that the outstanding PING was sent; 0 if none.
    ping_sent_nanos: AtomicU64,
    /// Authorization state publishers and reloads consult (see `auth.rs`).
    pub(crate) authz: Mutex<SharedAuthz>,
    /// Deliveries must consult `authz`: a deny filter is on or replies are tracked.
    pub(crate) authz_at_delivery: AtomicBool,
    /// Bumped when the permissions in `authz` change, so the reader rebuilds its checks.
    pub(crate) authz_generation: AtomicU64,
    /// The client's subscriptions by sid. Only its own reader changes it (SUB/UNSUB),
    /// so the lock is contended only by monitoring.
    pub(crate) subscriptions: Mutex<HashMap<Box<[u8]>, SubscriptionRef>>,
    /// Set for the server's own subscribers: messages go to JetStream's in-process sink, or
    /// are forwarded to another account, instead of to an outbound buffer.
    pub(crate) internal: Option<Internal>,
}

/// What the server's own subscribers do with a message.
pub(crate) enum Internal {
    /// JetStream's subscriber in one account: into its inbox.
    Sink(InternalSink),
    /// An import's subscriber: the router forwards the message to another account.
    Forward(Forward),
}

impl ClientShared {
    pub(crate) fn new(
        id: u64,
        peer: SocketAddr,
        label: String,
        socket: Option<Arc<TcpStream>>,
        account: Arc<Account>,
    ) -> Self {
        ClientShared {
            id,
            peer,
            info_updates: AtomicBool::new(false),
            websocket: AtomicBool::new(false),
            label: Mutex::new(label.into()),
            headers: AtomicBool::new(false),
            pings_outstanding: AtomicU32::new(0),
            last_activity_ms: AtomicU64::new(0),
            connect_received: AtomicBool::new(false),
            outbound: Mutex::new(OutboundState {
                buf: Vec::new(),
                in_flight: 0,
                closed: None,
                out_msgs: 0,
                out_bytes: 0,
            }),
            flush_pending: AtomicBool::new(false),
            backed_up: AtomicBool::new(false),
            drained: Notify::new(),
            wake_writer: Notify::new(),
            socket: Mutex::new(socket),
            direct_writes: AtomicBool::new(false),
            start: SystemTime::now(),
            start_instant: Instant::now(),
            account: Mutex::new(account),
            identity: Mutex::new(Arc::new(ClientIdentity::default())),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            rtt_nanos: AtomicU64::new(0),
            ping_sent_nanos: AtomicU64::new(0),
            authz: Mutex::new(SharedAuthz::default()),
            authz_at_delivery: AtomicBool::new(false),
            authz_generation: AtomicU64::new(0),
            subscriptions: Mutex::new(HashMap::new()),
            internal: None,
        }
    }

    /// A connection with no socket whose messages go to `sink`: the server's own subscriber
    /// in one account.
    pub(crate) fn new_internal(id: u64, account: Arc<Account>, sink: InternalSink) -> Self {
        let peer = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut client = ClientShared::new(id, peer, format!("internal - cid:{id}"), None, account);
        client.internal = Some(Internal::Sink(sink));
        client
    }

    /// A connection with no socket whose matches the router forwards as `forward` says: an
    /// import's subscriber in `account`.
    pub(crate) fn new_forwarder(id: u64, account: Arc<Account>, forward: Forward) -> Self {
        let peer = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut client = ClientShared::new(id, peer, format!("import - cid:{id}"), None, account);
        client.internal = Some(Internal::Forward(forward));
        client
    }

    /// The account the client is bound to.
    pub fn account(&self) -> Arc<Account> {
        Arc::clone(&self.account.lock())
    }

    /// The name of the account the client is bound to.
    pub fn account_name(&self) -> Arc<str> {
        self.account.lock().name.as_str().into()
    }

    pub(crate) fn set_account(&self, account: Arc<Account>) {
        *self.account.lock() = account;
    }

    /// Name, language and version from CONNECT.
    pub fn identity(&self) -> Arc<ClientIdentity> {
        Arc::clone(&self.identity.lock())
    }

    pub(crate) fn set_identity(&self, identity: ClientIdentity) {
        *self.identity.lock() = Arc::new(identity);
    }

    /// Notes that a PING left now, to time the round trip when its PONG comes back.
    pub(crate) fn note_ping_sent(&self) {
        let now = self.start_instant.elapsed().as_nanos() as u64;
        // Zero means "none outstanding"; a PING in the first nanosecond counts as 1 ns.
        self.ping_sent_nanos.store(now.max(1), Ordering::Relaxed);
    }

    /// Estimates the round trip as the time from accept to CONNECT, as nats-server does,
    /// until a PING measures it.
    pub(crate) fn estimate_rtt_at_connect(&self) {
        let elapsed = self.start_instant.elapsed().as_nanos() as u64;
        let _ = self.rtt_nanos.compare_exchange(
            0,
            elapsed.max(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// Records the round trip of the outstanding PING, if any.
    pub(crate) fn note_pong(&self) {
        let sent = self.ping_sent_nanos.swap(0, Ordering::Relaxed);
        if sent > 0 {
            let now = self.start_instant.elapsed().as_nanos() as u64;
            self.rtt_nanos
                .store(now.saturating_sub(sent).max(1), Ordering::Relaxed);
        }
    }

    /// Bytes queued and in flight to this client: `/connz`'s `pending_bytes`.
    pub fn pending_bytes(&self) -> usize {
        let state = self.outbound.lock();
        state.buf.len() + state.in_flight
    }

    /// How many subscriptions are live.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions
            .lock()
            .values()
            .filter(|sub| !sub.removed.load(Ordering::Acquire))
            .count()
    }

    /// The live subscriptions, for monitoring.
    pub fn subscriptions(&self) -> Vec<SubscriptionRef> {
        self.subscriptions
            .lock()
            .values()
            .filter(|sub| !sub.removed.load(Ordering::Acquire))
            .cloned()
            .collect()
    }

    /// The log prefix for this connection.
    pub fn label(&self) -> Arc<str> {
        Arc::clone(&self.label.lock())
    }

    pub(crate) fn set_label(&self, label: String) {
        *self.label.lock() = label.into();
    }

    /// Appends one frame written by `write` unless that would exceed `max_pending`.
    /// `message_bytes` (headers and payload of a delivered message) adds it to the
    /// connection's outbound message statistics; protocol lines pass `None`.
    pub fn queue(
        &self,
        max_pending: usize,
        message_bytes: Option<usize>,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Queued {
        {
            let mut state = self.outbound.lock();
            if state.closed.is_some() {
                return Queued::Closed;
            }
            let before = state.buf.len();
            write(&mut state.buf);
            if state.buf.len() + state.in_flight > max_pending {
                state.buf.truncate(before);
                drop(state);
                self.close(CloseReason::SlowConsumerPendingBytes, false);
                return Queued::SlowConsumer;
            }
            if let Some(bytes) = message_bytes {
                state.out_msgs += 1;
                state.out_bytes += bytes as u64;
            }
            if state.buf.len() + state.in_flight > max_pending / 2 {
                self.backed_up.store(true, Ordering::Release);
            }
        }
        self.mark_flush_pending()
    }

    /// Promises a wake of the writer (or internal sink): only the first caller since the last
    /// flush must deliver it.
    pub(crate) fn mark_flush_pending(&self) -> Queued {
        if self.flush_pending.load(Ordering::Relaxed)
            || self.flush_pending.swap(true, Ordering::AcqRel)
        {
            Queued::FlushAlreadyPending
        } else {
            Queued::NeedsFlush
        }
    }

    /// Queues protocol bytes outside any read batch and wakes the writer at once.
    pub fn send_now(&self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.queue(usize::MAX, None, write) == Queued::NeedsFlush {
            self.flush();
        }
    }

    /// Wakes the writer for what was queued with [`Queued::NeedsFlush`]. Called by client
    /// readers: a server thread's internal client may have the reader run the thread's
    /// work itself ([`InternalSink::run_or_wake`]).
    pub fn flush(&self) {
        match &self.internal {
            Some(Internal::Sink(sink)) => {
                self.flush_pending.store(false, Ordering::Release);
                sink.run_or_wake();
            }
            _ => self.wake(),
        }
    }

    /// Like [`flush`](Self::flush), for server threads: an internal client's thread is only
    /// woken, never run here (the caller may be that very thread, or hold its locks).
    fn wake(&self) {
        self.flush_pending.store(false, Ordering::Release);
        match &self.internal {
            None => self.wake_writer.notify_one(),
            Some(Internal::Sink(sink)) => sink.wake(),
            // Nothing is ever queued to a forwarder.
            Some(Internal::Forward(_)) => {}
        }
    }

    /// Lets server threads write to the socket directly ([`flush_direct`](Self::flush_direct)):
    /// for connections whose transport is the plain socket.
    pub(crate) fn allow_direct_writes(&self) {
        self.direct_writes.store(true, Ordering::Release);
    }

    /// Like [`flush`](Self::flush), for server threads outside the runtime, where waking the
    /// writer costs a syscall here and a context switch on another thread: while the writer
    /// is idle, what is queued is written straight to the socket without blocking, and the
    /// writer is woken only for what the socket did not take (or to report an error).
    pub(crate) fn flush_direct(&self) {
        if self.direct_writes.load(Ordering::Acquire) && !self.backed_up.load(Ordering::Acquire) {
            let mut state = self.outbound.lock();
            if state.in_flight == 0 && state.closed.is_none() && !state.buf.is_empty() {
                if let Some(socket) = self.socket.lock().as_ref() {
                    if let Ok(written) = socket.try_write(&state.buf) {
                        state.buf.drain(..written);
                    }
                }
            }
            if state.buf.is_empty() {
                // Cleared under the lock: whoever queues next sees it and wakes the writer.
                self.flush_pending.store(false, Ordering::Release);
                return;
            }
        }
        self.wake();
    }

    /// True while publishers to this connection should hold back.
    pub fn is_backed_up(&self) -> bool {
        self.backed_up.load(Ordering::Acquire)
    }

    /// Called by the writer after each write: releases stalled publishers once the
    /// connection has drained below half of `max_pending`.
    pub(crate) fn note_drained(&self, max_pending: usize) {
        if self.backed_up.load(Ordering::Acquire) {
            let state = self.outbound.lock();
            if state.closed.is_some() || state.buf.len() + state.in_flight <= max_pending / 2 {
                self.backed_up.store(false, Ordering::Release);
                self.drained.notify_waiters();
            }
        }
    }

    /// Marks the connection closed; returns false if it already was. With `flush`, what
    /// is queued (such as a final `-ERR`) is still written; without, it is dropped and
    /// the socket is shut down at once, which also unblocks a writer stuck on a full socket.
    pub fn close(&self, reason: CloseReason, flush: bool) -> bool {
        {
            let mut state = self.outbound.lock();
            if state.closed.is_some() {
                return false;
            }
            state.closed = Some(reason);
            if !flush {
                state.buf = Vec::new();
            }
        }
        if !flush {
            self.shutdown_socket();
        }
        self.wake_writer.notify_one();
        true
    }

    /// Why the connection closed, if it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.outbound.lock().closed
    }

    /// Shuts the socket down in both directions, waking both of its tasks.
    pub(crate) fn shutdown_socket(&self) {
        if let Some(socket) = self.socket.lock().as_ref() {
            // Errors mean the socket is already gone, which is what we want.
            let _ = socket2::SockRef::from(socket.as_ref()).shutdown(std::net::Shutdown::Both);
        }
    }

    /// Drops the socket handle so the descriptor closes once both tasks are done.
    pub(crate) fn release_socket(&self) {
        self.socket.lock().take();
    }

    /// Messages and bytes queued to this connection so far.
    pub fn outbound_totals(&self) -> (u64, u64) {
        let state = self.outbound.lock();
        (state.out_msgs, state.out_bytes)
    }
}
