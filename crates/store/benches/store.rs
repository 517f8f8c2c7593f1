//! Criterion benchmarks for the store: append rate under both sync policies, recovery time,
//! index memory per message, filtered load-next over many subjects, and last-by-subject.
//!
//! Run: `cargo bench -p natrium-store --bench store -- --warm-up-time 1 --measurement-time 3`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use natrium_store::{
    FileStore, FileStoreConfig, MemoryStore, MessageStore, StoreConfig, SyncPolicy,
};

/// Counts live heap bytes so the index's memory per message can be reported.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const LAZY: SyncPolicy = SyncPolicy::Interval(Duration::from_secs(120));
const RECOVERY_MSGS: u64 = 1_000_000;
const READ_MSGS: u64 = 1_000_000;
const READ_SUBJECTS: u64 = 100_000;

fn file_config(sync: SyncPolicy) -> FileStoreConfig {
    FileStoreConfig {
        sync,
        ..FileStoreConfig::default()
    }
}

fn subject(i: u64) -> String {
    format!("kv.b{}.k{}", i % 100, i % READ_SUBJECTS)
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    for size in [16usize, 1024] {
        let payload = vec![b'x'; size];
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("memory", size), &payload, |b, payload| {
            let mut store = MemoryStore::new(StoreConfig::default()).unwrap();
            let mut ts = 0;
            b.iter(|| {
                ts += 1;
                store.store("orders.new", b"", payload, ts).unwrap()
            });
        });
        group.bench_with_input(
            BenchmarkId::new("file_lazy_sync", size),
            &payload,
            |b, payload| {
                b.iter_custom(|iters| {
                    let dir = tempfile::tempdir().unwrap();
                    let mut store = FileStore::open(dir.path(), file_config(LAZY)).unwrap();
                    let start = Instant::now();
                    for ts in 0..iters {
                        store.store("orders.new", b"", payload, ts as i64).unwrap();
                    }
                    store.sync().unwrap().wait().unwrap();
                    start.elapsed()
                });
            },
        );
        // One durable ack per 64 messages: a server acks a read buffer's worth of publishes at once.
        group.bench_with_input(
            BenchmarkId::new("file_always_batch64", size),
            &payload,
            |b, payload| {
                b.iter_custom(|iters| {
                    let dir = tempfile::tempdir().unwrap();
                    let mut store =
                        FileStore::open(dir.path(), file_config(SyncPolicy::Always)).unwrap();
                    let start = Instant::now();
                    for ts in 0..iters {
                        store.store("orders.new", b"", payload, ts as i64).unwrap();
                        if ts % 64 == 63 {
                            store.sync().unwrap().wait().unwrap();
                        }
                    }
                    store.sync().unwrap().wait().unwrap();
                    start.elapsed()
                });
            },
        );
        // Four publishers each waiting for their own durable ack: group commit shares the fsyncs.
        group.bench_with_input(
            BenchmarkId::new("file_always_4_publishers", size),
            &payload,
            |b, payload| {
                b.iter_custom(|iters| {
                    let dir = tempfile::tempdir().unwrap();
                    let store = Arc::new(Mutex::new(
                        FileStore::open(dir.path(), file_config(SyncPolicy::Always)).unwrap(),
                    ));
                    let start = Instant::now();
                    let threads: Vec<_> = (0..4)
                        .map(|_| {
                            let store = store.clone();
                            let payload = payload.clone();
                            std::thread::spawn(move || {
                                for ts in 0..iters.div_ceil(4) {
                                    let ticket = {
                                        let mut store = store.lock().unwrap();
                                        store
                                            .store("orders.new", b"", &payload, ts as i64)
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
                    start.elapsed()
                });
            },
        );
    }
    group.finish();
}

fn populate(store: &mut dyn MessageStore, msgs: u64, payload: &[u8]) {
    for i in 0..msgs {
        store.store(&subject(i), b"", payload, i as i64).unwrap();
    }
}

fn recovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECOVERY_MSGS));
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = FileStore::open(dir.path(), file_config(LAZY)).unwrap();
        populate(&mut store, RECOVERY_MSGS, &[b'x'; 16]);
    }
    group.bench_function("open_1M_16B_msgs_10k_subjects", |b| {
        b.iter_batched(
            || (),
            |()| FileStore::open(dir.path(), file_config(LAZY)).unwrap(),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut file = FileStore::open(dir.path(), file_config(LAZY)).unwrap();
    populate(&mut file, READ_MSGS, &[b'x'; 16]);
    let mut memory = MemoryStore::new(StoreConfig::default()).unwrap();
    populate(&mut memory, READ_MSGS, &[b'x'; 16]);
    let stores: [(&str, &dyn MessageStore); 2] = [("memory", &memory), ("file", &file)];
    let mut group = c.benchmark_group("reads_1M_msgs_100k_subjects");
    group.throughput(Throughput::Elements(1));
    for (name, store) in stores {
        // One bucket of 100 holds 1% of the messages under 1000 subjects.
        group.bench_function(BenchmarkId::new("load_next_wildcard_kv.b7.*", name), |b| {
            let mut seq = 1;
            b.iter(|| {
                let msg = store
                    .load_next("kv.b7.*", seq)
                    .unwrap_or_else(|_| store.load_next("kv.b7.*", 1).unwrap());
                seq = msg.seq + 1;
                msg.seq
            });
        });
        // A rare subject: the index jumps straight to it instead of scanning.
        group.bench_function(
            BenchmarkId::new("load_next_wildcard_rare_*.*.k4242", name),
            |b| {
                let mut seq = 1;
                b.iter(|| {
                    let msg = store
                        .load_next("*.*.k4242", seq)
                        .unwrap_or_else(|_| store.load_next("*.*.k4242", 1).unwrap());
                    seq = msg.seq + 1;
                    msg.seq
                });
            },
        );
        group.bench_function(BenchmarkId::new("load_last_literal", name), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 7919) % READ_SUBJECTS;
                store.load_last(&subject(i)).unwrap().seq
            });
        });
    }
    group.finish();
}

/// Heap bytes held per message by each store's index after storing 1M 16-byte messages on 10k
/// subjects (the memory store's figure includes the message bytes themselves).
fn report_index_memory() {
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut memory = MemoryStore::new(StoreConfig::default()).unwrap();
    populate(&mut memory, READ_MSGS, &[b'x'; 16]);
    let memory_bytes = LIVE_BYTES.load(Ordering::Relaxed) - before;
    drop(memory);
    let dir = tempfile::tempdir().unwrap();
    drop({
        let mut file = FileStore::open(dir.path(), file_config(LAZY)).unwrap();
        populate(&mut file, READ_MSGS, &[b'x'; 16]);
        file
    });
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let file = FileStore::open(dir.path(), file_config(LAZY)).unwrap();
    let file_bytes = LIVE_BYTES.load(Ordering::Relaxed) - before;
    eprintln!(
        "index memory per message (1M msgs, 10k subjects): memory store {:.1} B (incl. 16 B payload + Bytes), file store {:.1} B",
        memory_bytes as f64 / READ_MSGS as f64,
        file_bytes as f64 / READ_MSGS as f64
    );
    drop(file);
}

criterion_group!(benches, append, recovery, reads);

fn main() {
    report_index_memory();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
