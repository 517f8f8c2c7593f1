//! The publish path against a memory store: each step of `processJetStreamMsg`, as a table
//! of publishes (subject, headers, time) and what each must answer.

use super::*;
use crate::stream::check::{check_stream_config, ServerLimits};
use natrium_store::MemoryStore;

const SECOND: i64 = 1_000_000_000;

fn stream(json: &str) -> Stream {
    let config: StreamConfig = serde_json::from_str(json).unwrap();
    let config = check_stream_config(&config, &ServerLimits::default()).unwrap();
    let store = MemoryStore::new(store_config(&config)).unwrap();
    Stream::new(config, Box::new(store))
}

fn headers(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut block = b"NATS/1.0\r\n".to_vec();
    for (key, value) in pairs {
        block.extend_from_slice(format!("{key}: {value}\r\n").as_bytes());
    }
    block.extend_from_slice(b"\r\n");
    block
}

/// One publish and its expected answer.
struct Step<'a> {
    subject: &'a str,
    headers: &'a [(&'a str, &'a str)],
    at: i64,
    expect: Result<Published, JsError>,
}

fn check(stream_json: &str, steps: &[Step<'_>]) {
    let mut stream = stream(stream_json);
    for (index, step) in steps.iter().enumerate() {
        let block = if step.headers.is_empty() {
            Vec::new()
        } else {
            headers(step.headers)
        };
        let got = stream.publish(step.subject, &block, b"data", step.at);
        assert_eq!(
            got, step.expect,
            "step {index}: {} {:?}",
            step.subject, step.headers
        );
    }
}

fn ok(seq: u64) -> Result<Published, JsError> {
    Ok(Published::Stored(seq))
}

#[test]
fn duplicates_within_the_window_are_acknowledged_but_not_stored() {
    check(
        r#"{"name":"S","subjects":["s.>"],"duplicate_window":2000000000}"#,
        &[
            Step {
                subject: "s.a",
                headers: &[("Nats-Msg-Id", "m1")],
                at: 0,
                expect: ok(1),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Msg-Id", "m1")],
                at: SECOND,
                expect: Ok(Published::Duplicate(1)),
            },
            Step {
                subject: "s.b",
                headers: &[("Nats-Msg-Id", "m2")],
                at: SECOND,
                expect: ok(2),
            },
            // Past the window the same id is new again.
            Step {
                subject: "s.a",
                headers: &[("Nats-Msg-Id", "m1")],
                at: 3 * SECOND,
                expect: ok(3),
            },
        ],
    );
}

#[test]
fn expected_headers_guard_the_publish() {
    check(
        r#"{"name":"S","subjects":["s.>"]}"#,
        &[
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Stream", "OTHER")],
                at: 0,
                expect: Err(JsError::StreamNotMatch),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Stream", "S")],
                at: 0,
                expect: ok(1),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Sequence", "5")],
                at: 0,
                expect: Err(JsError::StreamWrongLastSequence(1)),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Sequence", "1")],
                at: 0,
                expect: ok(2),
            },
            Step {
                subject: "s.b",
                headers: &[("Nats-Expected-Last-Subject-Sequence", "0")],
                at: 0,
                expect: ok(3),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Subject-Sequence", "1")],
                at: 0,
                expect: Err(JsError::StreamWrongLastSequence(2)),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Subject-Sequence", "2")],
                at: 0,
                expect: ok(4),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Msg-Id", "x")],
                at: 0,
                expect: ok(5),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Msg-Id", "y")],
                at: 0,
                expect: Err(JsError::StreamWrongLastMsgId("x".into())),
            },
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Msg-Id", "x")],
                at: 0,
                expect: ok(6),
            },
            // The last message had no id, so no id is the last one.
            Step {
                subject: "s.a",
                headers: &[("Nats-Expected-Last-Msg-Id", "x")],
                at: 0,
                expect: Err(JsError::StreamWrongLastMsgId(String::new())),
            },
        ],
    );
}

#[test]
fn limits_and_seals_refuse_with_nats_server_errors() {
    check(
        r#"{"name":"S","max_msg_size":10}"#,
        &[Step {
            subject: "S",
            headers: &[("K", "a-long-header-value")],
            at: 0,
            expect: Err(JsError::StreamMessageExceedsMaximum),
        }],
    );
    check(
        r#"{"name":"S","max_msgs":1,"discard":"new"}"#,
        &[
            Step {
                subject: "S",
                headers: &[],
                at: 0,
                expect: ok(1),
            },
            Step {
                subject: "S",
                headers: &[],
                at: 0,
                expect: Err(JsError::StreamStoreFailed(
                    "maximum messages exceeded".into(),
                )),
            },
        ],
    );
    check(
        r#"{"name":"S","subjects":["s.*"],"max_msgs_per_subject":1,"discard":"new","discard_new_per_subject":true}"#,
        &[
            Step {
                subject: "s.a",
                headers: &[],
                at: 0,
                expect: ok(1),
            },
            Step {
                subject: "s.a",
                headers: &[],
                at: 0,
                expect: Err(JsError::StreamStoreFailed(
                    "maximum messages per subject exceeded".into(),
                )),
            },
        ],
    );
    check(
        r#"{"name":"S","sealed":true}"#,
        &[Step {
            subject: "S",
            headers: &[],
            at: 0,
            expect: Err(JsError::StreamSealed),
        }],
    );
}

#[test]
fn acks_are_byte_for_byte_nats_server_s() {
    assert_eq!(
        pub_ack("ORDERS", None, Published::Stored(5)),
        br#"{"stream":"ORDERS", "seq":5}"#.to_vec()
    );
    assert_eq!(
        pub_ack("ORDERS", Some("hub"), Published::Duplicate(5)),
        br#"{"stream":"ORDERS", "domain":"hub", "seq":5,"duplicate": true}"#.to_vec()
    );
    let refused: serde_json::Value =
        serde_json::from_slice(&pub_ack_error("S", &JsError::StreamWrongLastSequence(3))).unwrap();
    assert_eq!(
        refused,
        serde_json::json!({"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"S","seq":0})
    );
}

#[test]
fn a_recovered_stream_reads_its_recent_message_ids_back() {
    let config: StreamConfig =
        serde_json::from_str(r#"{"name":"S","duplicate_window":10000000000}"#).unwrap();
    let config = check_stream_config(&config, &ServerLimits::default()).unwrap();
    let mut store = MemoryStore::new(store_config(&config)).unwrap();
    // Stored by an earlier process: "old" is out of the window by the time of the publish.
    store
        .store("S", &headers(&[("Nats-Msg-Id", "old")]), b"", 0)
        .unwrap();
    store
        .store("S", &headers(&[("Nats-Msg-Id", "new")]), b"", 15 * SECOND)
        .unwrap();
    let mut stream = Stream::new(config, Box::new(store));
    let at = 20 * SECOND;
    let publish =
        |stream: &mut Stream, pairs: &[(&str, &str)]| stream.publish("S", &headers(pairs), b"", at);
    assert_eq!(
        publish(&mut stream, &[("Nats-Msg-Id", "new")]),
        Ok(Published::Duplicate(2))
    );
    assert_eq!(
        publish(&mut stream, &[("Nats-Expected-Last-Msg-Id", "new")]),
        ok(3)
    );
    assert_eq!(publish(&mut stream, &[("Nats-Msg-Id", "old")]), ok(4));
}
