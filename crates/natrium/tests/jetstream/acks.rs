//! Acks of every kind and what follows from them: double acks, naks with and without delay,
//! progress, `+NXT`, terminate with its advisory, redelivery after `ack_wait` and along
//! `backoff`, and `max_deliver` with its advisory.

use crate::common::{settle, within};
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{pull, push};
use async_nats::jetstream::AckKind;
use futures::StreamExt;
use std::time::{Duration, Instant};

/// The JSON body of the next message on `subscriber`.
async fn next_json(subscriber: &mut async_nats::Subscriber) -> serde_json::Value {
    let message = within("advisory", subscriber.next()).await.unwrap();
    serde_json::from_slice(&message.payload).expect("advisory is JSON")
}

#[tokio::test]
async fn every_ack_kind_has_its_effect_and_a_double_ack_is_confirmed() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ACKS", &["acks.>"])).await;
    publish_numbered(&context, "acks.a", 6).await;
    let consumer = pull_consumer(
        &stream,
        "worker",
        pull::Config {
            ack_wait: Duration::from_millis(600),
            ..Default::default()
        },
    )
    .await;
    let mut terminated = client
        .subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ACKS.worker")
        .await
        .unwrap();
    settle(&client).await;

    let messages = fetch(&consumer, 5).await;
    assert_eq!(messages.len(), 5);
    within("ack", messages[0].ack_with(AckKind::Ack))
        .await
        .unwrap();
    within("double ack", messages[1].double_ack())
        .await
        .unwrap();
    within("nak", messages[2].double_ack_with(AckKind::Nak(None)))
        .await
        .unwrap();
    within(
        "delayed nak",
        messages[3].ack_with(AckKind::Nak(Some(Duration::from_millis(300)))),
    )
    .await
    .unwrap();
    within("term", messages[4].double_ack_with(AckKind::Term))
        .await
        .unwrap();

    let advisory = next_json(&mut terminated).await;
    assert_eq!(advisory["type"], "io.nats.jetstream.advisory.v1.terminated");
    assert_eq!(
        (
            advisory["stream_seq"].as_u64(),
            advisory["deliveries"].as_u64()
        ),
        (Some(5), Some(1))
    );

    // The plain nak comes back at once, ahead of the next new message; the delayed one not yet.
    let again = fetch(&consumer, 2).await;
    let seen: Vec<(String, i64)> = again
        .iter()
        .map(|m| (text(m), m.info().unwrap().delivered))
        .collect();
    assert_eq!(seen, [("2".to_string(), 2), ("5".to_string(), 1)]);
    // +WPI keeps the next one from timing out while it is worked on.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(900) {
        within("progress", again[1].double_ack_with(AckKind::Progress))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // By now the delayed nak is due; message 6 ("5") is still in progress, not redelivered.
    let due = fetch(&consumer, 5).await;
    let due: Vec<String> = due.iter().map(text).collect();
    assert!(
        due.contains(&"3".to_string()),
        "delayed nak redelivered: {due:?}"
    );
    assert!(!due.contains(&"5".to_string()), "progress kept it: {due:?}");
    assert!(
        !due.contains(&"4".to_string()),
        "terminated stays so: {due:?}"
    );
    double_ack_all(&again).await;

    // +NXT acknowledges and asks for the next message on its reply subject.
    publish(&context, "acks.b", "next").await;
    let last = fetch(&consumer, 5).await;
    let inbox = client.new_inbox();
    let mut next = client.subscribe(inbox.clone()).await.unwrap();
    let ack_subject = last[0].reply.clone().unwrap();
    for message in &last[1..] {
        message.double_ack().await.unwrap();
    }
    publish(&context, "acks.b", "after").await;
    client
        .publish_with_reply(ack_subject, inbox, "+NXT".into())
        .await
        .unwrap();
    let delivered = within("+NXT delivery", next.next()).await.unwrap();
    assert_eq!(&delivered.payload[..], b"after");
}

#[tokio::test]
async fn unacked_messages_come_back_after_ack_wait_until_max_deliver() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ACKS", &["acks.>"])).await;
    let mut exhausted = client
        .subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ACKS.>")
        .await
        .unwrap();
    settle(&client).await;
    let consumer = within(
        "push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("retry".into()),
            deliver_subject: client.new_inbox(),
            ack_wait: Duration::from_millis(250),
            max_deliver: 3,
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    publish(&context, "acks.a", "flaky").await;

    let mut arrivals = Vec::new();
    for attempt in 1..=3 {
        let message = within("delivery", messages.next()).await.unwrap().unwrap();
        assert_eq!(message.info().unwrap().delivered, attempt);
        arrivals.push(Instant::now());
    }
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(200),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    let advisory = next_json(&mut exhausted).await;
    assert_eq!(
        advisory["type"],
        "io.nats.jetstream.advisory.v1.max_deliver"
    );
    assert_eq!(advisory["consumer"], "retry");
    assert_eq!(
        (
            advisory["stream_seq"].as_u64(),
            advisory["deliveries"].as_u64()
        ),
        (Some(1), Some(3))
    );
    // No fourth delivery: the next thing is the following message.
    publish(&context, "acks.a", "fine").await;
    let next = within("next message", messages.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text(&next), "fine");
    // As in nats-server, the exhausted message stays pending, counted as redelivered.
    let info = consumer_info(&stream, "retry").await;
    assert_eq!((info.num_ack_pending, info.num_redelivered), (1, 1));
}

#[tokio::test]
async fn redelivery_follows_the_backoff_steps() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ACKS", &["acks.>"])).await;
    let consumer = within(
        "push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("backoff".into()),
            deliver_subject: client.new_inbox(),
            backoff: vec![Duration::from_millis(100), Duration::from_millis(500)],
            max_deliver: 4,
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        consumer.cached_info().config.ack_wait,
        Duration::from_millis(100),
        "ack_wait is the first step"
    );
    let mut messages = consumer.messages().await.unwrap();
    publish(&context, "acks.a", "slow").await;
    let mut arrivals = Vec::new();
    for _ in 0..4 {
        let message = within("delivery", messages.next()).await.unwrap().unwrap();
        arrivals.push(Instant::now());
        if arrivals.len() == 4 {
            message.double_ack().await.unwrap();
        }
    }
    let gaps: Vec<Duration> = arrivals.windows(2).map(|p| p[1] - p[0]).collect();
    assert!(
        gaps[0] >= Duration::from_millis(80) && gaps[0] < Duration::from_millis(450),
        "{gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(450),
        "second step: {gaps:?}"
    );
    assert!(
        gaps[2] >= Duration::from_millis(450),
        "the last step repeats: {gaps:?}"
    );
    let info = consumer_info(&stream, "backoff").await;
    assert_eq!(
        (info.num_ack_pending, info.ack_floor.stream_sequence),
        (0, 1)
    );
}
