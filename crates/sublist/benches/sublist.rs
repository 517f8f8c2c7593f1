//! Sublist match cost: cache hit, cache miss, the interest check, and a trie of 100k
//! subscriptions.

use criterion::{criterion_group, criterion_main, Criterion};
use natrium_sublist::{MatchCache, Sublist};
use std::hint::black_box;

fn populated(subscriptions: u32) -> Sublist<u32> {
    let sublist = Sublist::new();
    for id in 0..subscriptions {
        let subject = format!("bench.{}.{}.data", id % 1000, id / 1000);
        sublist.insert(subject.as_bytes(), None, id).unwrap();
    }
    sublist.insert(b"bench.*.*.data", None, u32::MAX).unwrap();
    sublist
        .insert(b"bench.>", Some(b"workers"), u32::MAX - 1)
        .unwrap();
    sublist
}

fn match_benches(c: &mut Criterion) {
    let sublist = populated(100_000);
    let subject = b"bench.517.42.data";
    c.bench_function("sublist/match_miss_100k_subs", |b| {
        b.iter(|| black_box(sublist.match_subject(black_box(subject))))
    });
    c.bench_function("sublist/has_interest_100k_subs", |b| {
        b.iter(|| black_box(sublist.has_interest(black_box(subject))))
    });
    // A JetStream ack or inbox subject: one `>` subscription, the usual interest check.
    let acks: Sublist<u32> = Sublist::new();
    acks.insert(b"$JS.ACK.ORDERS.worker.>", None, 1).unwrap();
    let ack = b"$JS.ACK.ORDERS.worker.1.42.42.1764150000000000000.0";
    c.bench_function("sublist/ack_match_subject", |b| {
        b.iter(|| black_box(acks.match_subject(black_box(ack))))
    });
    c.bench_function("sublist/ack_has_interest", |b| {
        b.iter(|| black_box(acks.has_interest(black_box(ack))))
    });
    let mut cache = MatchCache::new(1024);
    c.bench_function("sublist/match_cache_hit_100k_subs", |b| {
        b.iter(|| black_box(cache.lookup(&sublist, black_box(subject))))
    });
    c.bench_function("sublist/insert_remove_100k_subs", |b| {
        b.iter(|| {
            sublist.insert(b"bench.new.sub.data", None, 7).unwrap();
            sublist.remove(b"bench.new.sub.data", None, &7)
        })
    });
}

criterion_group!(benches, match_benches);
criterion_main!(benches);
