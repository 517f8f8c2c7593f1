//! Users bound to their accounts at CONNECT: isolation, `no_auth_user`, the account limits
//! with nats-server's errors, monitoring per account, reload, and JetStream in an account.

use crate::common::{free_port, settle, within, Ending};
use crate::{http_json, login, reload, start, Config};
use futures::StreamExt;
use std::time::Duration;

/// Two accounts and users in `$G` (the `authorization` block).
const TWO_ACCOUNTS: &str = r#"
authorization { users: [{user: g, password: g}] }
accounts {
  A { users: [{user: a, password: a}, {user: a2, password: a2}] }
  B { users: [{user: b, password: b}] }
}
"#;

#[tokio::test]
async fn the_same_subject_in_two_accounts_never_crosses() {
    let config = Config::new(TWO_ACCOUNTS);
    let server = start(&config, &[]).await;
    let mut clients = Vec::new();
    for user in ["a", "a2", "b", "g"] {
        let client = login(&server, user).await;
        let subscriber = client.subscribe("orders").await.expect("subscribe");
        settle(&client).await;
        clients.push((user, client, subscriber));
    }
    for (user, client, _) in &clients {
        client
            .publish("orders", user.as_bytes().to_vec().into())
            .await
            .expect("publish");
        client.flush().await.expect("flush");
    }
    for (user, client, subscriber) in &mut clients {
        settle(client).await;
        let expected: &[&str] = match *user {
            "a" | "a2" => &["a", "a2"],
            "b" => &["b"],
            _ => &["g"],
        };
        let mut got = Vec::new();
        for _ in expected {
            let message = within("delivery", subscriber.next())
                .await
                .expect("message");
            got.push(String::from_utf8_lossy(&message.payload).into_owned());
        }
        // Two publishers: their messages may interleave either way.
        got.sort();
        assert_eq!(got, expected, "what {user} received");
        let extra = tokio::time::timeout(Duration::from_millis(200), subscriber.next()).await;
        assert!(
            extra.is_err(),
            "{user} received from another account: {extra:?}"
        );
    }
}

#[tokio::test]
async fn no_auth_user_is_bound_to_its_account() {
    let config = Config::new(&format!("{TWO_ACCOUNTS}\nno_auth_user: b\n"));
    let server = start(&config, &[]).await;
    let b = login(&server, "b").await;
    let mut listener = b.subscribe("hello").await.expect("subscribe");
    settle(&b).await;
    let anonymous = server.connect().await;
    anonymous
        .publish("hello", "anyone".into())
        .await
        .expect("publish");
    anonymous.flush().await.expect("flush");
    let message = within("delivery in B", listener.next())
        .await
        .expect("message");
    assert_eq!(&message.payload[..], b"anyone");
}

const LIMITED: &str = r#"
accounts {
  A { users: [{user: a, password: a}], limits { max_connections: 1, max_subscriptions: 2, max_payload: 10 } }
  B { users: [{user: b, password: b}], limits { max_conn: 2, max_subs: 1 } }
}
"#;

fn connect_as(user: &str) -> Vec<u8> {
    format!(
        "CONNECT {{\"user\":\"{user}\",\"pass\":\"{user}\",\"verbose\":false,\"protocol\":1,\"headers\":true}}\r\nPING\r\n"
    )
    .into_bytes()
}

/// nats-server's answers when an account's limits are reached: a second connection is
/// refused, the third subscription is refused (the connection stays), the first PONG is
/// followed by an INFO with the account's `max_payload`, and a larger publish closes.
#[tokio::test]
async fn account_limits_give_nats_server_errors() {
    let config = Config::new(LIMITED);
    let server = start(&config, &[]).await;
    let mut first = server.raw().await;
    first.send(&connect_as("a")).await;
    first.expect(b"PONG\r\n").await;
    let info = String::from_utf8(first.read_line().await).expect("utf-8");
    assert!(info.starts_with("INFO {"), "{info}");
    assert!(info.contains("\"max_payload\":10,"), "{info}");

    let mut second = server.raw().await;
    second.send(&connect_as("a")).await;
    let (rest, ending) = within("refused", second.read_rest()).await;
    assert_eq!(
        (String::from_utf8_lossy(&rest).as_ref(), ending),
        (
            "-ERR 'maximum account active connections exceeded'\r\n",
            Ending::Closed
        )
    );

    first
        .send(b"SUB x 1\r\nSUB y 2\r\nSUB z 3\r\nPING\r\n")
        .await;
    first
        .expect(b"-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n")
        .await;
    first.send(b"PUB x 10\r\n0123456789\r\nPING\r\n").await;
    first.expect(b"MSG x 1 10\r\n0123456789\r\nPONG\r\n").await;
    first.send(b"PUB x 11\r\nhello world\r\n").await;
    let (rest, ending) = within("payload refused", first.read_rest()).await;
    assert_eq!(
        (String::from_utf8_lossy(&rest).as_ref(), ending),
        ("-ERR 'Maximum Payload Violation'\r\n", Ending::Closed)
    );
}

/// Limits are per account, and a closed connection frees its place.
#[tokio::test]
async fn account_connection_limits_are_per_account() {
    let config = Config::new(LIMITED);
    let server = start(&config, &[]).await;
    let mut b1 = server.raw().await;
    let mut b2 = server.raw().await;
    for b in [&mut b1, &mut b2] {
        b.send(&connect_as("b")).await;
        b.expect(b"PONG\r\n").await;
        b.send(b"SUB x 1\r\nSUB y 2\r\nPING\r\n").await;
        b.expect(b"-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n")
            .await;
    }
    let mut b3 = server.raw().await;
    b3.send(&connect_as("b")).await;
    b3.expect(b"-ERR 'maximum account active connections exceeded'\r\n")
        .await;
    drop(b1);
    within("a freed place", async {
        while !Box::pin(admitted(&server, "b")).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(b2);
}

/// Whether `user` gets a PONG for its CONNECT (rather than an error).
async fn admitted(server: &crate::common::TestServer, user: &str) -> bool {
    let mut client = server.raw().await;
    client.send(&connect_as(user)).await;
    client.read_line().await == b"PONG\r\n"
}

#[tokio::test]
async fn monitoring_lists_and_filters_accounts() {
    let config = Config::new(TWO_ACCOUNTS);
    let http_port = free_port();
    let server = start(&config, &["-m", &http_port.to_string()]).await;
    let a = login(&server, "a").await;
    let _sub = a.subscribe("x").await.expect("subscribe");
    settle(&a).await;
    let b = login(&server, "b").await;
    settle(&b).await;

    let accountz = http_json(http_port, "/accountz").await;
    let names: Vec<&str> = accountz["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for name in ["$G", "A", "B"] {
        assert!(names.contains(&name), "{name} in {accountz}");
    }
    let detail = http_json(http_port, "/accountz?acc=A").await;
    assert_eq!(detail["account_detail"]["account_name"], "A");
    assert_eq!(detail["account_detail"]["client_connections"], 1);

    let connz = http_json(http_port, "/connz?acc=A&auth=1").await;
    assert_eq!(connz["num_connections"], 1, "{connz}");
    assert_eq!(connz["connections"][0]["account"], "A");
    assert_eq!(connz["connections"][0]["authorized_user"], "a");
    let all = http_json(http_port, "/connz?auth=1").await;
    assert_eq!(all["num_connections"], 2, "{all}");

    let statz = http_json(http_port, "/accstatz").await;
    let mut accounts: Vec<(String, u64)> = statz["account_statz"]
        .as_array()
        .expect("account_statz")
        .iter()
        .map(|s| {
            (
                s["acc"].as_str().unwrap_or_default().to_string(),
                s["conns"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    accounts.sort();
    assert_eq!(
        accounts,
        [("A".to_string(), 1), ("B".to_string(), 1)],
        "{statz}"
    );
}

#[tokio::test]
async fn reload_keeps_clients_and_brings_in_new_users_and_accounts() {
    let config = Config::new(TWO_ACCOUNTS);
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let mut sub = a.subscribe("still").await.expect("subscribe");
    settle(&a).await;
    let b = login(&server, "b").await;

    // Same accounts plus a new one; user b moves from B to the new account C.
    config.rewrite(
        r#"
authorization { users: [{user: g, password: g}] }
accounts {
  A { users: [{user: a, password: a}, {user: a2, password: a2}, {user: a3, password: a3}] }
  B { users: [] }
  C { users: [{user: b, password: b}, {user: c, password: c}] }
}
"#,
    );
    reload(&server).await;
    let c = within("new user logs in", async {
        loop {
            let options =
                async_nats::ConnectOptions::with_user_and_password("c".into(), "c".into())
                    .max_reconnects(Some(0));
            if let Ok(client) = async_nats::connect_with_options(server.url(), options).await {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let a3 = login(&server, "a3").await;
    a3.publish("still", "after reload".into())
        .await
        .expect("publish");
    a3.flush().await.expect("flush");
    let message = within("a keeps its subscription", sub.next())
        .await
        .expect("message");
    assert_eq!(&message.payload[..], b"after reload");

    // b was moved: nats-server closes it, and it comes back into C, where c hears it.
    let mut in_c = c.subscribe("moved").await.expect("subscribe");
    settle(&c).await;
    within("b reconnects into C", async {
        loop {
            let _ = b.publish("moved", "b".into()).await;
            let _ = b.flush().await;
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), in_c.next()).await
            {
                return message;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn jetstream_works_in_an_account_and_stays_there() {
    let store = tempfile::tempdir().expect("store directory");
    let config = Config::new(&format!(
        r#"
jetstream {{ store_dir: "{}" }}
accounts {{
  A {{ jetstream: enabled, users: [{{user: a, password: a}}] }}
  B {{ jetstream: {{ max_streams: 1 }}, users: [{{user: b, password: b}}] }}
  C {{ users: [{{user: c, password: c}}] }}
}}
"#,
        store.path().display()
    ));
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let js_a = async_nats::jetstream::new(a.clone());
    js_a.create_stream(async_nats::jetstream::stream::Config {
        name: "ORDERS".into(),
        subjects: vec!["orders.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream in A");
    let ack = js_a
        .publish("orders.1", "in A".into())
        .await
        .expect("publish")
        .await
        .expect("ack from A's stream");
    assert_eq!(ack.stream, "ORDERS");

    // B has its own JetStream (no ORDERS there) and its own stream limit.
    let b = login(&server, "b").await;
    let js_b = async_nats::jetstream::new(b.clone());
    let error = js_b
        .get_stream("ORDERS")
        .await
        .expect_err("A's stream is not in B");
    assert!(error.to_string().contains("stream not found"), "{error}");
    js_b.create_stream(async_nats::jetstream::stream::Config {
        name: "ONE".into(),
        subjects: vec!["orders.>".into()],
        ..Default::default()
    })
    .await
    .expect("B's own stream on the same subjects");
    let refused = js_b
        .create_stream(async_nats::jetstream::stream::Config {
            name: "TWO".into(),
            subjects: vec!["two".into()],
            ..Default::default()
        })
        .await
        .expect_err("B is limited to one stream");
    assert!(
        refused
            .to_string()
            .contains("maximum number of streams reached"),
        "{refused}"
    );
    let ack = js_b
        .publish("orders.1", "in B".into())
        .await
        .expect("publish")
        .await
        .expect("ack from B's stream");
    assert_eq!(ack.stream, "ONE");
    let info = js_a
        .get_stream("ORDERS")
        .await
        .expect("A's stream")
        .info()
        .await
        .expect("info")
        .state
        .messages;
    assert_eq!(info, 1, "B's publish did not reach A's stream");

    // C has no JetStream: a publish to the same subjects reaches no stream.
    let c = login(&server, "c").await;
    let error = c
        .request("orders.1", "in C".into())
        .await
        .expect_err("no stream in C");
    assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
    // Its API requests are answered, in each endpoint's type, with error 10039.
    for (subject, kind) in [
        ("$JS.API.INFO", "account_info_response"),
        ("$JS.API.STREAM.NAMES", "stream_names_response"),
        ("$JS.API.STREAM.CREATE.X", "stream_create_response"),
    ] {
        let answer = c.request(subject, "{}".into()).await.expect("an answer");
        let body: serde_json::Value = serde_json::from_slice(&answer.payload).expect("JSON");
        assert_eq!(body["type"], format!("io.nats.jetstream.api.v1.{kind}"));
        assert_eq!(body["error"]["err_code"], 10039, "{body}");
        assert_eq!(
            body["error"]["description"],
            "JetStream not enabled for account"
        );
    }
}
