//! `/jsz`, `/varz` and `/accountz` with JetStream on: streams, messages and API counts.

use super::Monitored;
use crate::common::within;
use async_nats::jetstream::stream;
use std::future::IntoFuture;

#[tokio::test]
async fn jsz_and_varz_report_streams_and_messages() {
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().to_str().unwrap();
    let monitored = Monitored::start_with(&["-js", "-sd", dir]).await;
    let client = monitored.server.connect().await;
    let context = async_nats::jetstream::new(client);
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
