//! The system account with async-nats: a system user sees CONNECT and DISCONNECT events of
//! another account's clients, the periodic STATSZ and the SHUTDOWN event, and gets answers to
//! `$SYS.REQ.SERVER.PING`, the server endpoints and per-account requests, whose figures match
//! the traffic the test sent. The same file passes against nats-server 2.9.10.

mod common;

use common::{settle, within, within_for, ConfigFile as Config, TestServer};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;

const ACCOUNTS: &str = r#"
accounts {
  SYS { users: [ { user: sys, password: sys } ] }
  A { users: [ { user: a, password: a } ] }
  B { users: [ { user: b, password: b } ] }
}
system_account: SYS
"#;

async fn start(config: &Config) -> TestServer {
    TestServer::start_with(&["-c", config.arg()]).await
}

async fn user(server: &TestServer, name: &str) -> async_nats::Client {
    server
        .connect_with(async_nats::ConnectOptions::with_user_and_password(
            name.to_string(),
            name.to_string(),
        ))
        .await
}

async fn next_json(subscriber: &mut async_nats::Subscriber, what: &str) -> Value {
    let message = within(what, subscriber.next())
        .await
        .unwrap_or_else(|| panic!("{what}: subscription ended"));
    serde_json::from_slice(&message.payload)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {:?}", message.payload))
}

async fn request_json(client: &async_nats::Client, subject: &str, body: &str) -> Value {
    let answer = within(
        subject,
        client.request(subject.to_string(), body.to_string().into()),
    )
    .await
    .unwrap_or_else(|e| panic!("{subject}: {e}"));
    serde_json::from_slice(&answer.payload)
        .unwrap_or_else(|e| panic!("{subject}: not JSON ({e}): {:?}", answer.payload))
}

#[tokio::test]
async fn a_system_user_sees_connect_and_disconnect_events() {
    let config = Config::new(ACCOUNTS);
    let server = start(&config).await;
    let sys = user(&server, "sys").await;
    let mut connects = sys.subscribe("$SYS.ACCOUNT.A.CONNECT").await.unwrap();
    let mut disconnects = sys.subscribe("$SYS.ACCOUNT.*.DISCONNECT").await.unwrap();
    let mut conns = sys.subscribe("$SYS.ACCOUNT.A.SERVER.CONNS").await.unwrap();
    settle(&sys).await;

    let a = user(&server, "a").await;
    let event = next_json(&mut connects, "connect event").await;
    assert_eq!(event["type"], "io.nats.server.advisory.v1.client_connect");
    assert_eq!(event["client"]["acc"], "A");
    assert_eq!(event["client"]["user"], "a");
    assert_eq!(event["client"]["kind"], "Client");
    assert_eq!(event["client"]["client_type"], "nats");
    assert!(event["client"]["id"].as_u64().unwrap() > 0);
    assert!(event["server"]["id"].as_str().unwrap().starts_with('N'));
    assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));
    let count = next_json(&mut conns, "account connections after connect").await;
    assert_eq!(
        count["type"],
        "io.nats.server.advisory.v1.account_connections"
    );
    assert_eq!(count["acc"], "A");
    assert_eq!(count["conns"], 1);

    for _ in 0..3 {
        a.publish("x", "12345".into()).await.unwrap();
    }
    settle(&a).await;
    drop(a);
    let event = next_json(&mut disconnects, "disconnect event").await;
    assert_eq!(
        event["type"],
        "io.nats.server.advisory.v1.client_disconnect"
    );
    assert_eq!(event["client"]["acc"], "A");
    assert_eq!(event["reason"], "Client Closed");
    // The three publishes and the settle request went from the client to the server.
    assert_eq!(event["sent"]["msgs"], 4);
    assert!(event["client"]["stop"].as_str().is_some());
    let count = next_json(&mut conns, "account connections after disconnect").await;
    assert_eq!(count["conns"], 0);
}

#[tokio::test]
async fn ping_and_server_endpoints_answer_with_the_monitoring_json() {
    let config = Config::new(ACCOUNTS);
    let server = start(&config).await;
    let sys = user(&server, "sys").await;

    let statsz = request_json(&sys, "$SYS.REQ.SERVER.PING", "").await;
    let id = statsz["server"]["id"].as_str().unwrap().to_string();
    assert!(statsz["statsz"]["connections"].as_u64().unwrap() >= 1);
    assert!(statsz["statsz"]["start"].as_str().is_some());

    let varz = request_json(&sys, &format!("$SYS.REQ.SERVER.{id}.VARZ"), "").await;
    assert_eq!(varz["server"]["id"], id.as_str());
    assert_eq!(varz["data"]["server_id"], id.as_str());

    let connz = request_json(&sys, "$SYS.REQ.SERVER.PING.CONNZ", r#"{"limit":1}"#).await;
    assert_eq!(connz["data"]["limit"], 1);
    assert!(connz["data"]["num_connections"].as_u64().unwrap() >= 1);

    let healthz = request_json(&sys, &format!("$SYS.REQ.SERVER.{id}.HEALTHZ"), "").await;
    assert_eq!(healthz["data"]["status"], "ok");

    // A filter naming another server leaves the request unanswered.
    let unanswered = tokio::time::timeout(
        Duration::from_millis(500),
        sys.request(
            "$SYS.REQ.SERVER.PING.VARZ",
            r#"{"server_name":"no-such-server"}"#.into(),
        ),
    )
    .await;
    assert!(
        !matches!(unanswered, Ok(Ok(_))),
        "a filtered request was answered"
    );

    // A body that is not JSON is answered with a 400 error.
    let bad = request_json(&sys, "$SYS.REQ.SERVER.PING.VARZ", "{").await;
    assert_eq!(bad["error"]["code"], 400);
}

#[tokio::test]
async fn account_requests_report_that_accounts_traffic_only() {
    let config = Config::new(ACCOUNTS);
    let server = start(&config).await;
    let sys = user(&server, "sys").await;
    let a = user(&server, "a").await;
    let b = user(&server, "b").await;
    let _sub = a.subscribe("in.a").await.unwrap();
    settle(&a).await;
    for _ in 0..10 {
        a.publish("data", vec![0u8; 100].into()).await.unwrap();
    }
    b.publish("data", "b".into()).await.unwrap();
    settle(&a).await;
    settle(&b).await;

    let connz = request_json(&sys, "$SYS.REQ.ACCOUNT.A.CONNZ", r#"{"auth":true}"#).await;
    assert_eq!(connz["data"]["num_connections"], 1);
    assert_eq!(connz["data"]["connections"][0]["account"], "A");

    let statz = request_json(&sys, "$SYS.REQ.ACCOUNT.A.STATZ", "").await;
    let stat = &statz["data"]["account_statz"][0];
    assert_eq!(stat["acc"], "A");
    assert_eq!(stat["conns"], 1);
    // Ten publishes of 100 bytes and two empty settle requests.
    assert_eq!(stat["received"]["msgs"], 12);
    assert_eq!(stat["received"]["bytes"], 1000);

    let subsz = request_json(&sys, "$SYS.REQ.ACCOUNT.A.SUBSZ", "").await;
    let subjects: Vec<&str> = subsz["data"]["subscriptions_list"]
        .as_array()
        .map(|list| list.iter().filter_map(|s| s["subject"].as_str()).collect())
        .unwrap_or_default();
    assert!(subjects.contains(&"in.a"), "{subsz}");

    let info = request_json(&sys, "$SYS.REQ.ACCOUNT.B.INFO", "").await;
    assert_eq!(info["data"]["account_name"], "B");

    let conns = request_json(&sys, "$SYS.REQ.ACCOUNT.B.CONNS", "").await;
    assert_eq!(conns["acc"], "B");
    assert_eq!(conns["conns"], 1);
}

#[tokio::test]
async fn statsz_is_published_periodically_and_shutdown_is_announced() {
    let config = Config::new(ACCOUNTS);
    let mut server = start(&config).await;
    let sys = user(&server, "sys").await;
    let mut statsz = sys.subscribe("$SYS.SERVER.*.STATSZ").await.unwrap();
    let mut shutdown = sys.subscribe("$SYS.SERVER.*.SHUTDOWN").await.unwrap();
    settle(&sys).await;
    let message = within_for(Duration::from_secs(15), "periodic statsz", statsz.next())
        .await
        .expect("statsz");
    let body: Value = serde_json::from_slice(&message.payload).unwrap();
    let id = body["server"]["id"].as_str().unwrap().to_string();
    assert_eq!(message.subject.as_str(), format!("$SYS.SERVER.{id}.STATSZ"));

    // SIGTERM: the server announces its shutdown before closing connections.
    let pid = server.pid().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let message = within("shutdown event", shutdown.next())
        .await
        .expect("shutdown event");
    assert_eq!(
        message.subject.as_str(),
        format!("$SYS.SERVER.{id}.SHUTDOWN")
    );
    assert!(server.wait_for_exit(Duration::from_secs(10)).await);
}

#[tokio::test]
async fn a_system_account_is_created_when_none_is_configured() {
    // `$SYS` declared with users but not named: it is still the system account.
    let config = Config::new(
        r#"
accounts {
  $SYS { users: [ { user: sys, password: sys } ] }
  A { users: [ { user: a, password: a } ] }
}
"#,
    );
    let server = start(&config).await;
    let sys = user(&server, "sys").await;
    let statsz = request_json(&sys, "$SYS.REQ.SERVER.PING", "").await;
    assert!(statsz["statsz"]["connections"].as_u64().unwrap() >= 1);
    // An ordinary account has no such service.
    let a = user(&server, "a").await;
    let answer = within(
        "request from A",
        a.request("$SYS.REQ.SERVER.PING", "".into()),
    )
    .await;
    assert!(answer.is_err(), "account A reached the system service");
}

#[tokio::test]
async fn an_accounts_jsz_reports_its_streams() {
    let store = tempfile::tempdir().unwrap();
    let config = Config::new(&format!(
        r#"
jetstream {{ store_dir: "{}" }}
accounts {{
  SYS {{ users: [ {{ user: sys, password: sys }} ] }}
  A {{ jetstream: enabled, users: [ {{ user: a, password: a }} ] }}
  B {{ users: [ {{ user: b, password: b }} ] }}
}}
system_account: SYS
"#,
        store.path().display()
    ));
    let server = start(&config).await;
    let a = user(&server, "a").await;
    let context = async_nats::jetstream::new(a);
    let stream = async_nats::jetstream::stream::Config {
        name: "TASKS".to_string(),
        subjects: vec!["tasks.>".to_string()],
        ..Default::default()
    };
    within("create stream", context.create_stream(stream))
        .await
        .unwrap();
    let sys = user(&server, "sys").await;
    let jsz = request_json(&sys, "$SYS.REQ.ACCOUNT.A.JSZ", r#"{"streams":true}"#).await;
    assert_eq!(jsz["data"]["name"], "A", "{jsz}");
    assert_eq!(jsz["data"]["stream_detail"][0]["name"], "TASKS");
    let disabled = request_json(&sys, "$SYS.REQ.ACCOUNT.B.JSZ", "").await;
    assert_eq!(disabled["error"]["code"], 500, "{disabled}");
}

#[tokio::test]
async fn every_account_can_ask_about_itself() {
    let config = Config::new(ACCOUNTS);
    let server = start(&config).await;
    let a = user(&server, "a").await;
    let _b = user(&server, "b").await;
    for subject in ["$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.SERVER.PING.CONNZ"] {
        let connz = request_json(&a, subject, r#"{"auth":true}"#).await;
        // A's own connection only: B's is in another account.
        assert_eq!(connz["data"]["num_connections"], 1, "{subject}: {connz}");
        assert_eq!(connz["data"]["connections"][0]["account"], "A");
    }
    let statz = request_json(&a, "$SYS.REQ.ACCOUNT.PING.STATZ", "").await;
    assert_eq!(statz["data"]["account_statz"][0]["acc"], "A", "{statz}");
    // The global account has them too, with no configuration at all.
    let plain = TestServer::start().await;
    let client = plain.connect().await;
    let connz = request_json(&client, "$SYS.REQ.ACCOUNT.PING.CONNZ", "").await;
    assert_eq!(connz["data"]["num_connections"], 1, "{connz}");
}
