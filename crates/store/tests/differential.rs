//! Differential test: random operation sequences against the memory store, the file store and a
//! plain model (a `BTreeMap`) must agree on every result and every state, including after the
//! file store is closed and recovered, and after a snapshot round trip.

use std::collections::BTreeMap;

use bytes::Bytes;
use natrium_store::{
    msg_size, Compression, DiscardPolicy, EncryptionKey, FileStore, FileStoreConfig, MemoryStore,
    MessageStore, PurgeRequest, StoreConfig, StoreError, StoredMsg, StreamState, SyncPolicy,
};
use proptest::prelude::*;

const SUBJECTS: &[&str] = &["a", "b", "c.d", "c.e", "f.g.h", "f.x.h", "bad..subject"];
const FILTERS: &[&str] = &[
    "a", "b", "c.*", "c.>", ">", "*", "f.*.h", "f.>", "zz", "*.d",
];

/// The model: the obvious implementation of the documented semantics.
#[derive(Debug)]
struct Model {
    config: StoreConfig,
    msgs: BTreeMap<u64, StoredMsg>,
    last_seq: u64,
}

fn matches(filter: &str, subject: &str) -> bool {
    let f: Vec<&str> = filter.split('.').collect();
    let s: Vec<&str> = subject.split('.').collect();
    for (i, token) in f.iter().enumerate() {
        if *token == ">" {
            return s.len() > i;
        }
        if i >= s.len() || (*token != "*" && *token != s[i]) {
            return false;
        }
    }
    f.len() == s.len()
}

impl Model {
    fn bytes(&self) -> u64 {
        self.msgs
            .values()
            .map(|m| msg_size(&m.subject, &m.headers, &m.payload))
            .sum()
    }

    fn expire(&mut self, now: i64) -> u64 {
        let Some(age) = self.config.max_age_nanos else {
            return 0;
        };
        let mut n = 0;
        while let Some((&seq, m)) = self.msgs.iter().next() {
            if (now as i128) - (m.timestamp as i128) < age as i128 {
                break;
            }
            self.msgs.remove(&seq);
            n += 1;
        }
        n
    }

    fn store(
        &mut self,
        subject: &str,
        headers: &[u8],
        payload: &[u8],
        ts: i64,
    ) -> Result<u64, StoreError> {
        self.expire(ts);
        if subject.contains("..") {
            return Err(StoreError::InvalidSubject);
        }
        if self
            .config
            .max_msg_size_bytes
            .is_some_and(|m| (headers.len() + payload.len()) as u64 > m)
        {
            return Err(StoreError::MsgTooLarge);
        }
        let size = msg_size(subject, headers, payload);
        if self.config.discard == DiscardPolicy::New {
            if self
                .config
                .max_msgs
                .is_some_and(|m| self.msgs.len() as u64 >= m)
            {
                return Err(StoreError::MaxMsgs);
            }
            if self
                .config
                .max_bytes
                .is_some_and(|m| self.bytes() + size > m)
            {
                return Err(StoreError::MaxBytes);
            }
        }
        self.last_seq += 1;
        let seq = self.last_seq;
        let msg = StoredMsg {
            seq,
            subject: subject.into(),
            headers: Bytes::copy_from_slice(headers),
            payload: Bytes::copy_from_slice(payload),
            timestamp: ts,
        };
        self.msgs.insert(seq, msg);
        if let Some(max) = self.config.max_msgs_per_subject {
            let same: Vec<u64> = self
                .msgs
                .values()
                .filter(|m| &*m.subject == subject)
                .map(|m| m.seq)
                .collect();
            for seq in same.iter().take(same.len().saturating_sub(max as usize)) {
                self.msgs.remove(seq);
            }
        }
        if self.config.discard == DiscardPolicy::Old {
            while self
                .config
                .max_msgs
                .is_some_and(|m| self.msgs.len() as u64 > m)
                || self.config.max_bytes.is_some_and(|m| self.bytes() > m)
            {
                let first = *self.msgs.keys().next().unwrap();
                self.msgs.remove(&first);
            }
        }
        Ok(seq)
    }

    fn purge(&mut self, request: &PurgeRequest) -> Result<u64, StoreError> {
        if request.keep.is_some() && request.up_to_seq.is_some() {
            return Err(StoreError::InvalidPurge);
        }
        let filter = request.filter.as_deref().unwrap_or(">");
        let mut seqs: Vec<u64> = self
            .msgs
            .values()
            .filter(|m| matches(filter, &m.subject))
            .map(|m| m.seq)
            .collect();
        if let Some(up_to) = request.up_to_seq {
            seqs.retain(|&s| s < up_to);
        }
        if let Some(keep) = request.keep {
            seqs.truncate(seqs.len().saturating_sub(keep as usize));
        }
        for seq in &seqs {
            self.msgs.remove(seq);
        }
        Ok(seqs.len() as u64)
    }

    fn compact(&mut self, seq: u64) -> u64 {
        let below: Vec<u64> = self.msgs.range(..seq).map(|(&s, _)| s).collect();
        for s in &below {
            self.msgs.remove(s);
        }
        if self.msgs.is_empty() && seq > self.last_seq + 1 {
            self.last_seq = seq - 1;
        }
        below.len() as u64
    }

    fn state(&self) -> StreamState {
        let first = self.msgs.values().next();
        let first_seq = match first {
            Some(m) => m.seq,
            None if self.last_seq == 0 => 0,
            None => self.last_seq + 1,
        };
        let subjects: std::collections::BTreeSet<&str> =
            self.msgs.values().map(|m| &*m.subject).collect();
        StreamState {
            msgs: self.msgs.len() as u64,
            bytes: self.bytes(),
            first_seq,
            first_time: first.map_or(0, |m| m.timestamp),
            last_seq: self.last_seq,
            last_time: self.msgs.values().next_back().map_or(0, |m| m.timestamp),
            num_deleted: if self.msgs.is_empty() {
                0
            } else {
                self.last_seq + 1 - first_seq - self.msgs.len() as u64
            },
            num_subjects: subjects.len() as u64,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Store {
        subject: usize,
        headers: bool,
        payload: Vec<u8>,
        advance_nanos: i64,
    },
    Remove {
        pick: u64,
        erase: bool,
    },
    Purge {
        filter: Option<usize>,
        keep: Option<u64>,
        up_to_back: Option<u64>,
    },
    Compact {
        ahead: i64,
    },
    Expire {
        advance_nanos: i64,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..SUBJECTS.len(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..60), 0..50i64)
            .prop_map(|(subject, headers, payload, advance_nanos)| Op::Store { subject, headers, payload, advance_nanos }),
        3 => (any::<u64>(), any::<bool>()).prop_map(|(pick, erase)| Op::Remove { pick, erase }),
        1 => (prop::option::of(0..FILTERS.len()), prop::option::of(0..4u64), prop::option::of(0..8u64))
            .prop_map(|(filter, keep, up_to_back)| Op::Purge { filter, keep, up_to_back }),
        1 => (-6..3i64).prop_map(|ahead| Op::Compact { ahead }),
        1 => (0..200i64).prop_map(|advance_nanos| Op::Expire { advance_nanos }),
        1 => Just(Op::Reopen),
    ]
}

fn config() -> impl Strategy<Value = StoreConfig> {
    (
        prop::option::of(1..12u64),
        prop::option::of(200..1500u64),
        prop::option::of(50..400i64),
        prop::option::of(1..4u64),
        prop::option::of(10..50u64),
        any::<bool>(),
    )
        .prop_map(
            |(max_msgs, max_bytes, max_age_nanos, per_subject, max_size, new)| StoreConfig {
                max_msgs,
                max_bytes,
                max_age_nanos,
                max_msgs_per_subject: per_subject,
                max_msg_size_bytes: max_size,
                discard: if new {
                    DiscardPolicy::New
                } else {
                    DiscardPolicy::Old
                },
            },
        )
}

fn file_config(limits: &StoreConfig, compression: Compression) -> FileStoreConfig {
    FileStoreConfig {
        compression,
        // Encrypt whenever compressing too, so both transformations meet the model together
        // and apart (plain, compressed+encrypted).
        encryption_key: (compression == Compression::Lz4).then(|| EncryptionKey::new([9; 32])),
        limits: limits.clone(),
        block_size_bytes: 1024,
        // Durability is not under test here; fsync at close only keeps the test quick.
        sync: SyncPolicy::Interval(std::time::Duration::from_secs(3600)),
        write_buffer_bytes_max: 300,
    }
}

fn same<T: PartialEq + std::fmt::Debug>(model: T, memory: T, file: T, what: &str) {
    assert_eq!(
        model, memory,
        "memory store disagrees with the model on {what}"
    );
    assert_eq!(model, file, "file store disagrees with the model on {what}");
}

fn simplify<T>(result: Result<T, StoreError>) -> Result<T, String> {
    result.map_err(|e| e.to_string())
}

/// Compares every observable of the three implementations.
fn check(model: &Model, memory: &MemoryStore, file: &FileStore) {
    same(model.state(), memory.state(), file.state(), "state");
    let deleted: Vec<u64> = if model.msgs.is_empty() {
        vec![]
    } else {
        let first = *model.msgs.keys().next().unwrap();
        (first..=model.last_seq)
            .filter(|s| !model.msgs.contains_key(s))
            .collect()
    };
    same(deleted.clone(), memory.deleted(), file.deleted(), "deleted");
    for seq in 0..=model.last_seq + 1 {
        let expected = model
            .msgs
            .get(&seq)
            .cloned()
            .ok_or("no message found".to_string());
        same(
            expected,
            simplify(memory.load(seq)),
            simplify(file.load(seq)),
            "load",
        );
    }
    for filter in FILTERS {
        for start in 0..=model.last_seq + 1 {
            let expected = if start > model.last_seq {
                Err("stream store EOF".to_string())
            } else {
                model
                    .msgs
                    .range(start..)
                    .map(|(_, m)| m)
                    .find(|m| matches(filter, &m.subject))
                    .cloned()
                    .ok_or("no message found".into())
            };
            same(
                expected,
                simplify(memory.load_next(filter, start)),
                simplify(file.load_next(filter, start)),
                "load_next",
            );
        }
        let last = model
            .msgs
            .values()
            .rev()
            .find(|m| matches(filter, &m.subject))
            .cloned()
            .ok_or("no message found".into());
        same(
            last,
            simplify(memory.load_last(filter)),
            simplify(file.load_last(filter)),
            "load_last",
        );
        let mut counts = BTreeMap::new();
        for m in model.msgs.values().filter(|m| matches(filter, &m.subject)) {
            *counts.entry(m.subject.to_string()).or_insert(0u64) += 1;
        }
        same(
            counts,
            memory.subject_counts(filter),
            file.subject_counts(filter),
            "subject_counts",
        );
    }
    let expiry = model
        .config
        .max_age_nanos
        .and_then(|age| model.msgs.values().next().map(|m| m.timestamp + age));
    same(
        expiry,
        memory.next_expiry(),
        file.next_expiry(),
        "next_expiry",
    );
}

fn run(config: StoreConfig, ops: Vec<Op>, compression: Compression) {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model {
        config: config.clone(),
        msgs: BTreeMap::new(),
        last_seq: 0,
    };
    let mut memory = MemoryStore::new(config.clone()).unwrap();
    let mut file = Some(FileStore::open(dir.path(), file_config(&config, compression)).unwrap());
    let mut now = 1_000i64;
    for op in ops {
        let store = file.as_mut().unwrap();
        match op {
            Op::Store {
                subject,
                headers,
                payload,
                advance_nanos,
            } => {
                now += advance_nanos;
                let headers: &[u8] = if headers {
                    b"NATS/1.0\r\nK: v\r\n\r\n"
                } else {
                    b""
                };
                let subject = SUBJECTS[subject];
                let expected = simplify(model.store(subject, headers, &payload, now));
                same(
                    expected,
                    simplify(memory.store(subject, headers, &payload, now)),
                    simplify(store.store(subject, headers, &payload, now)),
                    "store",
                );
            }
            Op::Remove { pick, erase } => {
                // Anywhere in the history, so tombstones land in later blocks than their targets.
                let seq = pick % (model.last_seq + 2);
                let expected = Ok(model.msgs.remove(&seq).is_some());
                same(
                    expected,
                    simplify(memory.remove(seq, erase)),
                    simplify(store.remove(seq, erase)),
                    "remove",
                );
            }
            Op::Purge {
                filter,
                keep,
                up_to_back,
            } => {
                let request = PurgeRequest {
                    filter: filter.map(|f| FILTERS[f].to_string()),
                    keep,
                    up_to_seq: up_to_back.map(|back| (model.last_seq + 1).saturating_sub(back)),
                };
                same(
                    simplify(model.purge(&request)),
                    simplify(memory.purge(&request)),
                    simplify(store.purge(&request)),
                    "purge",
                );
            }
            Op::Compact { ahead } => {
                let seq = (model.last_seq as i64 + 1 + ahead).max(0) as u64;
                same(
                    Ok(model.compact(seq)),
                    simplify(memory.compact(seq)),
                    simplify(store.compact(seq)),
                    "compact",
                );
            }
            Op::Expire { advance_nanos } => {
                now += advance_nanos;
                same(
                    Ok(model.expire(now)),
                    simplify(memory.expire(now)),
                    simplify(store.expire(now)),
                    "expire",
                );
            }
            Op::Reopen => {
                drop(file.take());
                let (reopened, report) =
                    FileStore::open_with_report(dir.path(), file_config(&config, compression))
                        .unwrap();
                assert_eq!(
                    report.quarantined_regions
                        + report.lost_seqs.len()
                        + report.truncated_bytes as usize,
                    0,
                    "{report:?}"
                );
                file = Some(reopened);
                let mut snapshot = Vec::new();
                memory.snapshot(&mut snapshot).unwrap();
                memory = MemoryStore::restore(config.clone(), &mut snapshot.as_slice()).unwrap();
            }
        }
        check(&model, &memory, file.as_ref().unwrap());
    }
    // A file store restored from the memory store's snapshot agrees too.
    let mut snapshot = Vec::new();
    memory.snapshot(&mut snapshot).unwrap();
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = FileStore::restore(
        restored_dir.path(),
        file_config(&config, compression),
        &mut snapshot.as_slice(),
    )
    .unwrap();
    check(&model, &memory, &restored);
}

/// 64 cases per property unless `PROPTEST_CASES` asks for more (or fewer).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn stores_agree_with_the_model(config in config(), ops in prop::collection::vec(op(), 1..60), lz4 in any::<bool>()) {
        run(config, ops, if lz4 { Compression::Lz4 } else { Compression::None });
    }

    #[test]
    fn stores_agree_without_limits(ops in prop::collection::vec(op(), 1..80), lz4 in any::<bool>()) {
        run(StoreConfig::default(), ops, if lz4 { Compression::Lz4 } else { Compression::None });
    }
}
