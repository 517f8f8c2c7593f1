//! LZ4 block compression: sealed blocks shrink on disk and read back intact; a damaged
//! compressed block is detected, quarantined and logged, never served; an unfinished
//! compression (crash before the rename) leaves the plain block in charge.

use std::fs;
use std::path::{Path, PathBuf};

use natrium_store::{Compression, FileStore, FileStoreConfig, MessageStore, StoreError};

fn config() -> FileStoreConfig {
    FileStoreConfig {
        block_size_bytes: 4096,
        compression: Compression::Lz4,
        ..FileStoreConfig::default()
    }
}

fn payload(seq: u64) -> Vec<u8> {
    format!("order {seq} status=shipped carrier=ups warehouse=north ")
        .repeat(3)
        .into_bytes()
}

fn populate(dir: &Path, msgs: u64) {
    let mut store = FileStore::open(dir, config()).unwrap();
    for seq in 1..=msgs {
        assert_eq!(
            store
                .store("orders.shipped", b"", &payload(seq), seq as i64)
                .unwrap(),
            seq
        );
    }
    store.sync().unwrap().wait().unwrap();
}

fn blocks(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir.join("msgs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

#[test]
fn sealed_blocks_are_compressed_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 200);
    let sizes: Vec<u64> = blocks(dir.path())
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .collect();
    let sealed = &sizes[..sizes.len() - 1];
    assert!(
        sealed.len() >= 5 && sealed.iter().all(|&len| len < 4096 / 2),
        "sizes {sizes:?}"
    );
    let mut store = FileStore::open(dir.path(), config()).unwrap();
    for seq in 1..=200 {
        assert_eq!(
            store.load(seq).unwrap().payload.as_ref(),
            payload(seq).as_slice()
        );
    }
    // Erasing inside a compressed block rewrites it; the neighbours stay intact.
    assert!(store.remove(3, true).unwrap());
    store.sync().unwrap().wait().unwrap();
    drop(store);
    let store = FileStore::open(dir.path(), config()).unwrap();
    assert!(matches!(store.load(3), Err(StoreError::NotFound)));
    assert_eq!(
        store.load(4).unwrap().payload.as_ref(),
        payload(4).as_slice()
    );
}

#[test]
fn damaged_compressed_block_is_detected_and_never_served() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 200);
    let second = blocks(dir.path())[1].clone();
    let mut bytes = fs::read(&second).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x08;
    fs::write(&second, bytes).unwrap();
    let (store, report) = FileStore::open_with_report(dir.path(), config()).unwrap();
    assert_eq!(report.damaged_compressed_blocks, 1, "{report:?}");
    assert_eq!(report.quarantined_regions, 1, "{report:?}");
    let mut lost = 0;
    for seq in 1..=200 {
        match store.load(seq) {
            Ok(msg) => assert_eq!(msg.payload.as_ref(), payload(seq).as_slice()),
            Err(StoreError::NotFound) => lost += 1,
            Err(other) => panic!("seq {seq}: {other}"),
        }
    }
    assert!(lost > 0 && lost < 100, "lost {lost}");
}

#[test]
fn unfinished_compression_leaves_the_plain_block() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 200);
    let first = blocks(dir.path())[0].clone();
    fs::write(
        first.with_extension("blk.tmp"),
        b"half-written compressed block",
    )
    .unwrap();
    let (store, report) = FileStore::open_with_report(dir.path(), config()).unwrap();
    assert_eq!(
        report.quarantined_regions + report.damaged_compressed_blocks,
        0,
        "{report:?}"
    );
    assert!(!first.with_extension("blk.tmp").exists());
    assert_eq!(store.state().msgs, 200);
}
