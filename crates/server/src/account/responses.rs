//! An exporter's routes back to the requesters of its services, as nats-server keeps them:
//! each forwarded request gets a reply subject `_R_.<account prefix>.<token>` in the
//! exporter, one wildcard subscription per exporter catches the answers, and this table says
//! which importer and which original reply each one stands for. A singleton route ends with
//! its first answer; every route ends at its export's `response_threshold`.

use super::Account;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
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
}

/// An exporter's response table.
pub(crate) struct Responses {
    /// `_R_.<6 characters>.`, fixed for the account's life.
    prefix: String,
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    routes: HashMap<Box<[u8]>, ResponseRoute>,
    /// Reply subjects in the order they were made, for expiry.
    by_age: VecDeque<(Instant, Box<[u8]>)>,
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
        }
    }

    /// `_R_.<prefix>.`: what every reply subject of this exporter starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Records `route` and writes its new reply subject (a token drawn from `random`) into
    /// `out`. Routes past their deadline are dropped on the way.
    pub fn register(
        &self,
        mut random: impl FnMut() -> u64,
        route: ResponseRoute,
        now: Instant,
        out: &mut Vec<u8>,
    ) {
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
    }

    /// Where an answer on `reply` goes, if its route is still open; a singleton route
    /// closes here, so a second answer finds nothing.
    pub fn take(&self, reply: &[u8], now: Instant) -> Option<ResponseRoute> {
        let mut pending = self.pending.lock();
        let route = pending.routes.get(reply)?;
        if route.deadline <= now {
            pending.routes.remove(reply);
            return None;
        }
        if route.singleton {
            return pending.routes.remove(reply);
        }
        Some(route.clone())
    }

    /// Forgets the route of `reply` (its request reached no responder).
    pub fn cancel(&self, reply: &[u8]) {
        self.pending.lock().routes.remove(reply);
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
                    self.routes.remove(&key);
                }
            }
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
