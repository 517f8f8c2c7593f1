//! Space reclamation: a KV-style stream (one message per key) whose oldest key is never
//! rewritten keeps its first sequence pinned, so blocks in the middle must be compacted as their
//! messages are overwritten, without any removed value coming back after recovery.

use std::fs;
use std::path::Path;

use natrium_store::{FileStore, FileStoreConfig, MessageStore, StoreConfig};

fn config() -> FileStoreConfig {
    FileStoreConfig {
        limits: StoreConfig {
            max_msgs_per_subject: Some(1),
            ..StoreConfig::default()
        },
        block_size_bytes: 2048,
        ..FileStoreConfig::default()
    }
}

fn disk_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir.join("msgs"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Writes `rounds` overwrites of 10 keys behind one pinned key; checks the bytes on disk stay
/// bounded and the latest value of every key survives reopening.
fn check(rounds: u64, disk_bytes_max: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = FileStore::open(dir.path(), config()).unwrap();
    store.store("kv.pinned", b"", b"first", 0).unwrap();
    for round in 0..rounds {
        for key in 0..10 {
            let value = format!("{round}-{key}-{}", "v".repeat(40));
            store
                .store(&format!("kv.k{key}"), b"", value.as_bytes(), round as i64)
                .unwrap();
        }
        store.sync().unwrap().wait().unwrap();
    }
    assert_eq!(store.state().msgs, 11);
    let on_disk = disk_bytes(dir.path());
    assert!(
        on_disk <= disk_bytes_max,
        "{on_disk} bytes on disk for 11 live messages"
    );
    let before = store.state();
    drop(store);
    let (store, report) = FileStore::open_with_report(dir.path(), config()).unwrap();
    assert_eq!(
        report.quarantined_regions + report.missing_blocks.len(),
        0,
        "{report:?}"
    );
    assert_eq!(store.state(), before);
    assert_eq!(
        store.load_last("kv.pinned").unwrap().payload.as_ref(),
        b"first"
    );
    for key in 0..10 {
        let value = format!("{}-{key}-{}", rounds - 1, "v".repeat(40));
        assert_eq!(
            store
                .load_last(&format!("kv.k{key}"))
                .unwrap()
                .payload
                .as_ref(),
            value.as_bytes()
        );
    }
}

#[test]
fn overwritten_blocks_are_reclaimed() {
    check(1, 8 * 1024);
    check(300, 64 * 1024);
}

/// A tombstone in a compacted block that removes a message of an earlier, still-live block is
/// carried forward: the removed message stays removed after recovery.
#[test]
fn compaction_carries_tombstones_for_earlier_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileStoreConfig {
        block_size_bytes: 1024,
        ..FileStoreConfig::default()
    };
    let mut store = FileStore::open(dir.path(), config.clone()).unwrap();
    // 101-byte records: nine per 1024-byte block, so block 1 = 1..=9, block 2 = 10..=18.
    let payload = [b'p'; 60];
    for seq in 1..=12 {
        assert_eq!(store.store("f", b"", &payload, seq).unwrap(), seq as u64);
    }
    assert!(
        store.remove(2, false).unwrap(),
        "tombstone for block 1 written into block 2"
    );
    for seq in 13..=20 {
        store.store("f", b"", &payload, seq).unwrap();
    }
    assert_eq!(store.block_count(), 3);
    for seq in 10..=18 {
        assert!(store.remove(seq, false).unwrap());
    }
    let block_two = dir.path().join("msgs").join(format!("{:010}.blk", 2));
    assert_eq!(
        fs::metadata(&block_two).unwrap().len(),
        16,
        "block 2 should be compacted to its header"
    );
    let before = store.state();
    drop(store);
    let store = FileStore::open(dir.path(), config).unwrap();
    assert!(
        store.load(2).is_err(),
        "removed message came back after compaction"
    );
    assert_eq!(store.state(), before);
    assert_eq!(store.deleted(), [2, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
}
