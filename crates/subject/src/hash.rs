//! The hasher of the per-connection subject caches (match results, permission verdicts):
//! FxHash's word-at-a-time mixing.
//!
//! Each cache belongs to one connection, is bounded (a few hundred to a thousand subjects) and
//! holds only subjects that connection sent, so hash flooding could only slow that one client,
//! and a fixed hash keeps cache eviction reproducible (std's `RandomState` is seeded per
//! process). Taking eight bytes per step makes a cache hit several times cheaper than SipHash
//! or byte-wise FNV on 20-40 byte subjects. A dozen lines; not worth a crate.

use std::hash::{BuildHasherDefault, Hasher};

/// rustc's FxHasher constant (from Firefox); odd, with well-spread bits.
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Word-at-a-time multiplicative hasher (FxHash), with a final mix so hashbrown's top-bit tag
/// bytes are well spread too.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Fold the high bits down: the multiply leaves the low bits weakest.
        self.0 ^ (self.0 >> 32)
    }
}

/// Builds [`FxHasher`]s for `HashMap`.
pub type FastBuildHasher = BuildHasherDefault<FxHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn hash(bytes: &[u8]) -> u64 {
        let mut hasher = FxHasher::default();
        hasher.write_usize(bytes.len());
        hasher.write(bytes);
        hasher.finish()
    }

    #[test]
    fn distinct_subjects_hash_apart() {
        // Lengths that are and are not multiples of 8, and subjects differing in one byte.
        let subjects: Vec<String> = (0..2000)
            .map(|i| format!("telemetry.sensor{i}.temperature"))
            .chain((0..64).map(|i| "a".repeat(i)))
            .collect();
        let hashes: HashSet<u64> = subjects.iter().map(|s| hash(s.as_bytes())).collect();
        assert_eq!(hashes.len(), subjects.len());
        // Hashbrown's tag is the top 7 bits: they must vary across similar subjects.
        let tags: HashSet<u64> = subjects.iter().map(|s| hash(s.as_bytes()) >> 57).collect();
        assert!(tags.len() > 100, "{}", tags.len());
    }
}
