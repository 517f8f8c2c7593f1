//! Bad input on `$JS.API.*`: each request gets nats-server 2.9's error, the server keeps
//! serving, and nothing already stored is lost.

use crate::common::settle;
use crate::requests::{api, error_codes, expect_ok, publish_ok, state};
use crate::JsServer;
use async_nats::Client;
use futures::{FutureExt, StreamExt};

const NAME_TEXT: &str = "stream name is required and can not contain '.', '*', '>'";

/// `(api, body, err_code, description)`: each request and the error it must get.
const REFUSED: &[(&str, &str, u64, &str)] = &[
    ("STREAM.CREATE.X", "{", 10025, "invalid JSON"),
    ("STREAM.CREATE.X", "not json", 10025, "invalid JSON"),
    ("STREAM.CREATE.X", "[1]", 10025, "invalid JSON"),
    ("STREAM.CREATE.X", "", 10025, "invalid JSON"),
    (
        "STREAM.CREATE.Y",
        r#"{"name":"Y","max_msgs":"ten"}"#,
        10025,
        "invalid JSON",
    ),
    (
        "STREAM.CREATE.Y",
        r#"{"name":"Y","subjects":"y"}"#,
        10025,
        "invalid JSON",
    ),
    (
        "STREAM.CREATE.A",
        r#"{"name":"A.B"}"#,
        10056,
        "stream name in subject does not match request",
    ),
    ("STREAM.CREATE.A*", r#"{"name":"A*"}"#, 10052, NAME_TEXT),
    ("STREAM.CREATE.A>", r#"{"name":"A>"}"#, 10052, NAME_TEXT),
    (
        "STREAM.CREATE.Z",
        r#"{"name":"Z","subjects":["a..b"]}"#,
        10052,
        "invalid subject",
    ),
    ("STREAM.UPDATE.KEEP", "{", 10025, "invalid JSON"),
    (
        "STREAM.INFO.KEEP",
        r#"{"subjects_filter":5}"#,
        10025,
        "invalid JSON",
    ),
    (
        "STREAM.MSG.GET.KEEP",
        r#"{"seq":"1"}"#,
        10025,
        "invalid JSON",
    ),
    (
        "STREAM.MSG.DELETE.KEEP",
        r#"{"seq":true}"#,
        10025,
        "invalid JSON",
    ),
    ("STREAM.PURGE.KEEP", r#"{"keep":-1}"#, 10025, "invalid JSON"),
    ("STREAM.NAMES", r#"{"offset":"a"}"#, 10025, "invalid JSON"),
    // A body on DELETE is refused before anything is deleted.
    (
        "STREAM.DELETE.KEEP",
        "{",
        10038,
        "expected an empty request payload",
    ),
    (
        "STREAM.DELETE.KEEP",
        r#"{"name":"KEEP"}"#,
        10038,
        "expected an empty request payload",
    ),
];

/// A stream named KEEP holding three messages, to check that bad requests lose nothing.
async fn stream_to_keep(client: &Client) {
    let created = api(
        client,
        "STREAM.CREATE.KEEP",
        r#"{"name":"KEEP","subjects":["keep"]}"#,
    )
    .await;
    expect_ok(&created, "stream_create_response");
    for sequence in 1..=3 {
        publish_ok(client, "keep", &[], "KEEP", sequence).await;
    }
}

#[tokio::test]
async fn bad_requests_get_nats_server_errors_and_stored_data_survives() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    stream_to_keep(&client).await;
    for (endpoint, body, err_code, description) in REFUSED {
        let answer = api(&client, endpoint, *body).await;
        let at = format!("{endpoint} {body}: {answer}");
        assert_eq!(error_codes(&answer).1, *err_code, "{at}");
        assert_eq!(answer["error"]["description"], *description, "{at}");
    }
    assert_eq!(state(&client, "KEEP").await, (3, 1, 3));
    publish_ok(&client, "keep", &[], "KEEP", 4).await;
    let names = api(&client, "STREAM.NAMES", "").await;
    assert_eq!(names["streams"], serde_json::json!(["KEEP"]), "{names}");
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_a_large_max_msg_size_is_accepted() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    let unknown = api(
        &client,
        "STREAM.CREATE.X",
        r#"{"name":"X","subjects":["x"],"bogus":{"a":1}}"#,
    )
    .await;
    expect_ok(&unknown, "stream_create_response");
    assert!(unknown["config"].get("bogus").is_none(), "{unknown}");
    // 100 MiB on a server whose max_payload is 1 MiB: nats-server 2.9 accepts it.
    let large = api(
        &client,
        "STREAM.CREATE.Y",
        r#"{"name":"Y","max_msg_size":104857600}"#,
    )
    .await;
    expect_ok(&large, "stream_create_response");
    assert_eq!(large["config"]["max_msg_size"], 104857600);
    let too_large = api(
        &client,
        "STREAM.CREATE.Z",
        r#"{"name":"Z","max_msg_size":4294967296}"#,
    )
    .await;
    assert_eq!(
        error_codes(&too_large).1,
        10025,
        "an int32 in nats-server: {too_large}"
    );
}

#[tokio::test]
async fn a_name_with_a_dot_in_the_subject_is_not_answered() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    let mut replies = client.subscribe("bad.reply").await.unwrap();
    client
        .publish_with_reply(
            "$JS.API.STREAM.CREATE.A.B",
            "bad.reply",
            r#"{"name":"A.B"}"#.into(),
        )
        .await
        .unwrap();
    let names = api(&client, "STREAM.NAMES", "").await;
    assert_eq!(names["total"], 0, "{names}");
    settle(&client).await;
    assert!(replies.next().now_or_never().is_none(), "a reply came back");
}

#[tokio::test]
async fn a_stream_over_the_account_storage_limit_is_refused() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "jetstream { max_file_store: 1048576, max_memory_store: 1048576 }\n",
    )
    .unwrap();
    let js = JsServer::start(&["-c", config.path().to_str().unwrap()]).await;
    let (client, _context) = js.context().await;
    stream_to_keep(&client).await;
    let file = api(
        &client,
        "STREAM.CREATE.BIG",
        r#"{"name":"BIG","max_bytes":10485760}"#,
    )
    .await;
    assert_eq!(
        (error_codes(&file).1, file["error"]["description"].as_str()),
        (10047, Some("insufficient storage resources available")),
        "{file}"
    );
    let memory = api(
        &client,
        "STREAM.CREATE.MEM",
        r#"{"name":"MEM","storage":"memory","max_bytes":10485760}"#,
    )
    .await;
    assert_eq!(error_codes(&memory).1, 10028, "{memory}");
    // Raw: async-nats 0.51 cannot parse nats-server 2.9's account info with these limits.
    let account = api(&client, "INFO", "").await;
    expect_ok(&account, "account_info_response");
    assert_eq!(account["streams"], 1, "{account}");
    assert_eq!(state(&client, "KEEP").await, (3, 1, 3));
}
