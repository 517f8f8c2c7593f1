//! Subject mappings (`mappings {}`) end to end with async-nats: wildcard reordering,
//! weighted splits, the share weights leave (to the source, or dropped when the source is
//! listed), publish permissions on the mapped subject, JetStream storing the mapped subject,
//! reload under a connected client, and nats-server's error for weights over 100.

mod common;

use async_nats::jetstream;
use common::{settle, within, ConfigFile, TestServer};
use futures::StreamExt;
use std::future::IntoFuture;
use std::time::Duration;

/// Publishes `count` messages on `subject` and waits until the server has routed them all.
async fn publish_many(client: &async_nats::Client, subject: &str, count: usize) {
    for i in 0..count {
        within(
            "publish",
            client.publish(subject.to_string(), i.to_string().into()),
        )
        .await
        .unwrap();
    }
    settle(client).await;
}

/// Counts what `subscriber` holds now (everything routed before the last `settle` arrives
/// within the quiet period).
async fn count_received(subscriber: &mut async_nats::Subscriber) -> usize {
    let mut count = 0;
    while let Ok(Some(_)) =
        tokio::time::timeout(Duration::from_millis(300), subscriber.next()).await
    {
        count += 1;
    }
    count
}

/// A server started with `config` and a client subscribed to each of `subjects`.
struct Setup {
    config: ConfigFile,
    server: TestServer,
    client: async_nats::Client,
}

async fn start(config: &str, subjects: &[&str]) -> (Setup, Vec<async_nats::Subscriber>) {
    let config = ConfigFile::new(config);
    let server = TestServer::start_with(&["-c", config.arg()]).await;
    let client = server.connect().await;
    let mut subscribers = Vec::new();
    for subject in subjects {
        subscribers.push(client.subscribe(subject.to_string()).await.unwrap());
    }
    settle(&client).await;
    let setup = Setup {
        config,
        server,
        client,
    };
    (setup, subscribers)
}

#[tokio::test]
async fn wildcard_tokens_are_reordered() {
    let config = "mappings { \"foo.*.*\": \"bar.$2.$1\" }\n";
    let (setup, subscribers) = start(config, &["bar.>", "foo.>"]).await;
    let [mut mapped, mut original] = subscribers.try_into().unwrap();
    let client = &setup.client;
    client.publish("foo.a.b", "hello".into()).await.unwrap();
    let message = within("mapped message", mapped.next()).await.unwrap();
    assert_eq!(message.subject.as_str(), "bar.b.a");
    assert_eq!(message.payload, "hello");
    // Subjects the source does not match pass unchanged; the original subject gets nothing.
    client.publish("foo.a", "as is".into()).await.unwrap();
    let message = within("unmapped message", original.next()).await.unwrap();
    assert_eq!(message.subject.as_str(), "foo.a");
    settle(client).await;
    assert_eq!(count_received(&mut original).await, 0);
}

#[tokio::test]
async fn weights_split_traffic_80_20() {
    let config =
        "mappings {\n  foo: [{destination: a, weight: 80%}, {destination: b, weight: 20}]\n}\n";
    let (setup, subscribers) = start(config, &["a", "b", "foo"]).await;
    let [mut a, mut b, mut foo] = subscribers.try_into().unwrap();
    let client = &setup.client;
    publish_many(client, "foo", 10_000).await;
    let (to_a, to_b) = (count_received(&mut a).await, count_received(&mut b).await);
    assert_eq!(to_a + to_b, 10_000, "a {to_a}, b {to_b}");
    assert!((7_700..=8_300).contains(&to_a), "a got {to_a} of 10000");
    assert_eq!(count_received(&mut foo).await, 0);
}

#[tokio::test]
async fn weights_under_100_send_the_rest_on_or_drop_it() {
    let config = "mappings {\n  flaky: [{destination: flaky, weight: 50}]\n  \
                  half: [{destination: other, weight: 50}]\n}\n";
    let (setup, subscribers) = start(config, &["flaky", "half", "other"]).await;
    let [mut flaky, mut half, mut other] = subscribers.try_into().unwrap();
    let client = &setup.client;
    // The source listed as a destination: the rest is dropped (chaos testing).
    publish_many(client, "flaky", 2_000).await;
    let kept = count_received(&mut flaky).await;
    assert!((800..=1_200).contains(&kept), "kept {kept} of 2000");
    // Not listed: the rest goes on to the source subject, as nats-server does.
    publish_many(client, "half", 2_000).await;
    let (to_other, to_half) = (
        count_received(&mut other).await,
        count_received(&mut half).await,
    );
    assert_eq!(to_other + to_half, 2_000);
    assert!((800..=1_200).contains(&to_other), "other got {to_other}");
}

#[tokio::test]
async fn publish_permissions_apply_to_the_mapped_subject() {
    let config = r#"mappings { "src.*": "mapped.$1", "mapped.secret": "forbidden" }
authorization {
  users: [{user: a, password: a, permissions: {publish: ["mapped.>", "_natrium_test.>"], subscribe: ">"}}]
}
no_auth_user: a
"#;
    let (setup, subscribers) = start(config, &["mapped.>", "src.>", "forbidden"]).await;
    let [mut mapped, mut unmapped, mut forbidden] = subscribers.try_into().unwrap();
    let client = &setup.client;
    // `src.x` is not allowed, but nats-server maps first and checks `mapped.x`.
    client.publish("src.x", "in".into()).await.unwrap();
    // `mapped.secret` is allowed, but maps to a subject the user may not publish to.
    client.publish("mapped.secret", "out".into()).await.unwrap();
    settle(client).await;
    let message = within("mapped message", mapped.next()).await.unwrap();
    assert_eq!(message.subject.as_str(), "mapped.x");
    assert_eq!(count_received(&mut mapped).await, 0);
    assert_eq!(count_received(&mut unmapped).await, 0);
    assert_eq!(count_received(&mut forbidden).await, 0);
}

#[tokio::test]
async fn jetstream_stores_the_mapped_subject() {
    let store = std::env::temp_dir().join(format!("natrium-mapping-js-{}", std::process::id()));
    let config = ConfigFile::new("mappings { \"in.*\": \"orders.$1\" }\n");
    let store_dir = store.to_str().unwrap();
    let server = TestServer::start_with(&["-c", config.arg(), "-js", "-sd", store_dir]).await;
    let client = server.connect().await;
    let context = jetstream::new(client);
    let mut stream = within(
        "create stream",
        context.create_stream(jetstream::stream::Config {
            name: "ORDERS".into(),
            subjects: vec!["orders.>".into()],
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let ack = within("publish", context.publish("in.42", "order".into()))
        .await
        .unwrap();
    let ack = within("ack", ack.into_future()).await.unwrap();
    assert_eq!(ack.stream, "ORDERS");
    let stored = within("get", stream.get_raw_message(ack.sequence))
        .await
        .unwrap();
    assert_eq!(stored.subject.as_str(), "orders.42");
    assert_eq!(
        within("info", stream.info()).await.unwrap().state.messages,
        1
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test]
async fn reload_changes_mappings_under_a_connected_client() {
    let (setup, subscribers) = start("mappings { foo: first }\n", &["first", "second"]).await;
    let [mut first, mut second] = subscribers.try_into().unwrap();
    let client = &setup.client;
    client.publish("foo", "one".into()).await.unwrap();
    let message = within("before reload", first.next()).await.unwrap();
    assert_eq!(message.payload, "one");

    setup.config.rewrite("mappings { foo: second }\n");
    // SAFETY: kill(2) on the child process this test started; no memory is shared.
    assert_eq!(
        unsafe { libc::kill(setup.server.pid() as i32, libc::SIGHUP) },
        0
    );
    // The same connection sees the new destination once the reload is in force.
    let moved = within("reload takes effect", async {
        loop {
            client.publish("foo", "two".into()).await.unwrap();
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), second.next()).await
            {
                return message;
            }
        }
    })
    .await;
    assert_eq!(moved.subject.as_str(), "second");
    assert_eq!(moved.payload, "two");
}

/// The newest nats-server's text; 2.9.10 trips over its own error formatting here
/// ("interface conversion: interface {} is []interface {}, not string").
#[test]
fn weights_over_100_are_a_config_error() {
    let config = ConfigFile::new(
        "mappings {\n  foo: [{destination: a, weight: 80%}, {destination: b, weight: 30%}]\n}\n",
    );
    let output = std::process::Command::new(common::server_binary())
        .args(["-t", "-c", config.arg()])
        .output()
        .expect("run natrium -t");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(":2:8: Error adding mapping for \"foo\" : total weight needs to be <= 100"),
        "{stderr}"
    );
}

#[tokio::test]
async fn each_account_maps_with_its_own_table() {
    let config = ConfigFile::new(
        r#"
accounts {
  A { users: [ { user: a, password: a } ], mappings { "orders.*": "a.orders.$1" } }
  B { users: [ { user: b, password: b } ] }
}
"#,
    );
    let server = TestServer::start_with(&["-c", config.arg()]).await;
    let login = |user: &str| {
        async_nats::ConnectOptions::with_user_and_password(user.to_string(), user.to_string())
    };
    let a = server.connect_with(login("a")).await;
    let b = server.connect_with(login("b")).await;
    let mut a_mapped = a.subscribe("a.orders.*").await.unwrap();
    let mut b_plain = b.subscribe("orders.*").await.unwrap();
    settle(&a).await;
    settle(&b).await;
    publish_many(&a, "orders.new", 3).await;
    publish_many(&b, "orders.new", 2).await;
    assert_eq!(
        count_received(&mut a_mapped).await,
        3,
        "A's mapping applies"
    );
    assert_eq!(
        count_received(&mut b_plain).await,
        2,
        "B has no mappings, and A's mapped messages stay in A"
    );
}
