//! The Sublist: which subscriptions are interested in a subject.
//!
//! A trie keyed by subject tokens, with `*` and `>` children at each level. Every
//! mutation bumps a generation counter under the write lock, so a cached match
//! result tagged with the generation it was computed at is valid exactly while the
//! generation is unchanged (see [`MatchCache`]).

mod cache;
mod result;
mod trie;

pub use cache::MatchCache;
pub use result::{MatchResult, QueueGroup};

use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use trie::Level;

/// Errors from inserting into a [`Sublist`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SublistError {
    /// The subject is not a valid subscription filter.
    InvalidSubject,
}

/// A concurrent subject interest trie holding items of type `T` (subscriptions).
///
/// `T` is compared with `PartialEq` on removal, so it should compare by identity
/// (for example a pointer-equality wrapper around an `Arc`).
pub struct Sublist<T> {
    root: RwLock<Level<T>>,
    generation: AtomicU64,
    count: AtomicU64,
    /// Lifetime counters for monitoring (`/subsz`); bumped only on mutations and full walks.
    inserts: AtomicU64,
    removes: AtomicU64,
    matches: AtomicU64,
    /// The result of every match that finds nothing, shared.
    empty: Arc<MatchResult<T>>,
}

/// Lifetime counters of a [`Sublist`], as nats-server's `/subsz` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SublistCounters {
    /// Items held now.
    pub count: u64,
    /// Items ever inserted.
    pub inserts: u64,
    /// Items ever removed.
    pub removes: u64,
    /// Full trie walks (per-reader cache misses and direct matches).
    pub matches: u64,
}

impl<T: Clone + PartialEq> Default for Sublist<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + PartialEq> Sublist<T> {
    /// Creates an empty sublist.
    pub fn new() -> Self {
        Sublist {
            root: RwLock::new(Level::default()),
            generation: AtomicU64::new(1),
            count: AtomicU64::new(0),
            inserts: AtomicU64::new(0),
            removes: AtomicU64::new(0),
            matches: AtomicU64::new(0),
            empty: Arc::new(MatchResult::default()),
        }
    }

    /// Adds `item` as interested in `subject`, in queue group `queue` if given.
    pub fn insert(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Result<(), SublistError> {
        if !natrium_subject::is_valid_subject(subject) {
            return Err(SublistError::InvalidSubject);
        }
        let mut root = self.root.write();
        root.insert(subject, queue, item);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inserts.fetch_add(1, Ordering::Relaxed);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Removes `item` from `subject` (and `queue`); returns whether it was present.
    pub fn remove(&self, subject: &[u8], queue: Option<&[u8]>, item: &T) -> bool {
        let mut root = self.root.write();
        let removed = root.remove(subject, queue, item);
        if removed {
            self.count.fetch_sub(1, Ordering::Relaxed);
            self.removes.fetch_add(1, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        }
        removed
    }

    /// Removes many items at once under one write lock (a closing connection's subscriptions).
    pub fn remove_batch<'a, I>(&self, entries: I) -> usize
    where
        I: IntoIterator<Item = (&'a [u8], Option<&'a [u8]>, &'a T)>,
        T: 'a,
    {
        let mut root = self.root.write();
        let mut removed = 0;
        for (subject, queue, item) in entries {
            if root.remove(subject, queue, item) {
                removed += 1;
            }
        }
        if removed > 0 {
            self.count.fetch_sub(removed as u64, Ordering::Relaxed);
            self.removes.fetch_add(removed as u64, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        }
        removed as usize
    }

    /// Computes every item interested in the literal `subject`, with the generation
    /// the answer is valid for.
    pub fn match_subject(&self, subject: &[u8]) -> (Arc<MatchResult<T>>, u64) {
        let root = self.root.read();
        // Read under the lock: no mutation can interleave with the walk below.
        let generation = self.generation.load(Ordering::Acquire);
        let result = root.collect(subject).into_result(&self.empty);
        self.matches.fetch_add(1, Ordering::Relaxed);
        (result, generation)
    }

    /// The current generation; it changes on every mutation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The number of items held.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The lifetime counters, for monitoring.
    pub fn counters(&self) -> SublistCounters {
        SublistCounters {
            count: self.count.load(Ordering::Relaxed),
            inserts: self.inserts.load(Ordering::Relaxed),
            removes: self.removes.load(Ordering::Relaxed),
            matches: self.matches.load(Ordering::Relaxed),
        }
    }

    /// True if any item is interested in the literal `subject`; allocates nothing and stops
    /// at the first interested node.
    pub fn has_interest(&self, subject: &[u8]) -> bool {
        self.root.read().any(subject)
    }
}

#[cfg(test)]
mod tests;
