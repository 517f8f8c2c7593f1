//! A restart keeps everything: streams, their configurations, messages, sequences, deleted
//! messages and the deduplication window.

use crate::requests::{api, expect_error, expect_ok, publish, publish_ok, state};
use crate::JsServer;

#[tokio::test]
async fn a_restart_keeps_streams_messages_sequences_and_dedup() {
    let mut js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    let config = r#"{"name":"ORDERS","subjects":["orders.*"],"max_msgs":100,"max_msgs_per_subject":10,"duplicate_window":60000000000,"description":"kept","allow_rollup_hdrs":true,"deny_delete":false}"#;
    expect_ok(
        &api(&client, "STREAM.CREATE.ORDERS", config).await,
        "stream_create_response",
    );
    let other = r#"{"name":"OTHER","subjects":["other"],"storage":"file","discard":"new","max_bytes":1000000}"#;
    expect_ok(
        &api(&client, "STREAM.CREATE.OTHER", other).await,
        "stream_create_response",
    );
    for sequence in 1..=6 {
        let id = format!("id-{sequence}");
        publish_ok(
            &client,
            "orders.a",
            &[("Nats-Msg-Id", &id)],
            "ORDERS",
            sequence,
        )
        .await;
    }
    publish_ok(&client, "other", &[], "OTHER", 1).await;
    expect_ok(
        &api(&client, "STREAM.MSG.DELETE.ORDERS", r#"{"seq":4}"#).await,
        "stream_msg_delete_response",
    );
    let before = api(&client, "STREAM.INFO.ORDERS", r#"{"deleted_details":true}"#).await;
    drop(client);

    js.server.restart().await;
    let (client, _context) = js.context().await;
    let after = api(&client, "STREAM.INFO.ORDERS", r#"{"deleted_details":true}"#).await;
    assert_eq!(after["config"], before["config"]);
    assert_eq!(after["created"], before["created"]);
    assert_eq!(after["state"], before["state"]);
    assert_eq!(after["state"]["deleted"], serde_json::json!([4]), "{after}");
    assert_eq!(state(&client, "ORDERS").await, (5, 1, 6));
    let message = api(&client, "STREAM.MSG.GET.ORDERS", r#"{"seq":5}"#).await;
    assert_eq!(message["message"]["subject"], "orders.a", "{message}");
    let names = api(&client, "STREAM.NAMES", "").await;
    assert_eq!(names["streams"], serde_json::json!(["ORDERS", "OTHER"]));
    let other = api(&client, "STREAM.INFO.OTHER", "").await;
    assert_eq!(
        (
            other["config"]["discard"].as_str(),
            other["state"]["messages"].as_u64()
        ),
        (Some("new"), Some(1))
    );

    // The dedup window survives: an id from before the restart is still a duplicate.
    let duplicate = publish(&client, "orders.a", &[("Nats-Msg-Id", "id-6")], "again").await;
    assert_eq!(
        (duplicate["seq"].as_u64(), duplicate["duplicate"].as_bool()),
        (Some(6), Some(true)),
        "{duplicate}"
    );
    publish_ok(&client, "orders.b", &[("Nats-Msg-Id", "id-7")], "ORDERS", 7).await;
    publish_ok(&client, "other", &[], "OTHER", 2).await;
}

#[tokio::test]
async fn a_deleted_stream_stays_deleted_and_a_memory_stream_is_gone_after_a_restart() {
    let mut js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    for (name, storage) in [("GONE", "file"), ("MEM", "memory"), ("KEPT", "file")] {
        let config = format!(r#"{{"name":"{name}","storage":"{storage}"}}"#);
        expect_ok(
            &api(&client, &format!("STREAM.CREATE.{name}"), config).await,
            "stream_create_response",
        );
        publish_ok(&client, name, &[], name, 1).await;
    }
    expect_ok(
        &api(&client, "STREAM.DELETE.GONE", "").await,
        "stream_delete_response",
    );
    drop(client);

    js.server.restart().await;
    let (client, _context) = js.context().await;
    expect_error(&api(&client, "STREAM.INFO.GONE", "").await, 10059);
    let names = api(&client, "STREAM.NAMES", "").await;
    assert_eq!(names["streams"], serde_json::json!(["KEPT"]), "{names}");
    assert_eq!(state(&client, "KEPT").await, (1, 1, 1));
}
