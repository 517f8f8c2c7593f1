//! Parser throughput over a read buffer of many small publishes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use natrium_proto::{parse_op, ParserLimits};
use std::hint::black_box;

fn buffer_of_publishes(count: usize, payload: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for _ in 0..count {
        buf.extend_from_slice(format!("PUB bench.subject.{} {payload}\r\n", count % 10).as_bytes());
        buf.extend(std::iter::repeat_n(b'x', payload));
        buf.extend_from_slice(b"\r\n");
    }
    buf
}

fn parse_benches(c: &mut Criterion) {
    let limits = ParserLimits::default();
    for payload in [16usize, 1024] {
        let buf = buffer_of_publishes(1000, payload);
        let mut group = c.benchmark_group("parser");
        group.throughput(Throughput::Elements(1000));
        group.bench_function(format!("pub_{payload}B_x1000"), |b| {
            b.iter(|| {
                let mut offset = 0;
                while let Ok(Some((op, len))) = parse_op(&buf[offset..], &limits) {
                    black_box(op);
                    offset += len;
                }
                offset
            })
        });
        group.finish();
    }
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
