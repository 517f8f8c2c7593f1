//! Reply permissions (`allow_responses`): a client may publish to a reply subject it received,
//! at most `max_msgs` times within `expires`. A small state machine with time passed in.

use crate::types::ResponsePermission;
use natrium_subject::hash::FastBuildHasher;
use std::collections::HashMap;
use std::time::Instant;

/// nats-server's `replyPermLimit`: past this many tracked reply subjects, used-up and expired
/// ones are pruned.
pub const TRACKED_REPLIES_MAX: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct Reply {
    received_at: Instant,
    responses: u64,
}

/// The reply subjects a connection received and may still respond to.
///
/// Deliveries to the connection call [`ResponseTracker::record`]; its own publishes that the
/// allow/deny lists refused call [`ResponseTracker::try_respond`]. Both happen under the
/// connection's shared lock, as nats-server does them under the client lock.
#[derive(Debug)]
pub struct ResponseTracker {
    permission: ResponsePermission,
    replies: HashMap<Box<[u8]>, Reply, FastBuildHasher>,
}

impl ResponseTracker {
    /// A tracker enforcing `permission`.
    pub fn new(permission: ResponsePermission) -> ResponseTracker {
        ResponseTracker {
            permission,
            replies: HashMap::default(),
        }
    }

    /// Number of reply subjects tracked.
    pub fn len(&self) -> usize {
        self.replies.len()
    }

    /// Whether no reply subject is tracked.
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    /// A message with reply subject `reply` was delivered to the connection at `now`. Receiving
    /// the same reply subject again restarts its count and clock, as in nats-server.
    pub fn record(&mut self, reply: &[u8], now: Instant) {
        if reply.is_empty() {
            return;
        }
        let fresh = Reply {
            received_at: now,
            responses: 0,
        };
        match self.replies.get_mut(reply) {
            Some(entry) => *entry = fresh,
            None => {
                self.replies.insert(reply.into(), fresh);
            }
        }
        if self.replies.len() > TRACKED_REPLIES_MAX {
            self.prune(now);
        }
    }

    /// The connection publishes to `subject` at `now`, which its lists deny: allowed if it is
    /// a tracked reply subject still within its count and time (nats-server's
    /// `responseAllowed`). A use that goes over either limit forgets the subject.
    pub fn try_respond(&mut self, subject: &[u8], now: Instant) -> bool {
        let Some(reply) = self.replies.get_mut(subject) else {
            return false;
        };
        reply.responses += 1;
        let reply = *reply;
        if self.is_spent(&reply, now) {
            self.replies.remove(subject);
            return false;
        }
        true
    }

    fn is_spent(&self, reply: &Reply, now: Instant) -> bool {
        let over_count = self
            .permission
            .max_msgs
            .is_some_and(|max| reply.responses > max);
        over_count || self.is_expired(reply, now)
    }

    fn is_expired(&self, reply: &Reply, now: Instant) -> bool {
        self.permission
            .expires
            .is_some_and(|ttl| now.saturating_duration_since(reply.received_at) > ttl)
    }

    /// nats-server's `pruneReplyPerms`: forget used-up and expired reply subjects. If more
    /// than [`TRACKED_REPLIES_MAX`] remain live, the oldest are forgotten down to three
    /// quarters of it: nats-server lets the map grow without bound here; we keep the bound,
    /// and sorting once per quarter of the limit keeps the cost per delivery small.
    fn prune(&mut self, now: Instant) {
        let max = self.permission.max_msgs;
        let ttl = self.permission.expires;
        self.replies.retain(|_, reply| {
            let used_up = max.is_some_and(|max| reply.responses >= max);
            let expired =
                ttl.is_some_and(|ttl| now.saturating_duration_since(reply.received_at) > ttl);
            !used_up && !expired
        });
        if self.replies.len() > TRACKED_REPLIES_MAX {
            // Oldest first; ties (one `now` for a whole read batch) broken by key, so the
            // bound holds however many share a timestamp.
            let mut by_age: Vec<(Instant, Box<[u8]>)> = self
                .replies
                .iter()
                .map(|(reply, entry)| (entry.received_at, reply.clone()))
                .collect();
            by_age.sort_unstable();
            let excess = by_age.len() - TRACKED_REPLIES_MAX * 3 / 4;
            for (_, reply) in by_age.into_iter().take(excess) {
                self.replies.remove(&reply);
            }
        }
    }
}
