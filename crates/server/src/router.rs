//! Routing one message within an account: match the subject, copy the message to each
//! interested subscriber's outbound buffer (or hand it to an internal subscriber such as
//! JetStream), pick one member per queue group, and wake every writer once per batch.
//!
//! A client's reader owns one `Router`; so does each internal publisher (JetStream's thread).
//! Nothing here awaits, so the same code serves tokio tasks and plain threads. Imports
//! (`forward.rs`) route a matched message on into another account with the same router.

mod forward;

use crate::account::Account;
use crate::client::{ClientShared, Internal, Queued};
use crate::server::{ServerState, ServerStats};
use crate::subscription::{Claim, SubscriptionRef};
use natrium_proto::encode::{self, Decimal};
use natrium_proto::Publish;
use natrium_sublist::{MatchCache, MatchResult};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::{info, trace};

/// Subjects each router keeps in its match cache.
const MATCH_CACHE_ENTRIES_MAX: usize = 1024;

/// Who is publishing, as delivery needs to know it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    /// The publishing connection's id.
    pub client_id: u64,
    /// Whether the publisher receives its own messages.
    pub echo: bool,
    /// The `max_pending` of the options in force.
    pub max_pending: usize,
    /// Whether protocol tracing is on (auto-unsubscribes are traced).
    pub trace: bool,
}

/// Per-publisher routing state: a match cache and what one batch touched.
pub(crate) struct Router {
    /// The connection (or server thread's client) publishing through this router: the
    /// requestor or responder of a request measured for latency tracking.
    publisher: Arc<ClientShared>,
    cache: MatchCache<SubscriptionRef>,
    /// Connections given data during this batch, woken once at its end.
    pending_flush: Vec<Arc<ClientShared>>,
    /// Backed-up connections this batch wrote to: a client producer waits for them.
    pub stalled_on: Vec<Arc<ClientShared>>,
    /// State of the generator that spreads messages across queue group members.
    rng: u64,
    /// Messages and bytes delivered in the publisher's account during this batch, published
    /// once at its end.
    out_msgs: u64,
    out_bytes: u64,
    /// Imports: how deep the current forwarding goes, reused subject buffers, and match
    /// caches of the other accounts messages were forwarded into.
    forwarding: forward::Forwarding,
}

impl Router {
    /// A router for `publisher`'s messages whose queue-member choices start from `seed`.
    pub fn new(seed: u64, publisher: Arc<ClientShared>) -> Self {
        Router {
            publisher,
            cache: MatchCache::new(MATCH_CACHE_ENTRIES_MAX),
            pending_flush: Vec::new(),
            stalled_on: Vec::new(),
            rng: seed | 1,
            out_msgs: 0,
            out_bytes: 0,
            forwarding: forward::Forwarding::default(),
        }
    }

    /// Delivers `publish` to every subscriber of `deliver_subject` in `account` (one member
    /// per queue group); returns whether anyone took it. The MSG line shows
    /// `publish.subject`, which differs from `deliver_subject` only for JetStream deliveries.
    pub fn route(
        &mut self,
        server: &ServerState,
        account: &Account,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let matches = self.cache.lookup(&account.sublist, deliver_subject);
        self.deliver_all(server, account, &matches, deliver_subject, publish, origin)
    }

    /// Like [`route`](Self::route) without the match cache: for subjects seen once (reply
    /// inboxes), which would only churn the cache.
    pub fn route_uncached(
        &mut self,
        server: &ServerState,
        account: &Account,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let (matches, _) = account.sublist.match_subject(deliver_subject);
        self.deliver_all(server, account, &matches, deliver_subject, publish, origin)
    }

    /// Forgets every cached match: the router now publishes into another account.
    pub fn reset_cache(&mut self) {
        self.cache = MatchCache::new(MATCH_CACHE_ENTRIES_MAX);
    }

    /// Queues bytes to one connection outside any subscription (protocol replies).
    pub fn send_to(&mut self, client: &Arc<ClientShared>, write: impl FnOnce(&mut Vec<u8>)) {
        if client.queue(usize::MAX, None, write) == Queued::NeedsFlush {
            self.pending_flush.push(Arc::clone(client));
        }
    }

    /// Adds the batch's delivery counters to the server's and the publisher's account's (and
    /// those of accounts service imports delivered into), once.
    pub fn publish_out_stats(&mut self, stats: &ServerStats, account: &Account) {
        self.forwarding.publish_foreign_stats(stats);
        if self.out_msgs == 0 {
            return;
        }
        let (msgs, bytes) = (self.out_msgs, self.out_bytes);
        stats.out_msgs.fetch_add(msgs, Ordering::Relaxed);
        stats.out_bytes.fetch_add(bytes, Ordering::Relaxed);
        account.stats.out_msgs.fetch_add(msgs, Ordering::Relaxed);
        account.stats.out_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.out_msgs = 0;
        self.out_bytes = 0;
    }

    /// Wakes every writer given data since the last call.
    pub fn flush(&mut self) {
        for client in self.pending_flush.drain(..) {
            client.flush();
        }
    }

    /// Like [`flush`](Self::flush), writing straight to the sockets of idle plain TCP
    /// clients: for server threads outside the runtime (see `ClientShared::flush_direct`).
    pub fn flush_direct(&mut self) {
        for client in self.pending_flush.drain(..) {
            client.flush_direct();
        }
    }

    fn deliver_all(
        &mut self,
        server: &ServerState,
        account: &Account,
        matches: &MatchResult<SubscriptionRef>,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let mut delivered = false;
        for sub in &matches.plain {
            delivered |= self.deliver(server, account, sub, deliver_subject, publish, origin);
        }
        for group in &matches.queues {
            let members = &group.members;
            let start = self.next_random() as usize % members.len();
            // Try members from a random start until one takes it (others may be closed).
            for offset in 0..members.len() {
                let member = &members[(start + offset) % members.len()];
                if self.deliver(server, account, member, deliver_subject, publish, origin) {
                    delivered = true;
                    break;
                }
            }
        }
        delivered
    }

    /// Copies the message into one subscriber's outbound buffer (or forwards it, for an
    /// import's subscriber).
    fn deliver(
        &mut self,
        server: &ServerState,
        account: &Account,
        sub: &SubscriptionRef,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let client = &sub.client;
        if !origin.echo && client.id == origin.client_id {
            return false;
        }
        if !client.admit_delivery(publish.subject, sub.queue.as_deref(), publish.reply) {
            return false;
        }
        let claim = sub.claim_delivery();
        if claim == Claim::Refused {
            return false;
        }
        let queued = match &client.internal {
            None => queue_message(client, sub, claim, publish, origin.max_pending),
            Some(Internal::Sink(sink)) => {
                sub.delivered.fetch_add(1, Ordering::Relaxed);
                sink.deliver(client, publish)
            }
            Some(Internal::Forward(forward)) => {
                return self.forward(server, forward, deliver_subject, publish, origin)
            }
        };
        if claim == Claim::Last {
            remove_subscription(account, sub, origin.trace);
        }
        match queued {
            Queued::NeedsFlush => self.pending_flush.push(Arc::clone(client)),
            Queued::FlushAlreadyPending => {}
            Queued::Closed => return false,
            Queued::SlowConsumer => {
                info!(
                    "{} - Slow Consumer Detected: MaxPending of {} Exceeded",
                    client.label(),
                    origin.max_pending
                );
                server.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
                account.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        if client.is_backed_up() && !self.stalled_on.iter().any(|c| Arc::ptr_eq(c, client)) {
            self.stalled_on.push(Arc::clone(client));
        }
        let bytes = publish.message.len() as u64;
        if !self.forwarding.count_foreign(bytes) {
            self.out_msgs += 1;
            self.out_bytes += bytes;
        }
        true
    }

    /// xorshift64: cheap, and queue spreading and mapping weights need no more than that.
    pub fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// Writes MSG or HMSG for one subscriber into its outbound buffer.
fn queue_message(
    client: &ClientShared,
    sub: &SubscriptionRef,
    claim: Claim,
    publish: &Publish<'_>,
    max_pending: usize,
) -> Queued {
    // Resolved outside the closure so the count under the lock is one load and store.
    let count_here = (claim == Claim::Unlimited).then_some(&sub.delivered);
    let with_headers =
        publish.header_len.unwrap_or(0) > 0 && client.headers.load(Ordering::Relaxed);
    // Counted as whole messages (headers included) everywhere, so the per-connection
    // totals in `/connz` add up to the server's in `/varz`.
    let message_bytes = Some(publish.message.len());
    client.queue(max_pending, message_bytes, |out| {
        if let Some(delivered) = count_here {
            // The subscriber's outbound lock, held here, serialises every delivery to
            // it, so a plain load and store count exactly (no locked add per message).
            delivered.store(delivered.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
        let (subject, sid, reply) = (publish.subject, &*sub.sid, publish.reply);
        if with_headers {
            let sizes = (publish.header_token, publish.size_token);
            encode::write_hmsg(out, subject, sid, reply, sizes, publish.message);
        } else if publish.header_len.is_some() {
            // The subscriber does not take headers: send the payload alone.
            let payload = publish.payload();
            let size = Decimal::new(payload.len());
            encode::write_msg(out, subject, sid, reply, size.as_bytes(), payload);
        } else {
            encode::write_msg(
                out,
                subject,
                sid,
                reply,
                publish.size_token,
                publish.message,
            );
        }
    })
}

/// Takes `sub` out of its account's sublist once, whoever gets there first.
pub(crate) fn remove_subscription(account: &Account, sub: &SubscriptionRef, trace: bool) {
    if !sub.removed.swap(true, Ordering::AcqRel) {
        account
            .sublist
            .remove(&sub.subject, sub.queue.as_deref(), sub);
        if trace {
            trace!(
                "{} - <-> [DELSUB {}]",
                sub.client.label(),
                String::from_utf8_lossy(&sub.sid)
            );
        }
    }
}
