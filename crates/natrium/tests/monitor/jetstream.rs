//! `/jsz`, `/varz` and `/accountz` with JetStream on: streams, messages and API counts.

use super::Monitored;
use crate::common::within;
use async_nats::jetstream::stream;
use std::future::IntoFuture;

/// A monitored server with JetStream in a scratch store, and a JetStream context on it.
async fn start_jetstream() -> (tempfile::TempDir, Monitored, async_nats::jetstream::Context) {
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().to_str().unwrap();
    let monitored = Monitored::start_with(&["-js", "-sd", dir]).await;
    let client = monitored.server.connect().await;
    (store, monitored, async_nats::jetstream::new(client))
}

#[tokio::test]
async fn jsz_and_varz_report_streams_and_messages() {
    let (store, monitored, context) = start_jetstream().await;
    let dir = store.path().to_str().unwrap();
    let config = stream::Config {
        name: "EVENTS".to_string(),
        subjects: vec!["events.*".to_string()],
        max_bytes: 1 << 20,
        ..Default::default()
    };
    within("create", context.create_stream(config))
        .await
        .unwrap();
    for _ in 0..3 {
        let ack = within("publish", context.publish("events.a", "12345".into()))
            .await
            .unwrap();
        within("ack", ack.into_future()).await.unwrap();
    }

    let jsz = monitored
        .json_when("/jsz", |jsz| jsz["messages"] == 3)
        .await;
    assert!(jsz.get("disabled").is_none(), "{jsz:#}");
    assert_eq!(jsz["streams"], 1);
    assert_eq!(jsz["accounts"], 1);
    assert_eq!(jsz["reserved_storage"], 1 << 20);
    assert!(jsz["bytes"].as_u64().unwrap() > 15);
    assert_eq!(jsz["storage"], jsz["bytes"], "a file stream");
    assert!(jsz["api"]["total"].as_u64().unwrap() >= 1);
    let store_dir = jsz["config"]["store_dir"].as_str().unwrap();
    assert!(store_dir.starts_with(dir) && store_dir.ends_with("jetstream"));
    assert!(jsz["config"]["max_storage"].as_u64().unwrap() > 0);

    let varz = monitored.json("/varz").await;
    let section = &varz["jetstream"];
    assert_eq!(section["config"]["store_dir"], jsz["config"]["store_dir"]);
    assert_eq!(section["stats"]["accounts"], 1);
    assert_eq!(section["stats"]["storage"], jsz["storage"]);

    let accountz = monitored.json("/accountz?acc=$G").await;
    assert_eq!(accountz["account_detail"]["jetstream_enabled"], true);
}

#[tokio::test]
async fn jsz_details_accounts_streams_and_consumers_as_asked() {
    let (_store, monitored, context) = start_jetstream().await;
    let config = stream::Config {
        name: "ORDERS".to_string(),
        subjects: vec!["orders.>".to_string()],
        ..Default::default()
    };
    let created = within("create", context.create_stream(config))
        .await
        .unwrap();
    let durable = async_nats::jetstream::consumer::pull::Config {
        durable_name: Some("worker".to_string()),
        ..Default::default()
    };
    within("consumer", created.create_consumer(durable))
        .await
        .unwrap();
    for _ in 0..2 {
        let ack = within("publish", context.publish("orders.new", "x".into()))
            .await
            .unwrap();
        within("ack", ack.into_future()).await.unwrap();
    }

    // Totals only, unless details are asked for.
    let plain = monitored.json("/jsz").await;
    assert!(plain.get("account_details").is_none(), "{plain:#}");

    let accounts = monitored.json("/jsz?accounts=1").await;
    let account = &accounts["account_details"][0];
    assert_eq!(account["name"], "$G");
    assert!(account["api"]["total"].as_u64().unwrap() >= 2);
    assert!(account.get("stream_detail").is_none(), "{account:#}");

    let streams = monitored.json("/jsz?streams=1").await;
    let stream = &streams["account_details"][0]["stream_detail"][0];
    assert_eq!(stream["name"], "ORDERS");
    assert_eq!(stream["state"]["messages"], 2);
    assert!(stream.get("config").is_none() && stream.get("consumer_detail").is_none());

    let full = monitored.json("/jsz?consumers=1&config=1").await;
    let stream = &full["account_details"][0]["stream_detail"][0];
    assert_eq!(stream["config"]["subjects"][0], "orders.>");
    let consumer = &stream["consumer_detail"][0];
    assert_eq!(consumer["name"], "worker");
    assert_eq!(consumer["num_pending"], 2);
    assert_eq!(consumer["config"]["durable_name"], "worker");

    let without_config = monitored.json("/jsz?consumers=1").await;
    let consumer = &without_config["account_details"][0]["stream_detail"][0]["consumer_detail"][0];
    assert_eq!(consumer["name"], "worker");
    assert!(consumer.get("config").is_none(), "{consumer:#}");

    let named = monitored.json("/jsz?acc=$G&streams=1").await;
    assert_eq!(named["account_details"].as_array().unwrap().len(), 1);
    let unknown = monitored.json("/jsz?acc=NOPE").await;
    assert!(unknown.get("account_details").is_none(), "{unknown:#}");
}
