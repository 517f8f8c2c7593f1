//! Ordered consumers (push and pull) and KV watchers, which rest on them: in-order delivery,
//! flow control and heartbeats, and recreation after the server-side consumer is lost.

use crate::common::within;
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{pull, push, AckPolicy};
use async_nats::jetstream::kv::{self, Operation};
use futures::{StreamExt, TryStreamExt};

#[tokio::test]
async fn a_push_ordered_consumer_reads_the_stream_in_order() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ORD", &["ord.>"])).await;
    publish_numbered(&context, "ord.a", 300).await;
    let consumer = within(
        "create ordered",
        stream.create_consumer(push::OrderedConfig {
            deliver_subject: client.new_inbox(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let config = &consumer.cached_info().config;
    assert_eq!(config.ack_policy, AckPolicy::None);
    assert!(config.flow_control && config.memory_storage);
    assert_eq!(config.idle_heartbeat.as_secs(), 5);
    let mut messages = consumer.messages().await.unwrap();
    for n in 0..300 {
        let message = within("ordered message", messages.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(text(&message), n.to_string());
        assert_eq!(message.info().unwrap().consumer_sequence, n as u64 + 1);
    }
}

#[tokio::test]
async fn a_pull_ordered_consumer_recreates_itself_after_its_consumer_is_deleted() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ORD", &["ord.>"])).await;
    publish_numbered(&context, "ord.a", 50).await;
    let consumer = within(
        "create ordered",
        stream.create_consumer(pull::OrderedConfig::default()),
    )
    .await
    .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    for n in 0..25 {
        let message = within("ordered message", messages.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(text(&message), n.to_string());
    }
    let names: Vec<String> = within("names", stream.consumer_names().try_collect())
        .await
        .unwrap();
    assert_eq!(names.len(), 1);
    within("delete", stream.delete_consumer(&names[0]))
        .await
        .unwrap();
    publish_numbered(&context, "ord.b", 10).await;
    // The server closes the waiting pull with 409 Consumer Deleted; the client makes a new
    // consumer starting after the last stream sequence it saw.
    let expected: Vec<String> = (25..50).chain(0..10).map(|n| n.to_string()).collect();
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        let message = within("message after recreation", messages.next())
            .await
            .unwrap()
            .unwrap();
        seen.push(text(&message));
    }
    assert_eq!(seen, expected);
    let after: Vec<String> = within("names", stream.consumer_names().try_collect())
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(after, names, "a new consumer replaced the deleted one");
}

/// A bucket `CONFIG` keeping `history` values per key.
async fn bucket(context: &async_nats::jetstream::Context, history: i64) -> kv::Store {
    within(
        "create bucket",
        context.create_key_value(kv::Config {
            bucket: "CONFIG".into(),
            history,
            ..Default::default()
        }),
    )
    .await
    .unwrap()
}

/// Reads the next entry of a watch as (key, value, operation).
async fn next_entry(watch: &mut kv::Watch) -> (String, String, Operation) {
    let entry = within("watch entry", watch.next())
        .await
        .expect("watch open")
        .expect("entry");
    (
        entry.key,
        String::from_utf8_lossy(&entry.value).into_owned(),
        entry.operation,
    )
}

fn put(key: &str, value: &str) -> (String, String, Operation) {
    (key.to_string(), value.to_string(), Operation::Put)
}

/// Not comparable with nats-server 2.9.10: async-nats 0.51 cannot read 2.9's answer to the
/// bucket's stream creation.
#[tokio::test]
async fn kv_watchers_see_new_values_all_keys_and_history() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let kv = bucket(&context, 5).await;
    for (key, value) in [("a", "1"), ("a", "2"), ("b", "1")] {
        within("put", kv.put(key, value.to_string().into()))
            .await
            .unwrap();
    }

    let mut history = within("watch with history", kv.watch_with_history("a"))
        .await
        .unwrap();
    assert_eq!(
        next_entry(&mut history).await,
        put("a", "2"),
        "last per subject"
    );
    let mut watch = within("watch", kv.watch("a")).await.unwrap();
    let mut all = within("watch all", kv.watch_all()).await.unwrap();

    within("put", kv.put("a", "3".into())).await.unwrap();
    within("put", kv.put("b", "2".into())).await.unwrap();
    within("delete", kv.delete("a")).await.unwrap();

    assert_eq!(
        next_entry(&mut watch).await,
        put("a", "3"),
        "new values only"
    );
    let deleted = next_entry(&mut watch).await;
    assert_eq!((deleted.0.as_str(), deleted.2), ("a", Operation::Delete));
    assert_eq!(next_entry(&mut history).await, put("a", "3"));
    assert_eq!(next_entry(&mut all).await, put("a", "3"));
    assert_eq!(next_entry(&mut all).await, put("b", "2"));
    assert_eq!(next_entry(&mut all).await.2, Operation::Delete);

    // The history a watch replays is the bucket's, in revision order.
    let revisions: Vec<u64> = within(
        "key history",
        kv.history("a")
            .await
            .unwrap()
            .map(|e| e.unwrap().revision)
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(revisions, [1, 2, 4, 6]);
}
