//! Consumer limits and positions: max_ack_pending, every deliver policy, multiple filters,
//! inactive_threshold, and the counts consumer info reports.

use crate::common::within;
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::AckKind;
use futures::TryStreamExt;
use std::time::Duration;

#[tokio::test]
async fn max_ack_pending_holds_delivery_until_acks_come() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("LIM", &["lim.>"])).await;
    publish_numbered(&context, "lim.a", 10).await;
    let consumer = pull_consumer(
        &stream,
        "capped",
        pull::Config {
            max_ack_pending: 3,
            ..Default::default()
        },
    )
    .await;
    // A no-wait fetch stays open while the consumer is held (as nats-server's does), so ask
    // with an expiry.
    let wait = Duration::from_millis(300);
    let first = batch_within(&consumer, 10, wait).await;
    assert_eq!(first.iter().map(text).collect::<Vec<_>>(), ["0", "1", "2"]);
    let info = consumer_info(&stream, "capped").await;
    assert_eq!((info.num_ack_pending, info.num_pending), (3, 7));
    within("ack", first[0].double_ack()).await.unwrap();
    let more = batch_within(&consumer, 10, wait).await;
    assert_eq!(more.iter().map(text).collect::<Vec<_>>(), ["3"]);
}

/// The payloads a fresh ephemeral pull consumer with `config` fetches now.
async fn payloads(
    stream: &async_nats::jetstream::stream::Stream,
    config: pull::Config,
) -> Vec<String> {
    let consumer = within("create", stream.create_consumer(config))
        .await
        .unwrap();
    fetch(&consumer, 100).await.iter().map(text).collect()
}

#[tokio::test]
async fn every_deliver_policy_starts_where_it_says() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("POL", &["pol.>"])).await;
    for (subject, payload) in [
        ("pol.a", "a1"),
        ("pol.b", "b1"),
        ("pol.a", "a2"),
        ("pol.b", "b2"),
    ] {
        publish(&context, subject, payload).await;
    }
    let third = within("get 3", stream.get_raw_message(3)).await.unwrap();

    let cases = [
        (DeliverPolicy::All, vec!["a1", "b1", "a2", "b2"]),
        (DeliverPolicy::Last, vec!["b2"]),
        (
            DeliverPolicy::ByStartSequence { start_sequence: 2 },
            vec!["b1", "a2", "b2"],
        ),
        (
            DeliverPolicy::ByStartTime {
                start_time: third.time,
            },
            vec!["a2", "b2"],
        ),
        (DeliverPolicy::LastPerSubject, vec!["a2", "b2"]),
    ];
    for (deliver_policy, expected) in cases {
        let config = pull::Config {
            deliver_policy,
            // Required with last-per-subject; it matches everything here.
            filter_subject: "pol.>".into(),
            ..Default::default()
        };
        assert_eq!(
            payloads(&stream, config).await,
            expected,
            "{deliver_policy:?}"
        );
    }
    let new = within(
        "create",
        stream.create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::New,
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    publish(&context, "pol.c", "c1").await;
    assert_eq!(
        fetch(&new, 100).await.iter().map(text).collect::<Vec<_>>(),
        ["c1"]
    );
}

/// `filter_subjects` came with nats-server 2.10; 2.9 ignores the field.
#[tokio::test]
async fn filter_subjects_select_several_subjects_in_stream_order() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("FIL", &["fil.>"])).await;
    for (subject, payload) in [
        ("fil.a", "a1"),
        ("fil.b", "b1"),
        ("fil.c.x", "c1"),
        ("fil.a", "a2"),
    ] {
        publish(&context, subject, payload).await;
    }
    let config = pull::Config {
        durable_name: Some("multi".into()),
        filter_subjects: vec!["fil.a".into(), "fil.c.>".into()],
        ..Default::default()
    };
    let consumer = within("create", stream.create_consumer(config))
        .await
        .unwrap();
    let info = consumer_info(&stream, "multi").await;
    assert_eq!(info.num_pending, 3);
    let got: Vec<String> = fetch(&consumer, 10).await.iter().map(text).collect();
    assert_eq!(got, ["a1", "c1", "a2"]);
}

#[tokio::test]
async fn an_idle_ephemeral_consumer_removes_itself_after_inactive_threshold() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("IDLE", &["idle.>"])).await;
    within(
        "create",
        stream.create_consumer(pull::Config {
            inactive_threshold: Duration::from_millis(300),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let names: Vec<String> = within("names", stream.consumer_names().try_collect())
        .await
        .unwrap();
    assert_eq!(names.len(), 1);
    within("consumer removed", async {
        loop {
            let names: Vec<String> = stream.consumer_names().try_collect().await.unwrap();
            if names.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn consumer_info_counts_pending_acks_redeliveries_and_waiting_requests() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("CNT", &["cnt.>"])).await;
    publish_numbered(&context, "cnt.a", 10).await;
    let consumer = pull_consumer(&stream, "counted", pull::Config::default()).await;

    let first = fetch(&consumer, 4).await;
    within("ack", first[0].double_ack()).await.unwrap();
    within("nak", first[1].double_ack_with(AckKind::Nak(None)))
        .await
        .unwrap();
    let again = fetch(&consumer, 1).await;
    assert_eq!(
        (text(&again[0]), again[0].info().unwrap().delivered),
        ("1".into(), 2)
    );
    let info = consumer_info(&stream, "counted").await;
    assert_eq!(
        (
            info.num_pending,
            info.num_ack_pending,
            info.num_redelivered,
            info.num_waiting
        ),
        (6, 3, 1, 0)
    );

    // A request that waits shows in num_waiting while its inbox is subscribed.
    let rest = fetch(&consumer, 100).await;
    assert_eq!(rest.len(), 6);
    let inbox = client.new_inbox();
    let _replies = client.subscribe(inbox.clone()).await.unwrap();
    client
        .publish_with_reply(
            "$JS.API.CONSUMER.MSG.NEXT.CNT.counted",
            inbox,
            r#"{"batch":5,"expires":5000000000}"#.into(),
        )
        .await
        .unwrap();
    let info = info_until(&stream, "counted", "request waiting", |info| {
        info.num_waiting == 1
    })
    .await;
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 9));
}
