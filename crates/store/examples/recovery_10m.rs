//! Recovery time at scale: fills a file store with N messages (default 10 M, 16 B payloads,
//! 10 k subjects), then times opening it. `clean` closes the store before reopening;
//! `killed` ends the writer with SIGABRT right after its last write, as a crash would, so
//! recovery also meets an unsynced, possibly torn tail.
//!
//! `cargo run --release -p natrium-store --example recovery_10m -- clean|killed [N] [DIR]`

use natrium_store::{FileStore, FileStoreConfig, MessageStore, SyncPolicy};
use std::path::PathBuf;
use std::time::Instant;

fn config() -> FileStoreConfig {
    FileStoreConfig {
        sync: SyncPolicy::Interval(std::time::Duration::from_secs(120)),
        ..FileStoreConfig::default()
    }
}

fn fill(dir: &PathBuf, count: u64) -> FileStore {
    let mut store = FileStore::open(dir, config()).expect("open for fill");
    let subjects: Vec<String> = (0..10_000)
        .map(|i| format!("bench.{}.{}", i % 100, i))
        .collect();
    let started = Instant::now();
    for n in 0..count {
        let subject = &subjects[(n % subjects.len() as u64) as usize];
        store
            .store(subject, b"", &[b'x'; 16], n as i64)
            .expect("store");
    }
    eprintln!("filled {count} messages in {:.2?}", started.elapsed());
    store
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("clean");
    let count: u64 = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    let dir = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("natrium-recovery-{mode}")));
    match mode {
        "clean" => {
            let _ = std::fs::remove_dir_all(&dir);
            let mut store = fill(&dir, count);
            store.sync_all().expect("sync");
            drop(store);
            reopen(&dir, count);
        }
        "killed" => {
            let _ = std::fs::remove_dir_all(&dir);
            // The writer runs in a child process so its death cannot touch this one.
            let status = std::process::Command::new(std::env::current_exe().expect("own path"))
                .args(["fill-then-abort", &count.to_string()])
                .arg(&dir)
                .status()
                .expect("run writer");
            assert!(!status.success(), "the writer was meant to die");
            reopen(&dir, count);
        }
        "fill-then-abort" => {
            let mut store = fill(&dir, count);
            // Hand what was written to the OS, then die without any shutdown path.
            let _ticket = store.sync();
            std::process::abort();
        }
        "open" => reopen(&dir, count),
        other => panic!("unknown mode {other:?}: clean, killed or open"),
    }
}

fn reopen(dir: &PathBuf, count: u64) {
    let started = Instant::now();
    let (store, report) = FileStore::open_with_report(dir, config()).expect("recover");
    let elapsed = started.elapsed();
    let state = store.state();
    println!(
        "recovered {} of {count} messages in {elapsed:.2?} ({:.1} M msgs/s); report: {report:?}",
        state.msgs,
        state.msgs as f64 / elapsed.as_secs_f64() / 1e6
    );
}
