//! `$JS.API.STREAM.SNAPSHOT` and `RESTORE` driven as nats-server 2.9's clients drive them
//! (async-nats has no snapshot API): the snapshot's chunks arrive on a deliver subject and are
//! acked one by one, then are sent back to the restore's deliver subject as requests, and the
//! restored stream matches the original: messages, sequences, a deleted message, and a durable
//! consumer's position.

use crate::common::within;
use crate::requests::{api, expect_error, expect_ok};
use crate::JsServer;
use async_nats::jetstream::consumer::pull;
use bytes::Bytes;
use futures::StreamExt;
use std::future::IntoFuture;

const MESSAGES: u64 = 10_000;

/// Archives staged on disk under `$G` (Natrium's layout; `None` against another server).
fn staged_archives(js: &JsServer) -> Option<usize> {
    std::env::var_os("NATRIUM_TEST_SERVER").is_none().then(|| {
        let dir = js.store.path().join("jetstream/$G/staging");
        std::fs::read_dir(dir).map_or(0, |entries| entries.count())
    })
}
/// The chunk size the restore sends with, unlike the snapshot's, as a client may choose.
const RESTORE_CHUNK_BYTES: usize = 100_000;

#[tokio::test]
async fn a_snapshot_restores_messages_sequences_and_a_durable_consumer() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let config = r#"{"name":"SNAP","subjects":["snap.>"],"storage":"file"}"#;
    expect_ok(
        &api(&client, "STREAM.CREATE.SNAP", config).await,
        "stream_create_response",
    );
    // Publish in pipelined batches: the client bounds the acks it waits for at once.
    for batch in 0..MESSAGES / 500 {
        let mut acks = Vec::new();
        for i in batch * 500..(batch + 1) * 500 {
            let subject = format!("snap.{}", i % 10);
            let ack = context.publish(subject, format!("message {i}").into());
            acks.push(within("publish", ack).await.expect("published"));
        }
        for ack in acks {
            within("pub ack", ack.into_future()).await.expect("stored");
        }
    }
    expect_ok(
        &api(&client, "STREAM.MSG.DELETE.SNAP", r#"{"seq":5000}"#).await,
        "stream_msg_delete_response",
    );
    let stream = context.get_stream("SNAP").await.expect("stream");
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("DUR".into()),
            ..Default::default()
        })
        .await
        .expect("durable");
    let mut batch = consumer.fetch().max_messages(10).messages().await.unwrap();
    let mut delivered = 0;
    while let Some(message) = within("fetch", batch.next()).await {
        let message = message.expect("message");
        delivered += 1;
        if delivered <= 3 {
            message.double_ack().await.expect("ack");
        }
    }
    assert_eq!(delivered, 10);
    let before = api(&client, "STREAM.INFO.SNAP", "").await;
    let consumer_before = api(&client, "CONSUMER.INFO.SNAP.DUR", "").await;
    assert_eq!(consumer_before["ack_floor"]["stream_seq"], 3);

    // Snapshot: every chunk carries an ack subject; an empty message ends it.
    let deliver = client.new_inbox();
    let mut chunks = client.subscribe(deliver.clone()).await.unwrap();
    // A window of one chunk keeps the transfer going (and its archive staged) until acked.
    let request =
        format!(r#"{{"deliver_subject":"{deliver}","chunk_size":65536,"window_size":65536}}"#);
    let answer = api(&client, "STREAM.SNAPSHOT.SNAP", request).await;
    expect_ok(&answer, "stream_snapshot_response");
    assert_eq!(answer["state"]["messages"], MESSAGES - 1);
    let mut archive = Vec::new();
    loop {
        let chunk = within("snapshot chunk", chunks.next()).await.unwrap();
        if chunk.payload.is_empty() {
            assert!(chunk.reply.is_none(), "the end needs no ack");
            break;
        }
        assert!(chunk.payload.len() <= 65536);
        if archive.is_empty() {
            // The archive is staged in a file while it is sent, not held in memory.
            assert!(matches!(staged_archives(&js), None | Some(1)));
        }
        archive.extend_from_slice(&chunk.payload);
        let ack = chunk.reply.expect("chunks carry an ack subject");
        client.publish(ack, Bytes::new()).await.unwrap();
    }

    assert!(
        matches!(staged_archives(&js), None | Some(0)),
        "removed once sent"
    );
    expect_ok(
        &api(&client, "STREAM.DELETE.SNAP", "").await,
        "stream_delete_response",
    );
    expect_error(&api(&client, "STREAM.INFO.SNAP", "").await, 10059);

    // Restore: the request names where the chunks go; each is acked with an empty reply.
    let request = serde_json::json!({"config": answer["config"], "state": answer["state"]});
    let started = api(&client, "STREAM.RESTORE.SNAP", request.to_string()).await;
    expect_ok(&started, "stream_restore_response");
    let deliver = started["deliver_subject"].as_str().unwrap().to_string();
    for chunk in archive.chunks(RESTORE_CHUNK_BYTES) {
        let sent = client.request(deliver.clone(), Bytes::copy_from_slice(chunk));
        let ack = within("restore chunk", sent).await.expect("acked");
        assert!(ack.payload.is_empty());
        assert!(
            matches!(staged_archives(&js), None | Some(1)),
            "received into a file"
        );
    }
    let done = within("restore end", client.request(deliver, Bytes::new()))
        .await
        .expect("restored");
    let restored: serde_json::Value = serde_json::from_slice(&done.payload).unwrap();
    expect_ok(&restored, "stream_create_response");
    assert!(
        matches!(staged_archives(&js), None | Some(0)),
        "removed once restored"
    );
    assert_eq!(restored["state"], before["state"], "{restored}");
    assert_eq!(restored["config"], before["config"]);
    assert_eq!(restored["created"], before["created"]);

    let info = api(&client, "STREAM.INFO.SNAP", "").await;
    assert_eq!(info["state"]["messages"], MESSAGES - 1);
    assert_eq!(info["state"]["last_seq"], MESSAGES);
    let last = api(&client, "STREAM.MSG.GET.SNAP", r#"{"seq":10000}"#).await;
    assert_eq!(last["message"]["subject"], "snap.9", "{last}");
    expect_error(
        &api(&client, "STREAM.MSG.GET.SNAP", r#"{"seq":5000}"#).await,
        10037,
    );
    let consumer_after = api(&client, "CONSUMER.INFO.SNAP.DUR", "").await;
    // Positions come back; `last_active` times are not part of a consumer's saved state.
    for field in ["delivered", "ack_floor"] {
        for seq in ["consumer_seq", "stream_seq"] {
            let (after, before) = (&consumer_after[field][seq], &consumer_before[field][seq]);
            assert_eq!(after, before, "{field}.{seq}");
        }
    }
    for field in ["num_ack_pending", "num_pending", "config"] {
        assert_eq!(consumer_after[field], consumer_before[field], "{field}");
    }
    // The restored durable carries on after the last message it delivered.
    let stream = context.get_stream("SNAP").await.expect("restored stream");
    let consumer: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer("DUR").await.expect("restored durable");
    let mut next = consumer.fetch().max_messages(1).messages().await.unwrap();
    let message = within("next", next.next()).await.unwrap().unwrap();
    assert_eq!(message.info().unwrap().stream_sequence, 11);

    // A new restore under a taken name is refused before any chunk is sent.
    let again = api(&client, "STREAM.RESTORE.SNAP", request.to_string()).await;
    expect_error(&again, 10130);
}
