//! Encryption at rest: payloads never reach the disk in the clear, read back intact across
//! reopen (with and without compression), and a store opened with a wrong or missing key
//! refuses to open instead of treating its messages as lost.

use std::fs;
use std::path::Path;

use natrium_store::{
    Compression, EncryptionKey, FileStore, FileStoreConfig, MessageStore, StoreError,
};

const SECRET: &[u8] = b"card=4111-1111-1111-1111";

fn config(key: Option<[u8; 32]>, compression: Compression) -> FileStoreConfig {
    FileStoreConfig {
        block_size_bytes: 2048,
        compression,
        encryption_key: key.map(EncryptionKey::new),
        ..FileStoreConfig::default()
    }
}

fn on_disk(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in fs::read_dir(dir.join("msgs")).unwrap() {
        bytes.extend(fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

/// Stores 100 messages under `config`, reopens, and checks every one and the bytes on disk.
fn check(config: FileStoreConfig) {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = FileStore::open(dir.path(), config.clone()).unwrap();
        for i in 0..100u64 {
            store
                .store(
                    &format!("payments.{}", i % 3),
                    b"NATS/1.0\r\nA: b\r\n\r\n",
                    SECRET,
                    i as i64,
                )
                .unwrap();
        }
        store.sync().unwrap().wait().unwrap();
    }
    let bytes = on_disk(dir.path());
    assert!(
        !bytes.windows(SECRET.len()).any(|w| w == SECRET),
        "plaintext payload on disk"
    );
    assert!(
        !bytes.windows(10).any(|w| w == b"payments.1"),
        "plaintext subject on disk"
    );
    let (mut store, report) = FileStore::open_with_report(dir.path(), config.clone()).unwrap();
    assert_eq!(report.quarantined_regions, 0, "{report:?}");
    for seq in 1..=100 {
        let msg = store.load(seq).unwrap();
        assert_eq!(
            (msg.payload.as_ref(), &*msg.subject),
            (SECRET, format!("payments.{}", (seq - 1) % 3).as_str())
        );
    }
    assert_eq!(store.load_last("payments.2").unwrap().seq, 99);
    assert!(store.remove(50, true).unwrap());
    store.sync().unwrap().wait().unwrap();
    drop(store);
    let store = FileStore::open(dir.path(), config).unwrap();
    assert!(matches!(store.load(50), Err(StoreError::NotFound)));
    assert_eq!(store.state().msgs, 99);
}

#[test]
fn encrypted_stores_read_back_and_leak_nothing() {
    check(config(Some([1; 32]), Compression::None));
    check(config(Some([2; 32]), Compression::Lz4));
}

#[test]
fn wrong_or_missing_key_refuses_to_open_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store =
            FileStore::open(dir.path(), config(Some([1; 32]), Compression::None)).unwrap();
        store.store("a", b"", SECRET, 1).unwrap();
        store.sync().unwrap().wait().unwrap();
    }
    let before = on_disk(dir.path());
    let wrong = FileStore::open(dir.path(), config(Some([2; 32]), Compression::None));
    assert!(
        matches!(wrong, Err(StoreError::DecryptionFailed { seq: 1 })),
        "{wrong:?}"
    );
    let missing = FileStore::open(dir.path(), config(None, Compression::None));
    assert!(
        matches!(missing, Err(StoreError::EncryptionKeyMissing)),
        "{missing:?}"
    );
    assert_eq!(
        on_disk(dir.path()),
        before,
        "a refused open must not touch the blocks"
    );
    let store = FileStore::open(dir.path(), config(Some([1; 32]), Compression::None)).unwrap();
    assert_eq!(store.load(1).unwrap().payload.as_ref(), SECRET);
}
