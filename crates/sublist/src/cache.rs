//! A per-reader cache of match results, valid while the sublist's generation is unchanged.
//!
//! Each connection's read loop owns one, so a cache hit takes no lock at all: one
//! atomic load of the generation and one hash lookup.

use crate::{MatchResult, Sublist};
use natrium_subject::hash::FastBuildHasher;
use std::collections::HashMap;
use std::sync::Arc;

/// Bounded cache of `subject -> match result` for one reader.
pub struct MatchCache<T> {
    /// Keyed with FxHash: this reader's own subjects only (see `natrium_subject::hash`).
    entries: HashMap<Box<[u8]>, Arc<MatchResult<T>>, FastBuildHasher>,
    generation: u64,
    max_entries: usize,
}

impl<T: Clone + PartialEq> MatchCache<T> {
    /// Creates a cache that holds at most `max_entries` subjects.
    pub fn new(max_entries: usize) -> Self {
        MatchCache {
            entries: HashMap::default(),
            generation: 0,
            max_entries: max_entries.max(1),
        }
    }

    /// The subscriptions interested in `subject`, from the cache if still valid.
    ///
    /// The hit path is kept small enough to inline into the caller's publish loop; the
    /// miss path (a trie walk under the read lock) is out of line.
    #[inline]
    pub fn lookup(&mut self, sublist: &Sublist<T>, subject: &[u8]) -> Arc<MatchResult<T>> {
        if self.generation == sublist.generation() {
            if let Some(result) = self.entries.get(subject) {
                return Arc::clone(result);
            }
        }
        self.lookup_miss(sublist, subject)
    }

    #[inline(never)]
    fn lookup_miss(&mut self, sublist: &Sublist<T>, subject: &[u8]) -> Arc<MatchResult<T>> {
        if self.generation != sublist.generation() {
            // Any mutation may change any answer; start again rather than track which.
            self.entries.clear();
        }
        let (result, generation) = sublist.match_subject(subject);
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        if self.entries.len() >= self.max_entries {
            self.entries.clear();
        }
        self.entries.insert(subject.into(), Arc::clone(&result));
        result
    }

    /// Number of cached subjects.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
