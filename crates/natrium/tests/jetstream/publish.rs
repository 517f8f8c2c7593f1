//! The publish path: deduplication, the `Nats-Expected-*` headers, every limit with both
//! discard policies, the three retentions, rollups, and sealed / deny flags.

use crate::common::within;
use crate::requests::{api, expect_error, expect_ok, publish, state};
use crate::JsServer;
use async_nats::Client;
use std::time::Duration;

/// What one publish must get back.
enum Ack {
    /// Stored at this sequence.
    Stored(u64),
    /// A duplicate of the message at this sequence.
    Duplicate(u64),
    /// Refused with this `err_code` and description.
    Refused(u64, &'static str),
}

/// One publish: subject, headers, payload, and the PubAck it must get.
type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, Ack);

/// Publishes each step in order and checks its PubAck.
async fn check(client: &Client, stream: &str, steps: &[Step<'_>]) {
    for (index, (subject, headers, payload, expected)) in steps.iter().enumerate() {
        let ack = publish(client, subject, headers, payload).await;
        let at = format!("step {index}: {subject} {headers:?}: {ack}");
        match expected {
            Ack::Stored(sequence) | Ack::Duplicate(sequence) => {
                assert!(ack.get("error").is_none(), "{at}");
                assert_eq!(ack["stream"], *stream, "{at}");
                assert_eq!(ack["seq"].as_u64(), Some(*sequence), "{at}");
                let duplicate = matches!(expected, Ack::Duplicate(_));
                assert_eq!(
                    ack["duplicate"].as_bool().unwrap_or(false),
                    duplicate,
                    "{at}"
                );
            }
            Ack::Refused(err_code, description) => {
                assert_eq!(expect_error(&ack, *err_code), *description, "{at}");
            }
        }
    }
}

/// Creates a stream from raw JSON config and returns the client.
async fn with_stream(js: &JsServer, config: &str) -> Client {
    let (client, _context) = js.context().await;
    let value: serde_json::Value = serde_json::from_str(config).unwrap();
    let name = value["name"].as_str().unwrap();
    let created = api(&client, &format!("STREAM.CREATE.{name}"), config).await;
    expect_ok(&created, "stream_create_response");
    client
}

#[tokio::test]
async fn a_message_id_is_stored_once_within_the_window_and_again_after_it() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"S","subjects":["s"],"duplicate_window":300000000}"#,
    )
    .await;
    check(
        &client,
        "S",
        &[
            ("s", &[("Nats-Msg-Id", "a")], "1", Ack::Stored(1)),
            ("s", &[("Nats-Msg-Id", "b")], "2", Ack::Stored(2)),
            ("s", &[("Nats-Msg-Id", "a")], "3", Ack::Duplicate(1)),
            ("s", &[], "4", Ack::Stored(3)),
        ],
    )
    .await;
    assert_eq!(state(&client, "S").await, (3, 1, 3));
    // Once the window has passed, the same id is a new message.
    let stored_again = within("the window to pass", async {
        loop {
            let ack = publish(&client, "s", &[("Nats-Msg-Id", "a")], "again").await;
            if ack["duplicate"] != true {
                break ack;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(stored_again["seq"], 4, "{stored_again}");
}

#[tokio::test]
async fn every_expected_header_is_checked_and_a_refused_message_is_not_stored() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(&js, r#"{"name":"S","subjects":["s.*"]}"#).await;
    check(
        &client,
        "S",
        &[
            ("s.a", &[("Nats-Expected-Stream", "S")], "", Ack::Stored(1)),
            (
                "s.a",
                &[("Nats-Expected-Stream", "T")],
                "",
                Ack::Refused(10060, "expected stream does not match"),
            ),
            (
                "s.b",
                &[("Nats-Expected-Last-Sequence", "1"), ("Nats-Msg-Id", "m2")],
                "",
                Ack::Stored(2),
            ),
            (
                "s.b",
                &[("Nats-Expected-Last-Sequence", "1")],
                "",
                Ack::Refused(10071, "wrong last sequence: 2"),
            ),
            (
                "s.a",
                &[("Nats-Expected-Last-Subject-Sequence", "1")],
                "",
                Ack::Stored(3),
            ),
            (
                "s.b",
                &[("Nats-Expected-Last-Subject-Sequence", "1")],
                "",
                Ack::Refused(10071, "wrong last sequence: 2"),
            ),
            (
                "s.c",
                &[("Nats-Expected-Last-Subject-Sequence", "0")],
                "",
                Ack::Stored(4),
            ),
            (
                "s.c",
                &[("Nats-Expected-Last-Subject-Sequence", "0")],
                "",
                Ack::Refused(10071, "wrong last sequence: 4"),
            ),
            (
                "s.a",
                &[("Nats-Expected-Last-Msg-Id", "m2")],
                "",
                Ack::Refused(10070, "wrong last msg ID: "),
            ),
            (
                "s.a",
                &[("Nats-Expected-Last-Msg-Id", "m2"), ("Nats-Msg-Id", "m5")],
                "",
                Ack::Refused(10070, "wrong last msg ID: "),
            ),
            ("s.a", &[("Nats-Msg-Id", "m5")], "", Ack::Stored(5)),
            (
                "s.a",
                &[("Nats-Expected-Last-Msg-Id", "m5")],
                "",
                Ack::Stored(6),
            ),
        ],
    )
    .await;
    assert_eq!(state(&client, "S").await, (6, 1, 6));
}

#[tokio::test]
async fn count_and_byte_limits_discard_old_messages() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"S","subjects":["s.*"],"max_msgs":5,"max_msgs_per_subject":2,"max_msg_size":64}"#,
    )
    .await;
    for (sequence, subject) in ["s.a", "s.a", "s.a", "s.b", "s.c", "s.d", "s.e"]
        .iter()
        .enumerate()
    {
        check(
            &client,
            "S",
            &[(subject, &[], "x", Ack::Stored(sequence as u64 + 1))],
        )
        .await;
    }
    // s.a kept its last two (2, 3); then max_msgs dropped the oldest of the rest (2).
    assert_eq!(state(&client, "S").await, (5, 3, 7));
    let big = "x".repeat(65);
    check(
        &client,
        "S",
        &[(
            "s.a",
            &[],
            &big,
            Ack::Refused(10054, "message size exceeds maximum allowed"),
        )],
    )
    .await;

    let bytes_client = with_stream(&js, r#"{"name":"B","subjects":["b"],"max_bytes":300}"#).await;
    // nats-server's file store counts a record's framing in its size, Natrium counts 16 bytes
    // per message: either way, ten 40-byte payloads exceed 300 bytes.
    let forty = "x".repeat(40);
    for sequence in 1..=10 {
        check(
            &bytes_client,
            "B",
            &[("b", &[], &forty, Ack::Stored(sequence))],
        )
        .await;
    }
    let info = api(&bytes_client, "STREAM.INFO.B", "").await;
    let bytes = info["state"]["bytes"].as_u64().unwrap();
    let messages = info["state"]["messages"].as_u64().unwrap();
    assert!(bytes <= 300 && (1..10).contains(&messages), "{info}");
    assert_eq!(info["state"]["first_seq"], 11 - messages, "{info}");
    assert_eq!(info["state"]["last_seq"], 10);
}

#[tokio::test]
async fn discard_new_refuses_messages_past_each_limit() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"M","subjects":["m"],"max_msgs":2,"discard":"new"}"#,
    )
    .await;
    check(
        &client,
        "M",
        &[
            ("m", &[], "", Ack::Stored(1)),
            ("m", &[], "", Ack::Stored(2)),
            (
                "m",
                &[],
                "",
                Ack::Refused(10077, "maximum messages exceeded"),
            ),
        ],
    )
    .await;
    let client = with_stream(
        &js,
        r#"{"name":"B","subjects":["b"],"max_bytes":100,"discard":"new"}"#,
    )
    .await;
    let forty = "x".repeat(40);
    check(
        &client,
        "B",
        &[
            ("b", &[], &forty, Ack::Stored(1)),
            (
                "b",
                &[],
                &forty,
                Ack::Refused(10077, "maximum bytes exceeded"),
            ),
        ],
    )
    .await;
    let client = with_stream(
        &js,
        r#"{"name":"P","subjects":["p.*"],"max_msgs_per_subject":1,"discard":"new","discard_new_per_subject":true}"#,
    )
    .await;
    check(
        &client,
        "P",
        &[
            ("p.a", &[], "", Ack::Stored(1)),
            ("p.b", &[], "", Ack::Stored(2)),
            (
                "p.a",
                &[],
                "",
                Ack::Refused(10077, "maximum messages per subject exceeded"),
            ),
        ],
    )
    .await;
    assert_eq!(state(&client, "P").await, (2, 1, 2));
    // Without discard_new_per_subject, the per-subject limit drops the old message instead.
    let client = with_stream(
        &js,
        r#"{"name":"Q","subjects":["q.*"],"max_msgs_per_subject":1,"discard":"new"}"#,
    )
    .await;
    check(
        &client,
        "Q",
        &[
            ("q.a", &[], "", Ack::Stored(1)),
            ("q.a", &[], "", Ack::Stored(2)),
        ],
    )
    .await;
    assert_eq!(state(&client, "Q").await, (1, 2, 2));
}

#[tokio::test]
async fn messages_expire_by_age_without_further_publishes() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"S","subjects":["s"],"max_age":300000000,"duplicate_window":300000000}"#,
    )
    .await;
    check(
        &client,
        "S",
        &[
            ("s", &[], "", Ack::Stored(1)),
            ("s", &[], "", Ack::Stored(2)),
        ],
    )
    .await;
    let emptied = within("messages to expire", async {
        loop {
            let now = state(&client, "S").await;
            if now.0 == 0 {
                break now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(emptied, (0, 3, 2));
}

#[tokio::test]
async fn the_three_retentions_are_accepted() {
    let js = JsServer::start(&[]).await;
    for (name, retention) in [("L", "limits"), ("I", "interest"), ("W", "workqueue")] {
        let config =
            format!(r#"{{"name":"{name}","subjects":["{name}"],"retention":"{retention}"}}"#);
        let client = with_stream(&js, &config).await;
        let info = api(&client, &format!("STREAM.INFO.{name}"), "").await;
        assert_eq!(info["config"]["retention"], retention);
        check(&client, name, &[(name, &[], "", Ack::Stored(1))]).await;
        // An interest stream with no consumer has nobody to keep the message for.
        let kept = if retention == "interest" { 0 } else { 1 };
        assert_eq!(state(&client, name).await.0, kept, "{retention}");
    }
}

#[tokio::test]
async fn rollups_keep_only_the_newest_message_of_a_subject_or_stream() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"R","subjects":["r.*"],"allow_rollup_hdrs":true}"#,
    )
    .await;
    for (sequence, subject) in ["r.a", "r.a", "r.b", "r.b"].iter().enumerate() {
        check(
            &client,
            "R",
            &[(subject, &[], "", Ack::Stored(sequence as u64 + 1))],
        )
        .await;
    }
    check(
        &client,
        "R",
        &[("r.a", &[("Nats-Rollup", "sub")], "", Ack::Stored(5))],
    )
    .await;
    let info = api(&client, "STREAM.INFO.R", r#"{"subjects_filter":">"}"#).await;
    assert_eq!(
        info["state"]["subjects"],
        serde_json::json!({"r.a": 1, "r.b": 2})
    );
    check(
        &client,
        "R",
        &[("r.c", &[("Nats-Rollup", "all")], "", Ack::Stored(6))],
    )
    .await;
    assert_eq!(state(&client, "R").await, (1, 6, 6));

    let plain = with_stream(&js, r#"{"name":"N","subjects":["n"]}"#).await;
    check(
        &plain,
        "N",
        &[(
            "n",
            &[("Nats-Rollup", "all")],
            "",
            Ack::Refused(10111, "rollup not permitted"),
        )],
    )
    .await;
    assert_eq!(state(&plain, "N").await.0, 0);
}

#[tokio::test]
async fn sealed_and_deny_flags_refuse_what_they_forbid() {
    let js = JsServer::start(&[]).await;
    let client = with_stream(
        &js,
        r#"{"name":"D","subjects":["d"],"deny_delete":true,"deny_purge":true}"#,
    )
    .await;
    check(&client, "D", &[("d", &[], "", Ack::Stored(1))]).await;
    let delete = api(&client, "STREAM.MSG.DELETE.D", r#"{"seq":1}"#).await;
    assert_eq!(expect_error(&delete, 10057), "message delete not permitted");
    let purge = api(&client, "STREAM.PURGE.D", "").await;
    assert_eq!(expect_error(&purge, 10110), "stream purge not permitted");
    let undeny = api(
        &client,
        "STREAM.UPDATE.D",
        r#"{"name":"D","subjects":["d"],"deny_purge":true}"#,
    )
    .await;
    assert_eq!(
        expect_error(&undeny, 10052),
        "stream configuration update can not cancel deny message deletes"
    );

    let sealed = api(
        &client,
        "STREAM.UPDATE.D",
        r#"{"name":"D","subjects":["d"],"deny_delete":true,"deny_purge":true,"sealed":true}"#,
    )
    .await;
    expect_ok(&sealed, "stream_update_response");
    assert_eq!(sealed["config"]["sealed"], true);
    check(
        &client,
        "D",
        &[(
            "d",
            &[],
            "",
            Ack::Refused(10109, "invalid operation on sealed stream"),
        )],
    )
    .await;
    let unseal = api(
        &client,
        "STREAM.UPDATE.D",
        r#"{"name":"D","subjects":["d"],"deny_delete":true,"deny_purge":true}"#,
    )
    .await;
    assert_eq!(
        expect_error(&unseal, 10052),
        "stream configuration update can not unseal a sealed stream"
    );
    assert_eq!(state(&client, "D").await, (1, 1, 1));
}
