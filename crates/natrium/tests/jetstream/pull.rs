//! Pull consumers: fetch and batch, expiry (408), no_wait (404), max_bytes, heartbeats, and
//! the streaming `messages()` pull.

use crate::common::within;
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::pull;
use futures::StreamExt;
use std::time::{Duration, Instant};

#[tokio::test]
async fn fetch_takes_what_is_there_and_a_batch_waits_for_more() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    publish_numbered(&context, "pull.a", 10).await;
    let consumer = pull_consumer(&stream, "worker", pull::Config::default()).await;

    let first = fetch(&consumer, 4).await;
    assert_eq!(
        first.iter().map(text).collect::<Vec<_>>(),
        ["0", "1", "2", "3"]
    );
    double_ack_all(&first).await;
    let rest = fetch(&consumer, 100).await;
    let expected: Vec<String> = (4..10).map(|n| n.to_string()).collect();
    assert_eq!(rest.iter().map(text).collect::<Vec<_>>(), expected);
    double_ack_all(&rest).await;
    assert!(fetch(&consumer, 5).await.is_empty(), "nothing left");

    // A batch waits for messages published after it was asked for.
    let mut batch = within(
        "batch",
        consumer
            .batch()
            .max_messages(3)
            .expires(Duration::from_secs(5))
            .messages(),
    )
    .await
    .unwrap();
    for n in 10..13 {
        publish(&context, "pull.b", &n.to_string()).await;
    }
    let mut late = Vec::new();
    while let Some(message) = within("batch message", batch.next()).await {
        late.push(text(&message.unwrap()));
    }
    assert_eq!(late, ["10", "11", "12"]);

    let info = consumer_info(&stream, "worker").await;
    assert_eq!(
        (
            info.delivered.stream_sequence,
            info.ack_floor.stream_sequence
        ),
        (13, 10)
    );
    assert_eq!((info.num_ack_pending, info.num_pending), (3, 0));
}

#[tokio::test]
async fn an_expired_request_ends_with_408_and_what_it_still_wanted() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    publish_numbered(&context, "pull.a", 2).await;
    pull_consumer(&stream, "worker", pull::Config::default()).await;

    let started = Instant::now();
    let replies = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":5,"expires":300000000}"#,
        10,
    )
    .await;
    assert_eq!(replies.len(), 3, "two messages, then the timeout");
    assert_eq!(status(&replies[0]), None);
    assert_eq!(status(&replies[1]), None);
    assert_eq!(status(&replies[2]), Some((408, "Request Timeout".into())));
    assert_eq!(header(&replies[2], "Nats-Pending-Messages"), "3");
    assert_eq!(header(&replies[2], "Nats-Pending-Bytes"), "0");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "expired after {elapsed:?}"
    );

    // The client's batch ends on the 408, well before its own fallback timer.
    let consumer = stream.get_consumer::<pull::Config>("worker").await.unwrap();
    let started = Instant::now();
    let batch = consumer
        .batch()
        .max_messages(2)
        .expires(Duration::from_millis(300))
        .messages()
        .await
        .unwrap();
    let got: Vec<_> = within("expiring batch", batch.collect::<Vec<_>>()).await;
    assert!(got.is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn no_wait_answers_404_when_empty_and_408_after_a_partial_batch() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    pull_consumer(&stream, "worker", pull::Config::default()).await;

    let empty = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":5,"no_wait":true}"#,
        5,
    )
    .await;
    assert_eq!(empty.len(), 1);
    assert_eq!(status(&empty[0]), Some((404, "No Messages".into())));

    publish_numbered(&context, "pull.a", 2).await;
    let partial = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":5,"no_wait":true}"#,
        5,
    )
    .await;
    let statuses: Vec<_> = partial.iter().map(status).collect();
    assert_eq!(
        statuses,
        [None, None, Some((408, "Request Timeout".to_string()))]
    );
    assert_eq!(header(&partial[2], "Nats-Pending-Messages"), "3");
}

#[tokio::test]
async fn max_bytes_stops_a_request_at_the_message_that_does_not_fit() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    let payload = "x".repeat(100);
    for _ in 0..5 {
        publish(&context, "pull.a", &payload).await;
    }
    pull_consumer(&stream, "worker", pull::Config::default()).await;

    // Each delivery counts subject, ack reply and payload: about 160 bytes here.
    let replies = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":10,"max_bytes":400}"#,
        10,
    )
    .await;
    let statuses: Vec<_> = replies.iter().map(status).collect();
    assert_eq!(
        statuses,
        [
            None,
            None,
            Some((409, "Message Size Exceeds MaxBytes".to_string()))
        ]
    );
    assert_eq!(header(&replies[2], "Nats-Pending-Messages"), "8");

    // With room for all of them, the other three come as plain messages.
    let rest = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":10,"max_bytes":1000}"#,
        3,
    )
    .await;
    assert!(rest.iter().all(|m| status(m).is_none()));
    assert_eq!(rest.len(), 3);
}

#[tokio::test]
async fn a_waiting_request_gets_idle_heartbeats_until_it_expires() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    publish(&context, "pull.a", "only").await;
    let consumer = pull_consumer(&stream, "worker", pull::Config::default()).await;
    double_ack_all(&fetch(&consumer, 1).await).await;

    let replies = pull_raw(
        &client,
        "PULL",
        "worker",
        r#"{"batch":1,"expires":1000000000,"idle_heartbeat":200000000}"#,
        20,
    )
    .await;
    let (last, heartbeats) = replies.split_last().unwrap();
    assert_eq!(status(last), Some((408, "Request Timeout".into())));
    assert!(
        (3..=5).contains(&heartbeats.len()),
        "{} heartbeats in 1 s at 200 ms",
        heartbeats.len()
    );
    for heartbeat in heartbeats {
        assert_eq!(status(heartbeat), Some((100, "Idle Heartbeat".into())));
    }
}

#[tokio::test]
async fn messages_streams_across_many_pull_requests() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PULL", &["pull.>"])).await;
    publish_numbered(&context, "pull.a", 250).await;
    let consumer = pull_consumer(&stream, "worker", pull::Config::default()).await;

    let mut messages = within(
        "messages",
        consumer
            .stream()
            .max_messages_per_batch(20)
            .heartbeat(Duration::from_millis(500))
            .expires(Duration::from_secs(2))
            .messages(),
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 300 {
        if seen.len() == 250 {
            publish_numbered(&context, "pull.b", 50).await;
        }
        let message = within("streamed message", messages.next())
            .await
            .expect("stream open")
            .expect("message, not an error");
        seen.push(text(&message).parse::<usize>().unwrap());
        message.ack().await.unwrap();
    }
    let expected: Vec<usize> = (0..250).chain(0..50).collect();
    assert_eq!(seen, expected);
    info_until(&stream, "worker", "every ack recorded", |info| {
        info.ack_floor.stream_sequence == 300 && info.num_ack_pending == 0
    })
    .await;
}
