//! Monitoring's requests for what only the JetStream thread can read (each stream's state,
//! configuration and consumers, for `/jsz?accounts=1&streams=1&consumers=1`). A request wakes
//! the thread, which answers between two batches; the asker waits, within a bound, off the
//! async workers. The published snapshot keeps the cheap totals, so plain `/jsz` never waits.

use crate::internal::Inbox;
use natrium_jetstream::Usage;
use parking_lot::{Condvar, Mutex};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How much of each account `/jsz` wants: with `streams`, each stream's state; with
/// `consumers`, its consumers too; with `config`, their configurations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DetailLevel {
    pub streams: bool,
    pub consumers: bool,
    pub config: bool,
}

impl DetailLevel {
    /// What answers both `self` and `other`.
    fn union(self, other: DetailLevel) -> DetailLevel {
        DetailLevel {
            streams: self.streams || other.streams,
            consumers: self.consumers || other.consumers,
            config: self.config || other.config,
        }
    }
}

/// One account's figures and streams, at least as detailed as asked (several askers share
/// one answer; each drops what it did not ask for).
#[derive(Debug, Clone)]
pub(crate) struct AccountDetails {
    /// The account.
    pub name: String,
    /// Its usage and API counters.
    pub usage: Usage,
    /// Its streams (`StreamDetail` JSON), empty unless streams were asked for.
    pub streams: Vec<Value>,
}

#[derive(Default)]
struct State {
    requested: u64,
    served: u64,
    /// What the requests not yet served want, together.
    wanted: DetailLevel,
    answer: Arc<Vec<AccountDetails>>,
}

/// Where monitoring asks and the JetStream thread answers.
pub(crate) struct DetailExchange {
    inbox: Arc<Inbox>,
    pending: AtomicBool,
    state: Mutex<State>,
    ready: Condvar,
}

impl DetailExchange {
    pub(super) fn new(inbox: Arc<Inbox>) -> Self {
        DetailExchange {
            inbox,
            pending: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
        }
    }

    /// Every account's details, at least at `level`, as of a moment after this call; `None`
    /// if the thread does not answer within `timeout` (stopped, or stuck on a disk).
    pub fn fetch(&self, level: DetailLevel, timeout: Duration) -> Option<Arc<Vec<AccountDetails>>> {
        let mut state = self.state.lock();
        state.requested += 1;
        state.wanted = state.wanted.union(level);
        let ticket = state.requested;
        self.pending.store(true, Ordering::Release);
        self.inbox.wake();
        let deadline = std::time::Instant::now() + timeout;
        while state.served < ticket {
            if self.ready.wait_until(&mut state, deadline).timed_out() {
                return None;
            }
        }
        Some(Arc::clone(&state.answer))
    }

    /// On the JetStream thread: answers the waiting requests, if any (one atomic load
    /// otherwise), gathering only as much as they want.
    pub(super) fn serve(&self, gather: impl FnOnce(DetailLevel) -> Vec<AccountDetails>) {
        if !self.pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let (ticket, level) = {
            let mut state = self.state.lock();
            (state.requested, std::mem::take(&mut state.wanted))
        };
        let answer = Arc::new(gather(level));
        let mut state = self.state.lock();
        state.answer = answer;
        state.served = state.served.max(ticket);
        self.ready.notify_all();
    }
}
