//! The in-memory index both stores share: a dense seq→slot table and a per-subject index.
//!
//! Sequences are dense, so the seq index is a `VecDeque` offset by the first live sequence: O(1)
//! lookup, no per-entry allocation, and removal from the front (limits, expiry) is `pop_front`.
//! Each subject keeps its live sequences in ascending order, so last-by-subject and filtered reads
//! never scan the stream. Pure data structure: no I/O, no clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::subject;
use crate::subjects::Subjects;
use crate::{PurgeRequest, StreamState};

/// Subject id marking a slot that is no longer live.
const DELETED: u32 = u32::MAX;

/// One sequence's entry. `value` is the message itself (memory store) or its location on disk.
#[derive(Debug, Clone)]
pub(crate) struct Slot<T> {
    /// Index into the subject table, [`DELETED`] if not live.
    pub subject: u32,
    /// Size counted toward `bytes`.
    pub size: u32,
    /// Timestamp in nanoseconds.
    pub time: i64,
    /// Store-specific payload.
    pub value: T,
}

impl<T> Slot<T> {
    fn is_live(&self) -> bool {
        self.subject != DELETED
    }
}

/// The index. Invariant: `base_seq + slots.len() == last_seq + 1`, and the front slot, if any, is
/// live, so `base_seq` is the first live sequence.
#[derive(Debug)]
pub(crate) struct Index<T> {
    base_seq: u64,
    last_seq: u64,
    slots: VecDeque<Slot<T>>,
    msgs: u64,
    bytes: u64,
    subjects: Subjects,
}

impl<T: Default> Default for Index<T> {
    fn default() -> Self {
        Index {
            base_seq: 1,
            last_seq: 0,
            slots: VecDeque::new(),
            msgs: 0,
            bytes: 0,
            subjects: Subjects::default(),
        }
    }
}

impl<T: Default> Index<T> {
    /// Highest sequence assigned.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// First live sequence, or `last_seq + 1` when empty.
    pub fn base_seq(&self) -> u64 {
        self.base_seq
    }

    /// Live messages.
    pub fn msgs(&self) -> u64 {
        self.msgs
    }

    /// Live bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends at `last_seq + 1`.
    pub fn append(&mut self, subject: &str, size: u64, time: i64, value: T) -> u64 {
        let seq = self.last_seq + 1;
        self.insert(seq, subject, size, time, value);
        seq
    }

    /// Inserts at `seq`, which must exceed `last_seq`; sequences in between become deleted.
    /// Recovery and restore use this to rebuild an index with gaps.
    pub fn insert(&mut self, seq: u64, subject: &str, size: u64, time: i64, value: T) {
        debug_assert!(seq > self.last_seq);
        if self.msgs == 0 {
            self.slots.clear();
            self.base_seq = seq;
        } else {
            for _ in self.last_seq + 1..seq {
                self.slots.push_back(Slot {
                    subject: DELETED,
                    size: 0,
                    time: 0,
                    value: T::default(),
                });
            }
        }
        let id = self.subjects.intern(subject);
        self.subjects.entries[id as usize].seqs.push_back(seq);
        self.slots.push_back(Slot {
            subject: id,
            size: size as u32,
            time,
            value,
        });
        self.last_seq = seq;
        self.msgs += 1;
        self.bytes += size;
    }

    /// Moves the next sequence to `seq` when the store is empty (compact past the end).
    pub fn skip_to(&mut self, seq: u64) {
        if self.msgs == 0 && seq > self.last_seq + 1 {
            self.slots.clear();
            self.last_seq = seq - 1;
            self.base_seq = seq;
        }
    }

    fn position(&self, seq: u64) -> Option<usize> {
        if seq < self.base_seq || seq > self.last_seq {
            return None;
        }
        Some((seq - self.base_seq) as usize)
    }

    /// The live slot at `seq`.
    pub fn get(&self, seq: u64) -> Option<&Slot<T>> {
        self.position(seq)
            .map(|pos| &self.slots[pos])
            .filter(|slot| slot.is_live())
    }

    /// The subject of a live slot.
    pub fn subject_of(&self, slot: &Slot<T>) -> &Arc<str> {
        &self.subjects.entries[slot.subject as usize].name
    }

    /// Removes the live message at `seq`, returning its slot.
    pub fn remove(&mut self, seq: u64) -> Option<Slot<T>> {
        let pos = self.position(seq)?;
        if !self.slots[pos].is_live() {
            return None;
        }
        let deleted = Slot {
            subject: DELETED,
            size: 0,
            time: 0,
            value: T::default(),
        };
        let slot = std::mem::replace(&mut self.slots[pos], deleted);
        self.subjects.remove_seq(slot.subject, seq);
        self.msgs -= 1;
        self.bytes -= u64::from(slot.size);
        while self.slots.front().is_some_and(|slot| !slot.is_live()) {
            self.slots.pop_front();
            self.base_seq += 1;
        }
        Some(slot)
    }

    /// Removes every live message below `seq`, telling `on_removed` each sequence; returns how
    /// many.
    pub fn remove_below(&mut self, seq: u64, mut on_removed: impl FnMut(u64)) -> u64 {
        let mut removed = 0;
        while self.msgs > 0 && self.base_seq < seq {
            let first = self.base_seq;
            self.remove(first);
            on_removed(first);
            removed += 1;
        }
        if self.msgs == 0 {
            self.slots.clear();
            self.base_seq = self.last_seq + 1;
        }
        removed
    }

    /// Timestamp of the first live message.
    pub fn first_time(&self) -> Option<i64> {
        self.slots.front().map(|slot| slot.time)
    }

    /// The sequence `load_next` should read: the first match at or after `start`, `Eof`
    /// past the last sequence, `NotFound` when nothing matches.
    pub fn find_next(&self, filter: &str, start: u64) -> Result<u64, crate::StoreError> {
        if self.next_is(filter, start) {
            return Ok(start);
        }
        crate::subject::check_filter(filter)?;
        if start > self.last_seq() {
            return Err(crate::StoreError::Eof);
        }
        self.next_matching(filter, start)
            .ok_or(crate::StoreError::NotFound)
    }

    /// The sequence `load_last` should read: the newest match, else `NotFound`.
    pub fn find_last(&self, filter: &str) -> Result<u64, crate::StoreError> {
        crate::subject::check_filter(filter)?;
        self.last_matching(filter)
            .ok_or(crate::StoreError::NotFound)
    }

    /// Whether `start` holds a message whose subject is `filter` itself. A consumer reads on
    /// from the sequence after its last, which usually is this: comparing one name is
    /// cheaper than checking and hashing the filter, and a stored subject is valid and
    /// literal, so a filter equal to one needs neither.
    fn next_is(&self, filter: &str, start: u64) -> bool {
        self.get(start)
            .is_some_and(|slot| &**self.subject_of(slot) == filter)
    }

    /// The first live sequence at or after `start` whose subject matches `filter`.
    pub fn next_matching(&self, filter: &str, start: u64) -> Option<u64> {
        let start = start.max(self.base_seq);
        if start > self.last_seq || self.msgs == 0 {
            return None;
        }
        if filter == ">" {
            return (start..=self.last_seq).find(|&seq| self.get(seq).is_some());
        }
        if self.next_is(filter, start) {
            return Some(start);
        }
        if !subject::has_wildcard(filter) {
            let id = *self.subjects.ids.get(filter)?;
            return first_at_or_after(&self.subjects.entries[id as usize].seqs, start);
        }
        if let Some(slot) = self.get(start) {
            if subject::matches(filter, self.subject_of(slot)) {
                return Some(start);
            }
        }
        // Either ask each matching subject for its first sequence at or after `start` (the trie
        // finds them without looking at the others), or, when matches are dense, walk the slots
        // memoizing the match per subject id; pick whichever touches less.
        let remaining = self.last_seq - start + 1;
        let matching = self.subjects.matching_ids(filter);
        if (matching.len() as u64).saturating_mul(16) < remaining {
            return matching
                .iter()
                .filter_map(|&id| {
                    first_at_or_after(&self.subjects.entries[id as usize].seqs, start)
                })
                .min();
        }
        let mut verdicts = vec![0u8; self.subjects.entries.len()];
        let first_pos = (start - self.base_seq) as usize;
        for (offset, slot) in self.slots.range(first_pos..).enumerate() {
            if !slot.is_live() {
                continue;
            }
            let verdict = &mut verdicts[slot.subject as usize];
            if *verdict == 0 {
                let name = &self.subjects.entries[slot.subject as usize].name;
                *verdict = if subject::matches(filter, name) { 1 } else { 2 };
            }
            if *verdict == 1 {
                return Some(start + offset as u64);
            }
        }
        None
    }

    /// The newest live sequence whose subject matches `filter`.
    pub fn last_matching(&self, filter: &str) -> Option<u64> {
        if !subject::has_wildcard(filter) {
            let id = *self.subjects.ids.get(filter)?;
            return self.subjects.entries[id as usize].seqs.back().copied();
        }
        self.subjects
            .matching(filter)
            .filter_map(|entry| entry.seqs.back().copied())
            .max()
    }

    /// Live sequences of the subjects matching `filter`, ascending.
    pub fn matching_seqs(&self, filter: &str) -> Vec<u64> {
        let mut seqs: Vec<u64> = if subject::has_wildcard(filter) {
            self.subjects
                .matching(filter)
                .flat_map(|entry| entry.seqs.iter().copied())
                .collect()
        } else {
            self.subjects
                .ids
                .get(filter)
                .map(|&id| {
                    self.subjects.entries[id as usize]
                        .seqs
                        .iter()
                        .copied()
                        .collect()
                })
                .unwrap_or_default()
        };
        seqs.sort_unstable();
        seqs
    }

    /// The ids of every subject that has live messages.
    pub fn subject_ids(&self) -> Vec<u32> {
        self.subjects.matching_ids(">")
    }

    /// Live messages of the subject with id `subject`.
    pub fn subject_msgs(&self, subject: u32) -> usize {
        self.subjects.entries[subject as usize].seqs.len()
    }

    /// Live messages on the literal `subject`.
    pub fn subject_msgs_by_name(&self, subject: &str) -> usize {
        self.subjects
            .ids
            .get(subject)
            .map_or(0, |&id| self.subject_msgs(id))
    }

    /// Oldest live sequence of the subject with id `subject`.
    pub fn subject_first(&self, subject: u32) -> Option<u64> {
        self.subjects.entries[subject as usize]
            .seqs
            .front()
            .copied()
    }

    /// Sequences between first and last that are not live.
    pub fn deleted(&self) -> Vec<u64> {
        if self.msgs == 0 {
            return Vec::new();
        }
        (self.base_seq..=self.last_seq)
            .filter(|&seq| self.get(seq).is_none())
            .collect()
    }

    /// Live sequences with their slots, ascending.
    pub fn live(&self) -> impl Iterator<Item = (u64, &Slot<T>)> {
        let base = self.base_seq;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_live())
            .map(move |(pos, slot)| (base + pos as u64, slot))
    }

    /// Live message count per subject matching `filter`.
    pub fn subject_counts(&self, filter: &str) -> BTreeMap<String, u64> {
        self.subjects
            .matching(filter)
            .map(|entry| (entry.name.to_string(), entry.seqs.len() as u64))
            .collect()
    }

    /// The state summary.
    pub fn state(&self) -> StreamState {
        let last_time = self
            .slots
            .iter()
            .rev()
            .find(|slot| slot.is_live())
            .map_or(0, |slot| slot.time);
        StreamState {
            msgs: self.msgs,
            bytes: self.bytes,
            first_seq: if self.msgs == 0 && self.last_seq == 0 {
                0
            } else {
                self.base_seq
            },
            first_time: self.first_time().unwrap_or(0),
            last_seq: self.last_seq,
            last_time,
            num_deleted: self.slots.len() as u64 - self.msgs,
            num_subjects: self.subjects.ids.len() as u64,
        }
    }

    /// The sequences a purge request removes, or `None` for "everything below `up_to`" which
    /// the caller applies with [`remove_below`](Self::remove_below) without listing sequences.
    pub fn plan_purge(&self, request: &PurgeRequest) -> PurgePlan {
        let filter = request.filter.as_deref().filter(|filter| *filter != ">");
        match (filter, request.keep, request.up_to_seq) {
            (None, None, None) => PurgePlan::Below(self.last_seq + 1),
            (None, None, Some(up_to)) => PurgePlan::Below(up_to),
            (None, Some(keep), _) => {
                let drop = self.msgs.saturating_sub(keep);
                PurgePlan::Seqs(
                    self.live()
                        .take(drop as usize)
                        .map(|(seq, _)| seq)
                        .collect(),
                )
            }
            (Some(filter), keep, up_to) => {
                let mut seqs = self.matching_seqs(filter);
                if let Some(up_to) = up_to {
                    seqs.retain(|&seq| seq < up_to);
                }
                if let Some(keep) = keep {
                    seqs.truncate(seqs.len().saturating_sub(keep as usize));
                }
                PurgePlan::Seqs(seqs)
            }
        }
    }
}

/// What a purge removes.
#[derive(Debug)]
pub(crate) enum PurgePlan {
    /// Every live message below this sequence.
    Below(u64),
    /// Exactly these sequences, ascending.
    Seqs(Vec<u64>),
}

fn first_at_or_after(seqs: &VecDeque<u64>, start: u64) -> Option<u64> {
    let pos = seqs.partition_point(|&seq| seq < start);
    seqs.get(pos).copied()
}

impl<T: Default> Index<T> {
    /// Records that `seq` was assigned (its message is gone): `last_seq` becomes at least `seq`.
    pub fn mark_assigned(&mut self, seq: u64) {
        if seq <= self.last_seq {
            return;
        }
        if self.msgs == 0 {
            self.skip_to(seq + 1);
            return;
        }
        for _ in self.last_seq + 1..=seq {
            self.slots.push_back(Slot {
                subject: DELETED,
                size: 0,
                time: 0,
                value: T::default(),
            });
        }
        self.last_seq = seq;
    }
}
