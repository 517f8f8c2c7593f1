//! An exporter's routes back to the requesters of its services, as nats-server keeps them:
//! each forwarded request gets a reply subject `_R_.<account prefix>.<token>` in the
//! exporter, one wildcard subscription per exporter catches the answers, and this table says
//! which importer and which original reply each one stands for. A singleton route ends with
//! its first answer; every route ends at its export's `response_threshold`.
//!
//! A route of a request sampled for latency tracking carries its [`Tracking`]; when such a
//! route times out, it is kept aside for the system account's thread to report (504).

use super::latency::Tracking;
use super::Account;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Weak;
use std::time::Instant;

/// nats-server's `replyPrefix`.
pub const REPLY_PREFIX: &str = "_R_.";
/// Random characters in an account's prefix and in each reply token, as nats-server.
const TOKEN_LEN: usize = 6;
/// nats-server's alphabet for reply tokens (base 62).
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Where one reply subject leads.
#[derive(Clone)]
pub(crate) struct ResponseRoute {
    /// The account of the requester.
    pub importer: Weak<Account>,
    /// The requester's own reply subject.
    pub reply: Box<[u8]>,
    /// Whether the route ends with the first answer.
    pub singleton: bool,
    /// When the route ends regardless.
    pub deadline: Instant,
    /// Set when the request was sampled for latency tracking (singleton routes only).
    pub tracking: Option<Box<Tracking>>,
}

/// An exporter's response table.
pub(crate) struct Responses {
    /// `_R_.<6 characters>.`, fixed for the account's life.
    prefix: String,
    pending: Mutex<Pending>,
    /// Open routes with tracking plus timed-out tracked routes not yet reported: while
    /// non-zero, the system account's thread looks for timeouts (no lock taken otherwise).
    tracked: AtomicUsize,
}

#[derive(Default)]
struct Pending {
    routes: HashMap<Box<[u8]>, ResponseRoute>,
    /// Reply subjects in the order they were made, for expiry.
    by_age: VecDeque<(Instant, Box<[u8]>)>,
    /// Tracked routes that ended at their deadline, waiting to be reported.
    timed_out: Vec<Tracking>,
}

impl Responses {
    /// A table whose reply subjects start with a prefix drawn from `random`.
    pub fn new(random: u64) -> Self {
        let mut prefix = String::from(REPLY_PREFIX);
        push_token(&mut prefix, random);
        prefix.push('.');
        Responses {
            prefix,
            pending: Mutex::new(Pending::default()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// `_R_.<prefix>.`: what every reply subject of this exporter starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Records `route` and writes its new reply subject (a token drawn from `random`) into
    /// `out`. Routes past their deadline are dropped on the way. Returns true when this is
    /// the only tracked route, so the caller wakes whoever reports timeouts.
    pub fn register(
        &self,
        mut random: impl FnMut() -> u64,
        route: ResponseRoute,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> bool {
        let first_tracked =
            route.tracking.is_some() && self.tracked.fetch_add(1, Ordering::AcqRel) == 0;
        let mut pending = self.pending.lock();
        pending.expire(now);
        let mut subject = String::with_capacity(self.prefix.len() + TOKEN_LEN);
        loop {
            subject.clear();
            subject.push_str(&self.prefix);
            push_token(&mut subject, random());
            if !pending.routes.contains_key(subject.as_bytes()) {
                break;
            }
        }
        let key: Box<[u8]> = subject.as_bytes().into();
        pending.by_age.push_back((route.deadline, key.clone()));
        pending.routes.insert(key, route);
        out.clear();
        out.extend_from_slice(subject.as_bytes());
        first_tracked
    }

    /// Where an answer on `reply` goes, if its route is still open; a singleton route
    /// closes here, so a second answer finds nothing.
    pub fn take(&self, reply: &[u8], now: Instant) -> Option<ResponseRoute> {
        let mut pending = self.pending.lock();
        let route = pending.routes.get(reply)?;
        if route.deadline <= now {
            if let Some(route) = pending.routes.remove(reply) {
                pending.time_out(route);
            }
            return None;
        }
        if route.singleton {
            let route = pending.routes.remove(reply);
            drop(pending);
            if route.as_ref().is_some_and(|r| r.tracking.is_some()) {
                self.tracked.fetch_sub(1, Ordering::AcqRel);
            }
            return route;
        }
        Some(route.clone())
    }

    /// Forgets the route of `reply` (its request reached no responder) and hands back its
    /// tracking, if any, for a 503.
    pub fn cancel(&self, reply: &[u8]) -> Option<Box<Tracking>> {
        let tracking = self.pending.lock().routes.remove(reply)?.tracking;
        if tracking.is_some() {
            self.tracked.fetch_sub(1, Ordering::AcqRel);
        }
        tracking
    }

    /// Whether any tracked route is open or waits to be reported.
    pub fn has_tracked(&self) -> bool {
        self.tracked.load(Ordering::Acquire) > 0
    }

    /// Ends the routes past their deadline and takes the tracked ones among them (and those
    /// an answer found expired), to be reported as timeouts.
    pub fn take_timed_out(&self, now: Instant) -> Vec<Tracking> {
        if !self.has_tracked() {
            return Vec::new();
        }
        let timed_out = {
            let mut pending = self.pending.lock();
            pending.expire(now);
            std::mem::take(&mut pending.timed_out)
        };
        self.tracked.fetch_sub(timed_out.len(), Ordering::AcqRel);
        timed_out
    }

    /// Routes still open.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pending.lock().routes.len()
    }
}

impl Pending {
    /// Drops the routes whose deadline passed, oldest first. Routes are queued in the order
    /// they were made, so one with a longer threshold may hold back later ones until it
    /// ends; each still ends at its own deadline when an answer comes.
    fn expire(&mut self, now: Instant) {
        while let Some((deadline, _)) = self.by_age.front() {
            if *deadline > now {
                break;
            }
            if let Some((_, key)) = self.by_age.pop_front() {
                if self
                    .routes
                    .get(&key)
                    .is_some_and(|route| route.deadline <= now)
                {
                    if let Some(route) = self.routes.remove(&key) {
                        self.time_out(route);
                    }
                }
            }
        }
    }

    /// Keeps a timed-out route's tracking for the timeout report; it stays counted in
    /// `tracked` until taken.
    fn time_out(&mut self, route: ResponseRoute) {
        if let Some(tracking) = route.tracking {
            self.timed_out.push(*tracking);
        }
    }
}

/// Appends six base-62 characters of `random`.
fn push_token(out: &mut String, mut random: u64) {
    for _ in 0..TOKEN_LEN {
        out.push(DIGITS[(random % 62) as usize] as char);
        random /= 62;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn route(singleton: bool, deadline: Instant) -> ResponseRoute {
        ResponseRoute {
            importer: Weak::new(),
            reply: b"_INBOX.1".as_slice().into(),
            singleton,
            deadline,
            tracking: None,
        }
    }

    #[test]
    fn singletons_answer_once_and_streams_until_their_deadline() {
        let responses = Responses::new(12345);
        assert!(responses.prefix().starts_with("_R_.") && responses.prefix().len() == 11);
        let now = Instant::now();
        let mut counter = 0;
        let mut next = || {
            counter += 1;
            counter
        };
        let mut single = Vec::new();
        responses.register(
            &mut next,
            route(true, now + Duration::from_secs(1)),
            now,
            &mut single,
        );
        assert!(single.starts_with(responses.prefix().as_bytes()));
        assert!(responses.take(&single, now).is_some());
        assert!(
            responses.take(&single, now).is_none(),
            "a second answer is dropped"
        );

        let mut stream = Vec::new();
        let deadline = now + Duration::from_secs(1);
        responses.register(&mut next, route(false, deadline), now, &mut stream);
        assert_ne!(stream, single);
        assert!(responses.take(&stream, now).is_some());
        assert!(responses.take(&stream, now).is_some());
        assert!(
            responses.take(&stream, deadline).is_none(),
            "past its threshold"
        );

        // Expired routes go when the next one is made.
        let mut late = Vec::new();
        responses.register(&mut next, route(true, now), now, &mut late);
        let later = now + Duration::from_secs(2);
        responses.register(
            &mut next,
            route(true, later + Duration::from_secs(1)),
            later,
            &mut late,
        );
        assert_eq!(responses.len(), 1);
    }
}
