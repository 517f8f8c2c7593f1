//! Group commit: a flusher thread fsyncs dirty files on behalf of every writer waiting on it.
//!
//! Writers hand their records to the OS (`pwrite`), mark the file dirty and take a
//! [`SyncTicket`] numbered by a write generation. The flusher takes every dirty file and the
//! current generation under one lock, fsyncs without the lock, then publishes the generation as
//! durable. Writers that arrive during an fsync are covered by the next one, so N concurrent
//! publishers cost about one fsync per round instead of N. The store itself never blocks on an
//! fsync: `sync` returns a ticket at once and the caller waits on it outside any lock.

use std::fs::File;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{StoreError, SyncPolicy};

/// A promise that everything written before it was issued is durable once [`wait`](Self::wait)
/// returns `Ok`.
#[derive(Debug, Clone)]
#[must_use = "a store is acknowledged only once its ticket resolves"]
pub struct SyncTicket {
    pending: Option<(Arc<Shared>, u64)>,
    /// Set when the sync could not even start: the ticket resolves at once with this error.
    failed: Option<String>,
}

impl SyncTicket {
    /// A ticket that is already resolved (memory store, or lazy sync policy).
    pub fn ready() -> SyncTicket {
        SyncTicket {
            pending: None,
            failed: None,
        }
    }

    /// A ticket for a sync that failed to start: waiting on it returns the error, so nothing it
    /// was meant to cover is acknowledged.
    pub fn failed(error: StoreError) -> SyncTicket {
        SyncTicket {
            pending: None,
            failed: Some(error.to_string()),
        }
    }

    /// True when the ticket was resolved, successfully, when it was made: nothing to wait
    /// for (memory store, lazy sync policy, nothing written).
    pub fn is_ready(&self) -> bool {
        self.pending.is_none() && self.failed.is_none()
    }

    /// True once the covered writes are durable (or failed).
    pub fn is_done(&self) -> bool {
        match &self.pending {
            None => true,
            Some((shared, generation)) => {
                let state = shared.lock();
                state.durable >= *generation || state.failure.is_some()
            }
        }
    }

    /// Blocks until the covered writes are durable.
    pub fn wait(self) -> Result<(), StoreError> {
        if let Some(failure) = self.failed {
            return Err(StoreError::SyncFailed(failure));
        }
        let Some((shared, generation)) = self.pending else {
            return Ok(());
        };
        let mut state = shared.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(StoreError::SyncFailed(failure.clone()));
            }
            if state.durable >= generation {
                return Ok(());
            }
            state = shared
                .done
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Generation of the latest write handed to the OS.
    written: u64,
    /// Highest generation somebody is waiting for.
    requested: u64,
    /// Highest generation known durable.
    durable: u64,
    /// Files written since their last fsync.
    dirty: Vec<Arc<File>>,
    /// First fsync failure; sticky, because the kernel may have dropped the dirty pages.
    failure: Option<String>,
    shutdown: bool,
    /// Number of fsync rounds, for tests and benches to observe batching.
    rounds: u64,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    work: Condvar,
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Owns the flusher thread of one file store.
#[derive(Debug)]
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    policy: SyncPolicy,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts the flusher thread.
    pub fn start(policy: SyncPolicy) -> Result<Flusher, StoreError> {
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("natrium-store-flush".into())
            .spawn(move || run(&thread_shared, policy))
            .map_err(StoreError::io("starting the flusher thread"))?;
        Ok(Flusher {
            shared,
            policy,
            thread: Some(thread),
        })
    }

    /// Records that `file` has writes not yet fsynced.
    pub fn mark_dirty(&self, file: &Arc<File>) {
        let mut state = self.shared.lock();
        if !state.dirty.iter().any(|dirty| Arc::ptr_eq(dirty, file)) {
            state.dirty.push(file.clone());
        }
    }

    /// The sticky failure, if an fsync ever failed.
    pub fn failure(&self) -> Option<StoreError> {
        self.shared
            .lock()
            .failure
            .clone()
            .map(StoreError::SyncFailed)
    }

    /// A ticket covering every write marked so far; resolved at once under the interval policy.
    pub fn ticket(&self) -> Result<SyncTicket, StoreError> {
        match self.policy {
            SyncPolicy::Always => self.durable_ticket(),
            SyncPolicy::Interval(_) => match self.failure() {
                Some(failure) => Err(failure),
                None => Ok(SyncTicket::ready()),
            },
        }
    }

    /// A ticket that waits for an fsync whatever the policy (close, explicit `sync_all`).
    pub fn durable_ticket(&self) -> Result<SyncTicket, StoreError> {
        let mut state = self.shared.lock();
        if let Some(failure) = &state.failure {
            return Err(StoreError::SyncFailed(failure.clone()));
        }
        if state.dirty.is_empty() && state.durable == state.written {
            return Ok(SyncTicket::ready());
        }
        state.written += 1;
        state.requested = state.written;
        let generation = state.written;
        drop(state);
        self.shared.work.notify_one();
        Ok(SyncTicket {
            pending: Some((self.shared.clone(), generation)),
            failed: None,
        })
    }

    /// Completed fsync rounds.
    pub fn rounds(&self) -> u64 {
        self.shared.lock().rounds
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panicking flusher already reported nothing more useful than its failure state.
            let _ = thread.join();
        }
    }
}

fn run(shared: &Shared, policy: SyncPolicy) {
    let mut state = shared.lock();
    loop {
        let wanted = state.requested > state.durable && state.failure.is_none();
        if !wanted {
            if state.shutdown {
                return;
            }
            match policy {
                SyncPolicy::Always => {
                    state = shared
                        .work
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    continue;
                }
                SyncPolicy::Interval(interval) => {
                    let (guard, timeout) = shared
                        .work
                        .wait_timeout(state, interval.max(Duration::from_millis(1)))
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    state = guard;
                    if !timeout.timed_out() || state.dirty.is_empty() {
                        continue;
                    }
                }
            }
        }
        let target = state.written;
        let files = std::mem::take(&mut state.dirty);
        drop(state);
        let result = files.iter().try_for_each(|file| file.sync_all());
        state = shared.lock();
        state.rounds += 1;
        match result {
            Ok(()) => state.durable = state.durable.max(target),
            Err(error) => {
                tracing::error!(%error, "fsync failed; the store is now read-only");
                state.failure = Some(error.to_string());
            }
        }
        shared.done.notify_all();
    }
}
