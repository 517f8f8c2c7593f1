//! The hand-off from client readers to a server thread (JetStream's, the system account's).
//!
//! A reader delivering to one of the thread's internal subscriptions copies the message into
//! one shared arena under a short lock, and wakes the thread once per read batch (through the
//! ordinary flush-pending protocol of [`ClientShared`]). The thread swaps the whole arena out,
//! so a burst of publishes costs one lock round and one wake, not one per message.
//!
//! A thread may also offer its work to the readers ([`Inbox::offer_inline`]): a reader that
//! finds the thread idle then handles its own small batch on the spot, which saves a
//! round trip through the thread (a wake costs tens of microseconds on a virtual machine,
//! and a request/reply such as a synchronous JetStream publish pays it on every message).

use crate::client::{ClientShared, Queued};
use natrium_proto::Publish;
use parking_lot::{Condvar, Mutex};
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, Weak};
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

/// A thread's work that a reader may run in its place while the thread is idle.
pub(crate) trait InlineWork: Send + Sync {
    /// Handles what the inbox holds here and now, as the thread would, if the thread is idle
    /// and the batch small. False when the thread must run: the batch was left to it, or the
    /// round set a timer the thread has to plan for.
    fn try_run(&self) -> bool;
}

/// The queue a thread's internal subscriptions deliver into.
#[derive(Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
    ready: Condvar,
    /// The work readers may run themselves; weak, so the thread alone owns it.
    inline: OnceLock<Weak<dyn InlineWork>>,
}

impl Inbox {
    /// Waits until messages arrive, `timeout` passes or shutdown; takes what is queued.
    /// `None` once shut down.
    pub fn take(&self, timeout: Option<Duration>, spare: Batch) -> Option<Batch> {
        if !self.wait(timeout) {
            return None;
        }
        let mut spare = spare;
        self.take_into(&mut spare, |_| true);
        Some(spare)
    }

    /// Waits until the thread is woken, `timeout` passes or shutdown; false once shut down.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let mut state = self.state.lock();
        if !state.woken && !state.shutdown {
            match timeout {
                Some(timeout) => {
                    self.ready.wait_for(&mut state, timeout);
                }
                None => self.ready.wait(&mut state),
            }
        }
        !state.shutdown
    }

    /// Swaps what is queued into `batch` (whose old contents are dropped) without waiting,
    /// if `accept` takes it. True when taken.
    pub fn take_into(&self, batch: &mut Batch, accept: impl FnOnce(&Batch) -> bool) -> bool {
        batch.arena.clear();
        batch.records.clear();
        if batch.arena.capacity() > SPARE_ARENA_BYTES_MAX {
            // A burst grew it; keeping that much idle would be a lasting cost for a moment's
            // traffic.
            *batch = Batch::default();
        }
        let mut state = self.state.lock();
        if !accept(&state.batch) {
            return false;
        }
        state.woken = false;
        std::mem::swap(&mut state.batch, batch);
        true
    }

    /// Lets readers run `work` in the thread's place (see [`InlineWork`]); once.
    pub fn offer_inline(&self, work: Weak<dyn InlineWork>) {
        let _ = self.inline.set(work);
    }

    /// A reader's end of batch: runs the thread's work here if it may, else wakes the thread.
    pub fn run_or_wake(&self) {
        let work = self.inline.get().and_then(Weak::upgrade);
        if work.is_some_and(|work| work.try_run()) {
            return;
        }
        self.wake();
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

    /// Runs the thread's work on the calling reader if the thread offers it and is idle;
    /// wakes the thread otherwise.
    pub fn run_or_wake(&self) {
        self.inbox.run_or_wake();
    }
}

fn append(arena: &mut Vec<u8>, bytes: &[u8]) -> Range<usize> {
    let start = arena.len();
    arena.extend_from_slice(bytes);
    start..arena.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn queue(inbox: &Inbox, count: usize) {
        let mut state = inbox.state.lock();
        for _ in 0..count {
            let subject = append(&mut state.batch.arena, b"orders.new");
            let payload = append(&mut state.batch.arena, b"1");
            state.batch.records.push(Record {
                account: Arc::from("A"),
                subject,
                reply: None,
                headers: 0..0,
                payload,
            });
        }
    }

    /// Stands in for the JetStream thread's work: takes batches of up to two messages.
    struct Work {
        inbox: Arc<Inbox>,
        busy: bool,
        handled: AtomicUsize,
    }

    impl InlineWork for Work {
        fn try_run(&self) -> bool {
            let mut batch = Batch::default();
            let small = |queued: &Batch| queued.records.len() <= 2;
            if self.busy || !self.inbox.take_into(&mut batch, small) {
                return false;
            }
            self.handled
                .fetch_add(batch.records.len(), Ordering::Relaxed);
            true
        }
    }

    fn offered(busy: bool) -> (Arc<Inbox>, Arc<Work>) {
        let inbox = Arc::new(Inbox::default());
        let work = Arc::new(Work {
            inbox: Arc::clone(&inbox),
            busy,
            handled: AtomicUsize::new(0),
        });
        let dyn_work: Arc<dyn InlineWork> = Arc::clone(&work) as Arc<dyn InlineWork>;
        inbox.offer_inline(Arc::downgrade(&dyn_work));
        (inbox, work)
    }

    #[test]
    fn a_small_batch_is_handled_by_the_reader_without_waking_the_thread() {
        let (inbox, work) = offered(false);
        queue(&inbox, 2);
        inbox.run_or_wake();
        assert_eq!(work.handled.load(Ordering::Relaxed), 2);
        assert!(!inbox.state.lock().woken);
        assert!(inbox.state.lock().batch.records.is_empty());
    }

    #[test]
    fn a_big_batch_or_a_busy_thread_leaves_everything_to_the_thread() {
        for (busy, count) in [(false, 3), (true, 1)] {
            let (inbox, work) = offered(busy);
            queue(&inbox, count);
            inbox.run_or_wake();
            assert_eq!(work.handled.load(Ordering::Relaxed), 0);
            // Woken: the wait returns at once, and the thread takes the whole batch in order.
            assert!(inbox.wait(Some(Duration::from_secs(10))));
            let batch = inbox.take(Some(Duration::ZERO), Batch::default()).unwrap();
            assert_eq!(batch.records.len(), count);
            assert_eq!(batch.text(&batch.records[0].subject), "orders.new");
        }
    }

    #[test]
    fn without_an_offer_or_once_the_work_is_gone_the_thread_is_woken() {
        let inbox = Inbox::default();
        queue(&inbox, 1);
        inbox.run_or_wake();
        assert!(inbox.state.lock().woken);

        let (inbox, work) = offered(false);
        drop(work);
        queue(&inbox, 1);
        inbox.run_or_wake();
        assert!(inbox.state.lock().woken);
    }
}
