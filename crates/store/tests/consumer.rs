//! Consumer state files: the last durable save wins across reopen, and a torn or damaged latest
//! record falls back to the previous state instead of serving garbage.

use std::fs;

use natrium_store::{ConsumerState, FileStore, FileStoreConfig, Pending, SequencePair};

fn state(n: u64) -> ConsumerState {
    ConsumerState {
        delivered: SequencePair {
            consumer_seq: n,
            stream_seq: n * 2,
        },
        ack_floor: SequencePair {
            consumer_seq: n / 2,
            stream_seq: n,
        },
        pending: (n / 2 + 1..=n)
            .map(|s| {
                (
                    s * 2,
                    Pending {
                        consumer_seq: s,
                        timestamp: s as i64,
                    },
                )
            })
            .collect(),
        redelivered: [(n * 2, 2)].into_iter().collect(),
    }
}

/// Saves states 1..=saves, applies `damage` to the file, and expects `expected` back.
fn check(saves: u64, damage: fn(&std::path::Path), expected: Option<ConsumerState>) {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = FileStore::open(dir.path(), FileStoreConfig::default()).unwrap();
        for n in 1..=saves {
            store
                .save_consumer("orders-worker", &state(n))
                .unwrap()
                .wait()
                .unwrap();
        }
        assert_eq!(
            store.load_consumer("orders-worker").unwrap(),
            (saves > 0).then(|| state(saves))
        );
    }
    damage(&dir.path().join("consumers").join("orders-worker.state"));
    let store = FileStore::open(dir.path(), FileStoreConfig::default()).unwrap();
    assert_eq!(store.load_consumer("orders-worker").unwrap(), expected);
}

#[test]
fn consumer_state_survives_reopen_and_damage() {
    check(0, |_| {}, None);
    check(5, |_| {}, Some(state(5)));
    check(
        5,
        |path| {
            let len = fs::metadata(path).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(len - 3)
                .unwrap();
        },
        Some(state(4)),
    );
    check(
        5,
        |path| {
            let mut bytes = fs::read(path).unwrap();
            let last = bytes.len() - 5;
            bytes[last] ^= 1;
            fs::write(path, bytes).unwrap();
        },
        Some(state(4)),
    );
    check(1, |path| fs::write(path, b"").unwrap(), None);
}

#[test]
fn large_consumer_state_rewrites_the_file_and_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = FileStore::open(dir.path(), FileStoreConfig::default()).unwrap();
    for n in 1..=400 {
        store.save_consumer("c", &state(n)).unwrap().wait().unwrap();
    }
    let len = fs::metadata(dir.path().join("consumers/c.state"))
        .unwrap()
        .len();
    assert!(len <= 256 * 1024, "file grew to {len}");
    assert_eq!(store.load_consumer("c").unwrap(), Some(state(400)));
    assert!(store.save_consumer("../escape", &state(1)).is_err());
    store.delete_consumer("c").unwrap();
    assert_eq!(store.load_consumer("c").unwrap(), None);
}
