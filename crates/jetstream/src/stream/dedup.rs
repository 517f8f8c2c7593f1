//! The deduplication window: message ids seen recently, and the sequence each was stored at.
//! Entries leave in arrival order once older than the window, without scanning.

use std::collections::{HashMap, VecDeque};

/// Recently seen `Nats-Msg-Id`s.
#[derive(Debug, Default)]
pub struct DedupWindow {
    by_id: HashMap<String, u64>,
    arrivals: VecDeque<(i64, String)>,
}

impl DedupWindow {
    /// Forgets ids that arrived more than `window_nanos` before `now`.
    pub fn expire(&mut self, now: i64, window_nanos: i64) {
        while let Some((arrived, _)) = self.arrivals.front() {
            if now.saturating_sub(*arrived) <= window_nanos {
                break;
            }
            if let Some((_, id)) = self.arrivals.pop_front() {
                self.by_id.remove(&id);
            }
        }
    }

    /// The sequence `id` was stored at, if it is still in the window.
    pub fn seen(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// Remembers that `id` was stored at `seq` at time `now`.
    pub fn record(&mut self, id: &str, seq: u64, now: i64) {
        if self.by_id.insert(id.to_string(), seq).is_none() {
            self.arrivals.push_back((now, id.to_string()));
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True if no ids are remembered.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
