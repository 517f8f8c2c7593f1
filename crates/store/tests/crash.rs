//! Crash test: a child process (this test binary, re-executed with `NATRIUM_STORE_CRASH_DIR`)
//! stores messages and prints an acknowledgement only after `SyncTicket::wait`; the parent
//! SIGKILLs it at a random point, recovers the store and checks that every acknowledged message
//! is present and intact, acknowledged removals stay removed, and sequences never go backwards.
//! 200 iterations with a fixed seed (override with `NATRIUM_STORE_CRASH_SEED`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use natrium_store::{FileStore, FileStoreConfig, MessageStore, StoreError};

const CHILD_ENV: &str = "NATRIUM_STORE_CRASH_DIR";
const ITERATIONS: usize = 200;

fn config() -> FileStoreConfig {
    FileStoreConfig {
        block_size_bytes: 64 * 1024,
        ..FileStoreConfig::default()
    }
}

/// SplitMix64: a seeded generator small enough to keep here rather than pull a crate for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The payload for a message is a pure function of its sequence, so the parent can check it.
fn payload(seq: u64) -> Vec<u8> {
    let len = (seq * 37 % 300) as usize;
    (0..len).map(|i| (seq as usize + i) as u8).collect()
}

/// Child mode: store batches, wait for durability, print acks; runs until killed.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut store = FileStore::open(&dir, config()).unwrap();
    let mut rng = Rng(std::process::id() as u64);
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {}", store.state().last_seq).unwrap();
    out.flush().unwrap();
    loop {
        let mut stored = Vec::new();
        for _ in 0..=rng.below(8) {
            let seq = store.state().last_seq + 1;
            let got = store
                .store(
                    &format!("crash.{}", seq % 5),
                    b"",
                    &payload(seq),
                    seq as i64,
                )
                .unwrap();
            assert_eq!(got, seq);
            stored.push(seq);
        }
        let removed = if rng.below(4) == 0 {
            let seq = stored[0];
            store.remove(seq, rng.below(2) == 0).unwrap();
            Some(seq)
        } else {
            None
        };
        store.sync().unwrap().wait().unwrap();
        // The removal is durable too, so announce it before the acks: a kill between lines must
        // not leave the parent expecting a message that was acknowledged and then removed.
        if let Some(seq) = removed {
            writeln!(out, "del {seq}").unwrap();
        }
        for seq in stored {
            writeln!(out, "ack {seq}").unwrap();
        }
        out.flush().unwrap();
    }
}

/// Parent mode.
#[test]
fn acknowledged_messages_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let seed = std::env::var("NATRIUM_STORE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    let mut high_water = 0;
    for iteration in 0..ITERATIONS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kill_after_acks = rng.below(40);
        let mut seen = 0;
        // Sometimes kill during start-up and recovery, before any ack.
        if kill_after_acks == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(3000)));
            child.kill().unwrap();
        }
        let mut killed = kill_after_acks == 0;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            record(&line, &mut acked, &mut deleted, &mut high_water, iteration);
            if line.starts_with("ack") {
                seen += 1;
            }
            if !killed && seen >= kill_after_acks {
                child.kill().unwrap();
                killed = true;
            }
        }
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "iteration {iteration}: the child must die by SIGKILL"
        );
        verify(dir.path(), &acked, &deleted, high_water, iteration);
    }
    assert!(
        acked.len() > ITERATIONS,
        "the test should acknowledge plenty of messages: {}",
        acked.len()
    );
}

fn record(
    line: &str,
    acked: &mut BTreeSet<u64>,
    deleted: &mut BTreeSet<u64>,
    high_water: &mut u64,
    iteration: usize,
) {
    let mut parts = line.split_whitespace();
    let (Some(kind), Some(seq)) = (
        parts.next(),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return;
    };
    match kind {
        "ready" => assert!(
            seq >= *high_water,
            "iteration {iteration}: last_seq went back to {seq} from {high_water}"
        ),
        "ack" => {
            assert!(
                seq > *high_water,
                "iteration {iteration}: seq {seq} reused (high water {high_water})"
            );
            *high_water = seq;
            acked.insert(seq);
        }
        "del" => {
            deleted.insert(seq);
        }
        _ => {}
    }
}

fn verify(
    dir: &Path,
    acked: &BTreeSet<u64>,
    deleted: &BTreeSet<u64>,
    high_water: u64,
    iteration: usize,
) {
    let store = FileStore::open(dir, config()).unwrap();
    let state = store.state();
    assert!(
        state.last_seq >= high_water,
        "iteration {iteration}: {state:?} below acked {high_water}"
    );
    for &seq in acked {
        let result = store.load(seq);
        if deleted.contains(&seq) {
            assert!(
                matches!(result, Err(StoreError::NotFound)),
                "iteration {iteration}: removed {seq} is back"
            );
            continue;
        }
        let msg = result.unwrap_or_else(|e| panic!("iteration {iteration}: acked seq {seq}: {e}"));
        assert_eq!(
            msg.payload.as_ref(),
            payload(seq).as_slice(),
            "iteration {iteration}: seq {seq} payload"
        );
        assert_eq!(&*msg.subject, format!("crash.{}", seq % 5));
    }
    // Everything recovery serves, acknowledged or not, passes its checks (nothing corrupt).
    let mut per_subject = BTreeMap::new();
    for seq in state.first_seq..=state.last_seq {
        match store.load(seq) {
            Ok(msg) => {
                assert_eq!(
                    msg.payload.as_ref(),
                    payload(seq).as_slice(),
                    "iteration {iteration}: unacked {seq}"
                );
                *per_subject.entry(msg.subject.to_string()).or_insert(0u64) += 1;
            }
            Err(StoreError::NotFound) => {}
            Err(error) => panic!("iteration {iteration}: seq {seq}: {error}"),
        }
    }
    assert_eq!(
        per_subject,
        store.subject_counts(">"),
        "iteration {iteration}"
    );
}
