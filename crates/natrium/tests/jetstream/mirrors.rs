//! Mirrors, sources, republish and subject transforms within one server and one account,
//! through async-nats, checked against nats-server 2.9.10 where it has the feature.

use crate::common::within;
use crate::requests::{api, expect_ok, publish_ok, state};
use crate::JsServer;
use async_nats::jetstream::Context;
use async_nats::Client;
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// Creates a stream from its JSON configuration.
async fn create(client: &Client, config: &str) {
    let name: Value = serde_json::from_str(config).unwrap();
    let name = name["name"].as_str().unwrap();
    let answer = api(client, &format!("STREAM.CREATE.{name}"), config).await;
    expect_ok(&answer, "stream_create_response");
}

/// Waits until `stream`'s (messages, first, last) is `expected`; copies are asynchronous.
async fn wait_for_state(client: &Client, stream: &str, expected: (u64, u64, u64)) {
    let what = format!("{stream} reaching {expected:?}");
    within(&what, async {
        while state(client, stream).await != expected {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// The subject and one header of the message at `seq`.
async fn subject_and_header(
    context: &Context,
    stream: &str,
    seq: u64,
    header: &str,
) -> (String, String) {
    let stream = context.get_stream(stream).await.expect("stream");
    let message = stream.get_raw_message(seq).await.expect("message");
    let value = message
        .headers
        .get(header)
        .map(|value| value.as_str().to_string())
        .unwrap_or_default();
    (message.subject.to_string(), value)
}

#[tokio::test]
async fn a_mirror_copies_its_origin_with_the_same_sequences_across_a_restart() {
    let mut js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    create(&client, r#"{"name":"ORIGIN","subjects":["orders.*"]}"#).await;
    for (seq, subject) in [(1, "orders.a"), (2, "orders.b"), (3, "orders.c")] {
        publish_ok(&client, subject, &[("H", subject)], "ORIGIN", seq).await;
    }
    let deleted = api(&client, "STREAM.MSG.DELETE.ORIGIN", r#"{"seq":2}"#).await;
    expect_ok(&deleted, "stream_msg_delete_response");
    create(&client, r#"{"name":"MIRROR","mirror":{"name":"ORIGIN"}}"#).await;
    wait_for_state(&client, "MIRROR", (2, 1, 3)).await;
    let (_, context) = js.context().await;
    assert_eq!(
        subject_and_header(&context, "MIRROR", 3, "H").await,
        ("orders.c".to_string(), "orders.c".to_string())
    );
    let info = api(&client, "STREAM.INFO.MIRROR", "").await;
    assert_eq!(info["mirror"]["name"], "ORIGIN", "{info}");
    assert_eq!(info["mirror"]["lag"], 0, "{info}");
    assert!(info["mirror"]["active"].as_i64().unwrap() >= 0, "{info}");
    drop(client);

    js.server.restart().await;
    let (client, _context) = js.context().await;
    publish_ok(&client, "orders.d", &[], "ORIGIN", 4).await;
    wait_for_state(&client, "MIRROR", (3, 1, 4)).await;
}

#[tokio::test]
async fn a_filtered_mirror_starts_at_its_start_sequence() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    create(&client, r#"{"name":"ORIGIN","subjects":["orders.*"]}"#).await;
    for (seq, subject) in [
        (1, "orders.a"),
        (2, "orders.b"),
        (3, "orders.a"),
        (4, "orders.b"),
        (5, "orders.a"),
    ] {
        publish_ok(&client, subject, &[], "ORIGIN", seq).await;
    }
    create(
        &client,
        r#"{"name":"MIRROR","mirror":{"name":"ORIGIN","filter_subject":"orders.a","opt_start_seq":2}}"#,
    )
    .await;
    wait_for_state(&client, "MIRROR", (2, 3, 5)).await;
}

#[tokio::test]
async fn sources_merge_streams_with_the_stream_source_header_across_a_restart() {
    let mut js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    create(&client, r#"{"name":"A","subjects":["a.*"]}"#).await;
    create(&client, r#"{"name":"B","subjects":["b.*"]}"#).await;
    publish_ok(&client, "a.1", &[], "A", 1).await;
    publish_ok(&client, "b.1", &[], "B", 1).await;
    create(
        &client,
        r#"{"name":"ALL","subjects":["all.*"],"sources":[{"name":"A"},{"name":"B"}]}"#,
    )
    .await;
    wait_for_state(&client, "ALL", (2, 1, 2)).await;
    let mut headers = Vec::new();
    for seq in 1..=2 {
        headers.push(subject_and_header(&context, "ALL", seq, "Nats-Stream-Source").await);
    }
    headers.sort();
    assert_eq!(
        headers,
        [
            ("a.1".to_string(), "A 1".to_string()),
            ("b.1".to_string(), "B 1".to_string())
        ]
    );
    let info = api(&client, "STREAM.INFO.ALL", "").await;
    let names: Vec<&str> = info["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("{info}"))
        .iter()
        .map(|source| source["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{info}");
    drop(client);

    js.server.restart().await;
    let (client, context) = js.context().await;
    publish_ok(&client, "a.2", &[], "A", 2).await;
    wait_for_state(&client, "ALL", (3, 1, 3)).await;
    assert_eq!(
        subject_and_header(&context, "ALL", 3, "Nats-Stream-Source").await,
        ("a.2".to_string(), "A 2".to_string())
    );
}

#[tokio::test]
async fn republish_sends_each_stored_message_with_its_position() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    create(
        &client,
        r#"{"name":"R","subjects":["r.*"],"republish":{"src":"r.*","dest":"rp.$1"}}"#,
    )
    .await;
    let mut copies = client.subscribe("rp.>").await.unwrap();
    crate::common::settle(&client).await;
    publish_ok(&client, "r.a", &[], "R", 1).await;
    publish_ok(&client, "r.a", &[], "R", 2).await;
    for (seq, last) in [("1", "0"), ("2", "1")] {
        let copy = within("republished copy", copies.next()).await.unwrap();
        assert_eq!(copy.subject.as_str(), "rp.a");
        let headers = copy.headers.expect("headers");
        let get = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        assert_eq!(get("Nats-Stream").as_deref(), Some("R"));
        assert_eq!(get("Nats-Subject").as_deref(), Some("r.a"));
        assert_eq!(get("Nats-Sequence").as_deref(), Some(seq));
        assert_eq!(get("Nats-Last-Sequence").as_deref(), Some(last));
    }
}

#[tokio::test]
async fn a_subject_transform_changes_the_stored_subject() {
    // nats-server 2.10 feature: 2.9.10 ignores the field, so the reference stores as published.
    let reference = std::env::var_os("NATRIUM_TEST_SERVER").is_some();
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    create(
        &client,
        r#"{"name":"T","subjects":["in.>"],"subject_transform":{"src":"in.*.*","dest":"out.$2.$1"}}"#,
    )
    .await;
    publish_ok(&client, "in.a.b", &[], "T", 1).await;
    let (subject, _) = subject_and_header(&context, "T", 1, "none").await;
    let expected = if reference { "in.a.b" } else { "out.b.a" };
    assert_eq!(subject, expected);
}
