//! A durable consumer's state across restarts: a clean shutdown keeps delivered, ack floor and
//! pending; a `kill -9` in the middle of consuming 100k messages loses nothing and redelivers
//! only what was not yet acknowledged (at-least-once).

use crate::common::{within, within_for};
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{pull, PullConsumer};
use async_nats::jetstream::Context;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::time::Duration;

/// Stops the server with SIGTERM and waits for it to exit, so it shuts down cleanly.
async fn stop_cleanly(js: &mut JsServer) {
    let pid = js.server.pid() as libc::pid_t;
    // SAFETY: `kill` only sends a signal to the child process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(
        js.server.wait_for_exit(Duration::from_secs(10)).await,
        "server exits on SIGTERM"
    );
}

#[tokio::test]
async fn a_durable_consumer_resumes_after_a_clean_restart() {
    let mut js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("DUR", &["dur.>"])).await;
    publish_numbered(&context, "dur.a", 10).await;
    let consumer = pull_consumer(
        &stream,
        "keeper",
        pull::Config {
            ack_wait: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    let first = fetch(&consumer, 6).await;
    double_ack_all(&first[..4]).await;

    stop_cleanly(&mut js).await;
    js.server.restart().await;
    let (_client, context) = js.context().await;
    let stream = within("stream", context.get_stream("DUR")).await.unwrap();
    let info = consumer_info(&stream, "keeper").await;
    assert_eq!(
        (
            info.delivered.stream_sequence,
            info.ack_floor.stream_sequence
        ),
        (6, 4)
    );
    assert_eq!((info.num_ack_pending, info.num_pending), (2, 4));

    let consumer: PullConsumer = stream.get_consumer("keeper").await.unwrap();
    let mut rest = Vec::new();
    while rest.len() < 6 {
        rest.extend(batch_within(&consumer, 6 - rest.len(), Duration::from_secs(1)).await);
    }
    let seen: BTreeSet<(String, i64)> = rest
        .iter()
        .map(|m| (text(m), m.info().unwrap().delivered))
        .collect();
    let expected: BTreeSet<(String, i64)> =
        [("4", 2), ("5", 2), ("6", 1), ("7", 1), ("8", 1), ("9", 1)]
            .into_iter()
            .map(|(text, delivered)| (text.to_string(), delivered))
            .collect();
    assert_eq!(seen, expected, "the two unacked come back, the acked never");
}

/// Messages in the crash test.
const CRASH_MESSAGES: usize = 100_000;
/// PubAcks awaited at most at once while filling the stream.
const PUBLISH_IN_FLIGHT_MAX: usize = 1_000;
/// Double acks awaited at most at once while consuming.
const ACKS_IN_FLIGHT_MAX: usize = 256;

/// Publishes [`CRASH_MESSAGES`] numbered messages with at most [`PUBLISH_IN_FLIGHT_MAX`]
/// unacknowledged.
async fn fill(context: &Context) {
    let mut in_flight = FuturesUnordered::new();
    for n in 0..CRASH_MESSAGES {
        if in_flight.len() >= PUBLISH_IN_FLIGHT_MAX {
            let ack: Result<_, _> = within("PubAck", in_flight.next()).await.unwrap();
            ack.expect("publish acknowledged");
        }
        let ack = context
            .publish("crash.job", n.to_string().into())
            .await
            .expect("publish sent");
        in_flight.push(ack.into_future());
    }
    while let Some(ack) = within("PubAck", in_flight.next()).await {
        ack.expect("publish acknowledged");
    }
}

/// Consumes with double acks until `stop` says so (given the confirmed acks and the
/// deliveries so far), recording every delivery in `delivered` and every confirmed ack in
/// `confirmed`.
async fn consume(
    consumer: &PullConsumer,
    delivered: &mut Vec<usize>,
    confirmed: &mut BTreeSet<usize>,
    mut stop: impl FnMut(&BTreeSet<usize>, &[usize]) -> bool,
) {
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(500)
        .expires(Duration::from_secs(2))
        .heartbeat(Duration::from_millis(500))
        .messages()
        .await
        .expect("pull stream");
    let mut acks = FuturesUnordered::new();
    while !stop(confirmed, delivered) {
        tokio::select! {
            Some(acked) = acks.next(), if !acks.is_empty() => {
                let (n, result): (usize, Result<(), _>) = acked;
                if result.is_ok() {
                    confirmed.insert(n);
                }
            }
            message = messages.next(), if acks.len() < ACKS_IN_FLIGHT_MAX => {
                let message = message.expect("pull stream open").expect("message");
                let n: usize = text(&message).parse().unwrap();
                delivered.push(n);
                acks.push(async move { (n, message.double_ack().await) });
            }
        }
    }
}

/// Natrium confirms an ack only once the consumer state recording it is durable, so no
/// confirmed ack is redelivered. nats-server 2.9.10 fails that check: it answers the double
/// ack before its flusher writes the consumer state, so a kill can undo confirmed acks.
#[tokio::test]
async fn a_kill_9_while_consuming_loses_no_message_and_no_confirmed_ack() {
    let mut js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("CRASH", &["crash.>"])).await;
    within_for(Duration::from_secs(20), "fill the stream", fill(&context)).await;
    let consumer = pull_consumer(
        &stream,
        "survivor",
        pull::Config {
            ack_wait: Duration::from_secs(1),
            max_ack_pending: 2_000,
            ..Default::default()
        },
    )
    .await;

    let mut before = Vec::new();
    let mut confirmed_before = BTreeSet::new();
    let half = CRASH_MESSAGES / 2;
    within_for(
        Duration::from_secs(20),
        "consume half",
        consume(&consumer, &mut before, &mut confirmed_before, |c, _| {
            c.len() >= half
        }),
    )
    .await;
    // SIGKILL: no chance to flush or save anything more.
    js.server.stop();
    js.server.restart().await;

    let (_client, context) = js.context().await;
    let stream = within("stream", context.get_stream("CRASH")).await.unwrap();
    assert_eq!(
        stream.cached_info().state.messages,
        CRASH_MESSAGES as u64,
        "every acknowledged publish survived"
    );
    let consumer: PullConsumer = stream.get_consumer("survivor").await.unwrap();
    let mut after = Vec::new();
    let mut confirmed_after = BTreeSet::new();
    let seen_before: BTreeSet<usize> = before.iter().copied().collect();
    // Acks the server took but whose confirmation the kill cut off are not redelivered, so
    // consume until every message was seen, then until the consumer holds nothing pending.
    let unseen = CRASH_MESSAGES - seen_before.len();
    within_for(
        Duration::from_secs(20),
        "consume the rest",
        consume(&consumer, &mut after, &mut confirmed_after, {
            let mut fresh = BTreeSet::new();
            let mut checked = 0;
            let seen_before = &seen_before;
            move |_, delivered: &[usize]| {
                for n in &delivered[checked..] {
                    if !seen_before.contains(n) {
                        fresh.insert(*n);
                    }
                }
                checked = delivered.len();
                fresh.len() >= unseen
            }
        }),
    )
    .await;
    let info = within_for(Duration::from_secs(10), "redeliveries", async {
        loop {
            let info = consumer_info(&stream, "survivor").await;
            if info.num_ack_pending == 0 && info.num_pending == 0 {
                return info;
            }
            for message in batch_within(&consumer, 500, Duration::from_millis(1500)).await {
                after.push(text(&message).parse().unwrap());
                within("double ack", message.double_ack()).await.unwrap();
            }
        }
    })
    .await;
    assert_eq!(info.ack_floor.stream_sequence, CRASH_MESSAGES as u64);

    let redelivered: Vec<usize> = after
        .iter()
        .copied()
        .filter(|n| seen_before.contains(n))
        .collect();
    assert!(
        redelivered.iter().all(|n| !confirmed_before.contains(n)),
        "a confirmed ack was lost"
    );
    let all: BTreeSet<usize> = seen_before
        .union(&after.iter().copied().collect())
        .copied()
        .collect();
    assert_eq!(
        all.len(),
        CRASH_MESSAGES,
        "every message delivered at least once"
    );
}
