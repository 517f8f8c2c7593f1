//! Replies held until the writes they confirm are durable, without stopping the JetStream
//! thread.
//!
//! Each batch's replies wait in order behind its `SyncTicket`s. A waiter thread waits on the
//! tickets, batch after batch, records how far everything is durable and wakes the JetStream
//! thread, which then sends the replies that became releasable. Meanwhile the JetStream thread
//! goes on storing and delivering: a publisher that waits for a consumer's delivery before its
//! next publish no longer waits for the previous message's fsync too.

use crate::internal::Inbox;
use natrium_jetstream::Outbound;
use natrium_store::SyncTicket;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use tracing::error;

/// How long shutdown waits for the last fsyncs.
const FINISH_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// What the waiter thread reports back.
#[derive(Default)]
struct Progress {
    /// Every batch numbered at or below this one is settled (durable or failed).
    settled_through: AtomicU64,
    /// Settled batches whose sync failed: their replies are withheld.
    failed: Mutex<Vec<u64>>,
}

/// Batches of replies waiting for their tickets, in batch order.
pub(super) struct HeldReplies {
    held: VecDeque<(u64, Vec<Outbound>)>,
    next_batch: u64,
    progress: Arc<Progress>,
    tickets: mpsc::Sender<(u64, Vec<SyncTicket>)>,
    /// The waiter thread; it ends when this is dropped and the channel closes.
    _waiter: JoinHandle<()>,
}

impl HeldReplies {
    /// Starts the waiter thread, which wakes `inbox` whenever a batch settles.
    pub fn start(inbox: Arc<Inbox>) -> Result<Self, String> {
        let progress = Arc::new(Progress::default());
        let (sender, receiver) = mpsc::channel::<(u64, Vec<SyncTicket>)>();
        let reporting = Arc::clone(&progress);
        let waiter = std::thread::Builder::new()
            .name("jetstream-sync".to_string())
            .spawn(move || {
                for (batch, tickets) in receiver {
                    let mut durable = true;
                    for ticket in tickets {
                        if let Err(e) = ticket.wait() {
                            error!("JetStream store: {e}");
                            durable = false;
                        }
                    }
                    if !durable {
                        reporting.failed.lock().push(batch);
                    }
                    reporting.settled_through.store(batch, Ordering::Release);
                    inbox.wake();
                }
            })
            .map_err(|e| format!("starting the JetStream sync thread: {e}"))?;
        Ok(HeldReplies {
            held: VecDeque::new(),
            next_batch: 1,
            progress,
            tickets: sender,
            _waiter: waiter,
        })
    }

    /// True when no batch is held: no sync is in flight.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Holds `replies` until `tickets` resolve. With no tickets and nothing held before them,
    /// they are returned to be sent at once.
    pub fn hold(&mut self, replies: &mut Vec<Outbound>, tickets: Vec<SyncTicket>) -> bool {
        if tickets.is_empty() && self.held.is_empty() {
            return false;
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        self.held.push_back((batch, std::mem::take(replies)));
        if self.tickets.send((batch, tickets)).is_err() {
            error!("JetStream sync thread is gone: replies of batch {batch} withheld");
        }
        true
    }

    /// Calls `send` for every held reply whose batch is settled, in order; replies of a batch
    /// whose sync failed are dropped (clients retry, and deduplication catches the retries).
    pub fn release(&mut self, mut send: impl FnMut(&Outbound)) -> bool {
        let settled = self.progress.settled_through.load(Ordering::Acquire);
        let mut released = false;
        while self
            .held
            .front()
            .is_some_and(|(batch, _)| *batch <= settled)
        {
            let Some((batch, replies)) = self.held.pop_front() else {
                break;
            };
            let failed = {
                let mut failed = self.progress.failed.lock();
                let position = failed.iter().position(|&b| b == batch);
                position.map(|index| failed.swap_remove(index)).is_some()
            };
            if failed {
                error!(
                    "JetStream store sync failed: withholding {} replies",
                    replies.len()
                );
                continue;
            }
            for reply in &replies {
                send(reply);
            }
            released = true;
        }
        released
    }

    /// Waits for every held batch to settle (shutdown), then releases them.
    pub fn finish(&mut self, mut send: impl FnMut(&Outbound)) {
        // A failed fsync settles its ticket too, so this ends; the bound is for a disk that
        // never answers.
        let deadline = std::time::Instant::now() + FINISH_WAIT_MAX;
        while !self.held.is_empty() && std::time::Instant::now() < deadline {
            self.release(&mut send);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if !self.held.is_empty() {
            error!(
                "JetStream shutdown: replies of {} batches never settled",
                self.held.len()
            );
        }
    }
}
