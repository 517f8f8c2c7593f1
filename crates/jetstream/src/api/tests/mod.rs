//! The API as transcripts: requests in order, and the fields each response must carry.

mod limits;
mod messages;
mod sourcing;
mod update;

use super::types::AccountLimits;
use super::*;
use serde_json::{json, Value};

const NOW: i64 = 1_764_165_000_000_000_000;

fn api() -> JetStreamApi<MemoryStores> {
    JetStreamApi::new(
        MemoryStores,
        AccountLimits::default(),
        ServerLimits::default(),
        None,
    )
}

/// Sends each request and checks that every field of `expected` is in the response; an
/// expected `null` means no answer at all (a subject that is no endpoint).
fn check(api: &mut JetStreamApi<MemoryStores>, steps: &[(&str, Value, Value)]) {
    for (subject, body, expected) in steps {
        let body = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        };
        let response = api.request(subject, &body, NOW);
        if expected.is_null() {
            assert_eq!(response, None, "{subject}: answered");
            continue;
        }
        let response = response.unwrap_or_else(|| panic!("{subject}: no response"));
        let response: Value = serde_json::from_slice(&response).unwrap();
        assert_fields(&response, expected, subject);
    }
}

/// Every field of `expected` is in `actual` with that value; a `null` means "absent".
fn assert_fields(actual: &Value, expected: &Value, at: &str) {
    match expected {
        Value::Object(fields) => {
            for (key, value) in fields {
                match (actual.get(key), value) {
                    (None, Value::Null) => {}
                    (Some(inner), Value::Null) => panic!("{at}: {key:?} should be absent: {inner}"),
                    (Some(inner), value) => assert_fields(inner, value, &format!("{at}.{key}")),
                    (None, _) => panic!("{at}: no {key:?} in {actual}"),
                }
            }
        }
        other => assert_eq!(actual, other, "{at}"),
    }
}

/// Publishes `payload` (with `headers`, if any) and returns the PubAck as JSON.
fn publish(
    api: &mut JetStreamApi<MemoryStores>,
    subject: &str,
    headers: &[(&str, &str)],
    payload: &str,
) -> Value {
    let mut block = Vec::new();
    if !headers.is_empty() {
        block.extend_from_slice(b"NATS/1.0\r\n");
        for (key, value) in headers {
            block.extend_from_slice(format!("{key}: {value}\r\n").as_bytes());
        }
        block.extend_from_slice(b"\r\n");
    }
    let ack = api
        .publish(subject, &block, payload.as_bytes(), NOW)
        .unwrap_or_else(|| panic!("no stream for {subject}"));
    serde_json::from_slice(&ack).unwrap()
}

#[test]
fn stream_lifecycle() {
    let mut api = api();
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.CREATE.ORDERS",
                json!({"name": "ORDERS", "subjects": ["orders.>"]}),
                json!({
                    "type": "io.nats.jetstream.api.v1.stream_create_response",
                    "did_create": true,
                    "created": "2025-11-26T13:50:00Z",
                    "config": {"name": "ORDERS", "subjects": ["orders.>"], "max_msgs": -1, "storage": "file"},
                    "state": {"messages": 0, "consumer_count": 0, "first_ts": "0001-01-01T00:00:00Z"},
                }),
            ),
            // The same configuration again answers with the stream, not an error.
            (
                "$JS.API.STREAM.CREATE.ORDERS",
                json!({"name": "ORDERS", "subjects": ["orders.>"]}),
                json!({"config": {"name": "ORDERS"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.ORDERS",
                json!({"name": "ORDERS", "subjects": ["other"]}),
                json!({"error": {"code": 400, "err_code": 10058}}),
            ),
            (
                "$JS.API.STREAM.CREATE.OVERLAP",
                json!({"name": "OVERLAP", "subjects": ["orders.new"]}),
                json!({"error": {"code": 400, "err_code": 10065, "description": "subjects overlap with an existing stream"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.X",
                json!({"name": "Y"}),
                json!({"error": {"err_code": 10056}}),
            ),
            (
                "$JS.API.STREAM.CREATE.KV_a",
                json!({"name": "KV_a", "subjects": ["$KV.a.>"], "storage": "memory"}),
                json!({"did_create": true}),
            ),
            (
                "$JS.API.STREAM.NAMES",
                Value::Null,
                json!({"type": "io.nats.jetstream.api.v1.stream_names_response", "total": 2, "offset": 0, "limit": 1024, "streams": ["KV_a", "ORDERS"]}),
            ),
            (
                "$JS.API.STREAM.NAMES",
                json!({"subject": "orders.*"}),
                json!({"total": 1, "streams": ["ORDERS"]}),
            ),
            (
                "$JS.API.STREAM.LIST",
                json!({"offset": 1}),
                json!({"total": 2, "offset": 1, "limit": 256}),
            ),
            (
                "$JS.API.STREAM.INFO.ORDERS",
                Value::Null,
                json!({"type": "io.nats.jetstream.api.v1.stream_info_response", "total": 0}),
            ),
            (
                "$JS.API.STREAM.DELETE.ORDERS",
                Value::Null,
                json!({"type": "io.nats.jetstream.api.v1.stream_delete_response", "success": true}),
            ),
            (
                "$JS.API.STREAM.INFO.ORDERS",
                Value::Null,
                json!({"error": {"code": 404, "err_code": 10059, "description": "stream not found"}}),
            ),
            (
                "$JS.API.STREAM.DELETE.ORDERS",
                Value::Null,
                json!({"error": {"err_code": 10059}}),
            ),
            (
                "$JS.API.INFO",
                Value::Null,
                json!({"type": "io.nats.jetstream.api.v1.account_info_response", "streams": 1, "limits": {"max_streams": -1}, "api": {"total": 13, "errors": 5}}),
            ),
        ],
    );
}

#[test]
fn publishes_reach_the_stream_that_captures_their_subject() {
    let mut api = api();
    api.request(
        "$JS.API.STREAM.CREATE.S",
        br#"{"name":"S","subjects":["s.*"]}"#,
        NOW,
    )
    .unwrap();
    let stream = api.stream_for_subject("s.a").expect("captured");
    assert_eq!(
        stream.publish("s.a", b"", b"x", NOW),
        Ok(crate::Published::Stored(1))
    );
    assert!(api.stream_for_subject("t.a").is_none());
    let info: Value =
        serde_json::from_slice(&api.request("$JS.API.STREAM.INFO.S", b"", NOW).unwrap()).unwrap();
    assert_eq!(info["state"]["messages"], 1);
    assert_eq!(info["state"]["last_ts"], "2025-11-26T13:50:00Z");
}

#[test]
fn bad_requests_get_json_errors_and_unknown_endpoints_no_answer() {
    let mut api = api();
    let response: Value = serde_json::from_slice(
        &api.request("$JS.API.STREAM.CREATE.S", b"{nope", NOW)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(response["error"]["err_code"], 10025);
    api.request("$JS.API.STREAM.CREATE.S", br#"{"name":"S"}"#, NOW);
    for body in [&b"{"[..], br#"{"name":"S"}"#] {
        let refused = api.request("$JS.API.STREAM.DELETE.S", body, NOW).unwrap();
        let refused: Value = serde_json::from_slice(&refused).unwrap();
        assert_eq!(refused["error"]["err_code"], 10038, "{refused}");
    }
    let info = api.request("$JS.API.STREAM.INFO.S", b"", NOW).unwrap();
    assert!(!String::from_utf8_lossy(&info).contains("error"));
    assert!(api.request("$JS.API.NOPE", b"", NOW).is_none());
    assert!(api.request("orders.new", b"", NOW).is_none());
    let limited = JetStreamApi::new(
        MemoryStores,
        AccountLimits {
            max_streams: 1,
            ..AccountLimits::default()
        },
        ServerLimits::default(),
        None,
    );
    let mut limited = limited;
    limited
        .request("$JS.API.STREAM.CREATE.A", br#"{"name":"A"}"#, NOW)
        .unwrap();
    let refused: Value = serde_json::from_slice(
        &limited
            .request("$JS.API.STREAM.CREATE.B", br#"{"name":"B"}"#, NOW)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(refused["error"]["err_code"], 10027);
}

#[test]
fn names_are_null_when_nothing_matches_and_offsets_stop_at_the_end() {
    let mut api = api();
    let names = |api: &mut JetStreamApi<MemoryStores>, body: &str| -> Value {
        let response = api.request("$JS.API.STREAM.NAMES", body.as_bytes(), NOW);
        serde_json::from_slice(&response.expect("NAMES answers")).unwrap()
    };
    assert_eq!(names(&mut api, "")["streams"], Value::Null);
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.CREATE.A",
            json!({"name": "A", "subjects": ["a"]}),
            json!({"did_create": true}),
        )],
    );
    let unmatched = names(&mut api, r#"{"subject":"b"}"#);
    assert_eq!(
        (&unmatched["streams"], &unmatched["total"]),
        (&Value::Null, &json!(0))
    );
    let past_end = names(&mut api, r#"{"offset":5}"#);
    assert_eq!(
        (&past_end["streams"], &past_end["offset"]),
        (&json!([]), &json!(1))
    );
    let list = api.request("$JS.API.STREAM.LIST", br#"{"offset":5}"#, NOW);
    let list: Value = serde_json::from_slice(&list.unwrap()).unwrap();
    assert_eq!((&list["streams"], &list["offset"]), (&json!([]), &json!(1)));
}
