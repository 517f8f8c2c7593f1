//! The per-PUB permission check: a cache hit must cost well under 50 ns; also the miss path
//! (a trie walk) and the deny-at-delivery check, for comparison.

use criterion::{criterion_group, criterion_main, Criterion};
use natrium_auth::{
    CompiledPermissions, DeliveryFilter, Permissions, PublishCheck, PublishVerdict,
    SubjectPermission,
};
use std::hint::black_box;
use std::sync::Arc;

fn permissions() -> Arc<CompiledPermissions> {
    let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Arc::new(CompiledPermissions::new(&Permissions {
        publish: SubjectPermission {
            allow: Some(list(&[
                "orders.*.created",
                "orders.*.updated",
                "telemetry.>",
                "_INBOX.>",
                "svc.billing.*",
            ])),
            deny: list(&["telemetry.secret.>", "orders.internal.*"]),
        },
        subscribe: SubjectPermission {
            allow: None,
            deny: list(&["telemetry.secret.>"]),
        },
        response: None,
    }))
}

fn bench(c: &mut Criterion) {
    let compiled = permissions();
    let subjects: Vec<Vec<u8>> = (0..64)
        .map(|i| format!("telemetry.sensor{i}.temperature").into_bytes())
        .collect();

    let mut gate = PublishCheck::new(compiled.clone());
    for subject in &subjects {
        assert_eq!(gate.check(subject), PublishVerdict::Allowed);
    }
    let mut next = 0;
    c.bench_function("publish_check_cache_hit", |b| {
        b.iter(|| {
            next = (next + 1) & 63;
            black_box(gate.check(black_box(&subjects[next])))
        })
    });

    c.bench_function("publish_check_uncached_trie_walk", |b| {
        b.iter(|| {
            next = (next + 1) & 63;
            black_box(compiled.publish_allowed(black_box(&subjects[next])))
        })
    });

    let mut filter = DeliveryFilter::new(compiled.clone());
    c.bench_function("delivery_filter_inactive", |b| {
        b.iter(|| black_box(filter.denies(black_box(&subjects[0]), None)))
    });
    filter.activate();
    c.bench_function("delivery_filter_cache_hit", |b| {
        b.iter(|| {
            next = (next + 1) & 63;
            black_box(filter.denies(black_box(&subjects[next]), None))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
