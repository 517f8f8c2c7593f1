//! Group commit: concurrent writers waiting for durability share fsyncs, and every write is
//! durable when its ticket resolves. Under the interval policy tickets resolve at once.

use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use natrium_store::{FileStore, FileStoreConfig, MessageStore, SyncPolicy};

const WRITERS: usize = 8;
const PER_WRITER: usize = 50;

/// Runs `WRITERS` threads that each store and wait `PER_WRITER` times; returns fsync rounds used.
fn check(policy: SyncPolicy) -> (u64, Arc<Mutex<FileStore>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = FileStoreConfig {
        sync: policy,
        ..FileStoreConfig::default()
    };
    let store = Arc::new(Mutex::new(FileStore::open(dir.path(), config).unwrap()));
    let rounds_before = store.lock().unwrap().sync_rounds();
    let barrier = Arc::new(Barrier::new(WRITERS));
    let threads: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..PER_WRITER {
                    // Store and take the ticket under the lock; wait for the fsync outside it.
                    let ticket = {
                        let mut store = store.lock().unwrap();
                        store
                            .store(&format!("w.{writer}"), b"", &[i as u8; 64], i as i64)
                            .unwrap();
                        store.sync().unwrap()
                    };
                    ticket.wait().unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let rounds = store.lock().unwrap().sync_rounds() - rounds_before;
    assert_eq!(
        store.lock().unwrap().state().msgs,
        (WRITERS * PER_WRITER) as u64
    );
    (rounds, store, dir)
}

#[test]
fn concurrent_writers_share_fsyncs() {
    let (rounds, _store, _dir) = check(SyncPolicy::Always);
    let tickets = (WRITERS * PER_WRITER) as u64;
    eprintln!("{rounds} fsync rounds for {tickets} durable acks");
    assert!(rounds >= 1, "durable acks need at least one fsync");
    assert!(
        rounds < tickets,
        "{rounds} fsync rounds for {tickets} acks: no batching"
    );
}

#[test]
fn interval_policy_acks_without_waiting_for_fsync() {
    let (rounds, store, _dir) = check(SyncPolicy::Interval(Duration::from_secs(3600)));
    assert_eq!(rounds, 0, "no fsync before the interval elapses");
    // An explicit sync_all still forces one.
    store.lock().unwrap().sync_all().unwrap();
    assert_eq!(store.lock().unwrap().sync_rounds(), 1 + store_open_rounds());
}

/// `open` makes recovery durable with one fsync round.
fn store_open_rounds() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    FileStore::open(dir.path(), FileStoreConfig::default())
        .unwrap()
        .sync_rounds()
}

#[test]
fn interval_policy_fsyncs_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileStoreConfig {
        sync: SyncPolicy::Interval(Duration::from_millis(20)),
        ..FileStoreConfig::default()
    };
    let mut store = FileStore::open(dir.path(), config).unwrap();
    let before = store.sync_rounds();
    store.store("a", b"", b"x", 1).unwrap();
    assert!(store.sync().unwrap().is_done());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.sync_rounds() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the interval flusher never ran"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
