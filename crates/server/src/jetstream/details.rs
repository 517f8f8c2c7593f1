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

/// One account's figures and streams, everything included (callers drop what was not asked).
#[derive(Debug, Clone)]
pub(crate) struct AccountDetails {
    /// The account.
    pub name: String,
    /// Its usage and API counters.
    pub usage: Usage,
    /// Its streams with configuration and consumers (`StreamDetail` JSON).
    pub streams: Vec<Value>,
}

#[derive(Default)]
struct State {
    requested: u64,
    served: u64,
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

    /// Every account's details as of a moment after this call; `None` if the thread does not
    /// answer within `timeout` (stopped, or stuck on a disk).
    pub fn fetch(&self, timeout: Duration) -> Option<Arc<Vec<AccountDetails>>> {
        let mut state = self.state.lock();
        state.requested += 1;
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
    /// otherwise).
    pub(super) fn serve(&self, gather: impl FnOnce() -> Vec<AccountDetails>) {
        if !self.pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let ticket = self.state.lock().requested;
        let answer = Arc::new(gather());
        let mut state = self.state.lock();
        state.answer = answer;
        state.served = state.served.max(ticket);
        self.ready.notify_all();
    }
}
