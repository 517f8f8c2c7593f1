//! The hand-off from client readers to a server thread (JetStream's, the system account's).
//!
//! A reader delivering to one of the thread's internal subscriptions copies the message into
//! one shared arena under a short lock, and wakes the thread once per read batch (through the
//! ordinary flush-pending protocol of [`ClientShared`]). The thread swaps the whole arena out,
//! so a burst of publishes costs one lock round and one wake, not one per message.

use crate::client::{ClientShared, Queued};
use natrium_proto::Publish;
use parking_lot::{Condvar, Mutex};
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Past this many queued bytes, publishers to the thread stall (as they do for a backed-up
/// client) until the thread has taken the batch.
const BACKED_UP_BYTES: usize = 32 * 1024 * 1024;

/// The largest arena kept for reuse between batches.
const SPARE_ARENA_BYTES_MAX: usize = 4 * 1024 * 1024;

/// One caught message: ranges into [`Batch::arena`].
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The account the message was published in.
    pub account: Arc<str>,
    pub subject: Range<usize>,
    pub reply: Option<Range<usize>>,
    pub headers: Range<usize>,
    pub payload: Range<usize>,
}

/// Messages taken from the inbox in one go.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub arena: Vec<u8>,
    pub records: Vec<Record>,
}

impl Batch {
    /// The bytes of one range of the arena as text (subjects are ASCII by protocol).
    pub fn text(&self, range: &Range<usize>) -> &str {
        std::str::from_utf8(&self.arena[range.clone()]).unwrap_or("")
    }

    /// The bytes of one range of the arena.
    pub fn bytes(&self, range: &Range<usize>) -> &[u8] {
        &self.arena[range.clone()]
    }
}

#[derive(Default)]
struct State {
    batch: Batch,
    /// Set by the flush of a publishing batch: the thread has something to do.
    woken: bool,
    shutdown: bool,
}

/// The queue a thread's internal subscriptions deliver into.
#[derive(Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
    ready: Condvar,
}

impl Inbox {
    /// Waits until messages arrive, `timeout` passes or shutdown; takes what is queued.
    /// `None` once shut down.
    pub fn take(&self, timeout: Option<Duration>, spare: Batch) -> Option<Batch> {
        let mut state = self.state.lock();
        if !state.woken && !state.shutdown {
            match timeout {
                Some(timeout) => {
                    self.ready.wait_for(&mut state, timeout);
                }
                None => self.ready.wait(&mut state),
            }
        }
        if state.shutdown {
            return None;
        }
        state.woken = false;
        let mut spare = spare;
        spare.arena.clear();
        spare.records.clear();
        if spare.arena.capacity() > SPARE_ARENA_BYTES_MAX {
            // A burst grew it; keeping that much idle would be a lasting cost for a moment's
            // traffic.
            spare = Batch::default();
        }
        Some(std::mem::replace(&mut state.batch, spare))
    }

    /// Stops the thread's next (or current) wait.
    pub fn shut_down(&self) {
        self.state.lock().shutdown = true;
        self.ready.notify_one();
    }

    /// Wakes the thread (new messages, events, or replies that became releasable).
    pub fn wake(&self) {
        self.state.lock().woken = true;
        self.ready.notify_one();
    }
}

/// What an internal client delivers into: the shared inbox, tagged with its account.
pub(crate) struct InternalSink {
    account: Arc<str>,
    inbox: Arc<Inbox>,
}

impl InternalSink {
    /// A sink for the internal subscriptions of `account`.
    pub fn new(account: Arc<str>, inbox: Arc<Inbox>) -> Self {
        InternalSink { account, inbox }
    }

    /// Copies one publish into the inbox; the caller wakes the thread at the end of its
    /// batch when told [`Queued::NeedsFlush`].
    pub fn deliver(&self, client: &ClientShared, publish: &Publish<'_>) -> Queued {
        let backed_up = {
            let mut state = self.inbox.state.lock();
            let arena = &mut state.batch.arena;
            let subject = append(arena, publish.subject);
            let reply = publish.reply.map(|reply| append(arena, reply));
            let headers = append(arena, publish.headers().unwrap_or_default());
            let payload = append(arena, publish.payload());
            let backed_up = arena.len() > BACKED_UP_BYTES;
            state.batch.records.push(Record {
                account: Arc::clone(&self.account),
                subject,
                reply,
                headers,
                payload,
            });
            backed_up
        };
        if backed_up {
            client.backed_up.store(true, Ordering::Release);
        }
        client.mark_flush_pending()
    }

    /// Wakes the thread.
    pub fn wake(&self) {
        self.inbox.wake();
    }
}

fn append(arena: &mut Vec<u8>, bytes: &[u8]) -> Range<usize> {
    let start = arena.len();
    arena.extend_from_slice(bytes);
    start..arena.len()
}
