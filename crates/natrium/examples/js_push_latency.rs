//! Publish-to-delivery latency of a JetStream push consumer, for BENCHMARKS.md (issue 9).
//!
//! `cargo run --release -p natrium --example js_push_latency -- nats://127.0.0.1:4222 [N] [memory]`
//! against a server started with `-js`: creates a file (or memory) stream and a push consumer (ack none),
//! publishes N messages one at a time (each after the previous one was delivered, so queues
//! stay empty), and prints the percentiles of the time from just before `publish` to the
//! consumer's delivery, as seen by one client.

use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_string());
    let count: usize = args.next().map_or(Ok(5000), |n| n.parse())?;
    let storage = match args.next().as_deref() {
        Some("memory") => stream::StorageType::Memory,
        _ => stream::StorageType::File,
    };
    let client = async_nats::connect(&url).await?;
    let context = jetstream::new(client.clone());
    let _ = context.delete_stream("LATENCY").await;
    let stream = context
        .create_stream(stream::Config {
            name: "LATENCY".to_string(),
            subjects: vec!["latency.>".to_string()],
            storage,
            ..Default::default()
        })
        .await?;
    let inbox = client.new_inbox();
    let consumer = stream
        .create_consumer(consumer::push::Config {
            deliver_subject: inbox,
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    let mut samples = Vec::with_capacity(count);
    for n in 0..count + count / 10 {
        let start = Instant::now();
        // Fire and forget: the PubAck is not waited for, only the delivery.
        client.publish("latency.a", "x".repeat(64).into()).await?;
        let delivered = tokio::time::timeout(Duration::from_secs(5), messages.next()).await?;
        delivered.ok_or("consumer ended")??;
        if n >= count / 10 {
            // The first tenth warms up connections and caches.
            samples.push(start.elapsed());
        }
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "{{\"n\":{},\"p50_us\":{:.0},\"p90_us\":{:.0},\"p99_us\":{:.0},\"p999_us\":{:.0}}}",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999)
    );
    context.delete_stream("LATENCY").await?;
    Ok(())
}
