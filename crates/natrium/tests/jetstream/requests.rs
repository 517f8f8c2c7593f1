//! Raw `$JS.API` requests and publishes with headers, for tests that check the exact JSON the
//! server answers (error codes, fields the client library hides).

use crate::common::within;
use async_nats::jetstream::{self, stream};
use async_nats::{Client, HeaderMap};
use serde_json::Value;

/// Sends `body` to `$JS.API.<api>` and returns the answer as JSON.
pub async fn api(client: &Client, api: &str, body: impl Into<String>) -> Value {
    let subject = format!("$JS.API.{api}");
    let body: String = body.into();
    let reply = within(&subject, client.request(subject.clone(), body.into()))
        .await
        .unwrap_or_else(|error| panic!("{subject}: {error}"));
    serde_json::from_slice(&reply.payload)
        .unwrap_or_else(|error| panic!("{subject}: answer is not JSON ({error}): {reply:?}"))
}

/// The `(code, err_code)` of an error answer; panics with the answer if it is not an error.
pub fn error_codes(answer: &Value) -> (u64, u64) {
    let error = answer
        .get("error")
        .unwrap_or_else(|| panic!("expected an error, got {answer}"));
    (
        error["code"].as_u64().unwrap(),
        error["err_code"].as_u64().unwrap(),
    )
}

/// Asserts `answer` is an error with `err_code`, and returns its description.
pub fn expect_error(answer: &Value, err_code: u64) -> String {
    assert_eq!(error_codes(answer).1, err_code, "{answer}");
    answer["error"]["description"].as_str().unwrap().to_string()
}

/// Asserts `answer` is not an error and has the API `type` `io.nats.jetstream.api.v1.<kind>`.
pub fn expect_ok(answer: &Value, kind: &str) {
    assert!(answer.get("error").is_none(), "unexpected error: {answer}");
    assert_eq!(
        answer["type"],
        format!("io.nats.jetstream.api.v1.{kind}"),
        "{answer}"
    );
}

/// Publishes `payload` to `subject` with `headers` and returns the PubAck (or error) as JSON.
pub async fn publish(
    client: &Client,
    subject: &str,
    headers: &[(&str, &str)],
    payload: &str,
) -> Value {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, *value);
    }
    let reply = within(
        subject,
        client.request_with_headers(subject.to_string(), map, payload.to_string().into()),
    )
    .await
    .unwrap_or_else(|error| panic!("publish to {subject}: {error}"));
    serde_json::from_slice(&reply.payload)
        .unwrap_or_else(|error| panic!("PubAck is not JSON ({error}): {reply:?}"))
}

/// Publishes and asserts the PubAck names `stream` and `sequence`; returns whether it was a duplicate.
pub async fn publish_ok(
    client: &Client,
    subject: &str,
    headers: &[(&str, &str)],
    stream: &str,
    sequence: u64,
) -> bool {
    let ack = publish(client, subject, headers, "payload").await;
    assert!(
        ack.get("error").is_none(),
        "publish to {subject} refused: {ack}"
    );
    assert_eq!(
        (ack["stream"].as_str(), ack["seq"].as_u64()),
        (Some(stream), Some(sequence)),
        "{ack}"
    );
    ack["duplicate"].as_bool().unwrap_or(false)
}

/// Creates a stream with `config` through the client library.
pub async fn create_stream(context: &jetstream::Context, config: stream::Config) -> stream::Stream {
    let name = config.name.clone();
    within("create stream", context.create_stream(config))
        .await
        .unwrap_or_else(|error| panic!("create stream {name}: {error}"))
}

/// A file stream named `name` over `subjects`, everything else at its default.
pub fn stream_config(name: &str, subjects: &[&str]) -> stream::Config {
    stream::Config {
        name: name.to_string(),
        subjects: subjects.iter().map(|subject| subject.to_string()).collect(),
        ..Default::default()
    }
}

/// The stream's current message count, first and last sequence.
pub async fn state(client: &Client, stream: &str) -> (u64, u64, u64) {
    let info = api(client, &format!("STREAM.INFO.{stream}"), "").await;
    expect_ok(&info, "stream_info_response");
    let state = &info["state"];
    (
        state["messages"].as_u64().unwrap(),
        state["first_seq"].as_u64().unwrap(),
        state["last_seq"].as_u64().unwrap(),
    )
}
