//! Work-queue and interest retention: messages leave the stream once the consumers that need
//! them have acknowledged them, and a work queue refuses overlapping consumers.

use crate::common::within;
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::stream::{self, RetentionPolicy};

/// Polls until the stream holds `count` messages.
async fn messages_until(stream: &mut stream::Stream, count: u64) {
    within("stream message count", async {
        loop {
            if stream.info().await.unwrap().state.messages == count {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
}

/// The JSON answer to a consumer create request sent by hand.
async fn create_raw(client: &async_nats::Client, subject: &str, body: &str) -> serde_json::Value {
    let reply = within(
        "create request",
        client.request(subject.to_string(), body.to_string().into()),
    )
    .await
    .unwrap();
    serde_json::from_slice(&reply.payload).unwrap()
}

#[tokio::test]
async fn a_work_queue_drops_acked_messages_and_refuses_overlapping_consumers() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let mut stream = create_stream(
        &context,
        stream::Config {
            retention: RetentionPolicy::WorkQueue,
            ..stream_config("WQ", &["wq.>"])
        },
    )
    .await;
    publish_numbered(&context, "wq.a", 5).await;
    let consumer = pull_consumer(
        &stream,
        "jobs",
        pull::Config {
            filter_subject: "wq.a".into(),
            ..Default::default()
        },
    )
    .await;
    let jobs = fetch(&consumer, 3).await;
    double_ack_all(&jobs).await;
    messages_until(&mut stream, 2).await;

    let overlapping = create_raw(
        &client,
        "$JS.API.CONSUMER.DURABLE.CREATE.WQ.all",
        r#"{"stream_name":"WQ","config":{"durable_name":"all","ack_policy":"explicit","filter_subject":"wq.>"}}"#,
    )
    .await;
    assert_eq!(overlapping["error"]["code"], 400);
    assert_eq!(overlapping["error"]["err_code"], 10100);
    assert_eq!(
        overlapping["error"]["description"],
        "filtered consumer not unique on workqueue stream"
    );
    let disjoint = create_raw(
        &client,
        "$JS.API.CONSUMER.DURABLE.CREATE.WQ.others",
        r#"{"stream_name":"WQ","config":{"durable_name":"others","ack_policy":"explicit","filter_subject":"wq.b"}}"#,
    )
    .await;
    assert!(disjoint.get("error").is_none(), "{disjoint}");
}

#[tokio::test]
async fn an_interest_stream_keeps_a_message_until_every_consumer_acked_it() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let mut stream = create_stream(
        &context,
        stream::Config {
            retention: RetentionPolicy::Interest,
            ..stream_config("INT", &["int.>"])
        },
    )
    .await;
    publish(&context, "int.a", "nobody").await;
    messages_until(&mut stream, 0).await;

    let first = pull_consumer(&stream, "first", pull::Config::default()).await;
    let second = pull_consumer(&stream, "second", pull::Config::default()).await;
    publish_numbered(&context, "int.a", 3).await;
    double_ack_all(&fetch(&first, 3).await).await;
    messages_until(&mut stream, 3).await;
    let from_second = fetch(&second, 3).await;
    double_ack_all(&from_second[..2]).await;
    messages_until(&mut stream, 1).await;
    let info = stream.info().await.unwrap();
    assert_eq!(info.state.first_sequence, 4, "the one left is the last");
}
