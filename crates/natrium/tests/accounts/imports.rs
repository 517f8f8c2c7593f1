//! Stream and service exports and imports: messages cross accounts only where an import
//! says, under its subject; requests reach the exporter's responders and their answers come
//! back to the requester, once for a singleton.

use crate::common::{settle, within};
use crate::{login, reload, start, Config};
use futures::StreamExt;
use std::time::Duration;

/// How long a test waits to be sure something does not arrive.
const SILENCE: Duration = Duration::from_millis(300);

async fn next_payload(subscriber: &mut async_nats::Subscriber) -> (String, String) {
    let message = within("a delivery", subscriber.next())
        .await
        .expect("message");
    (
        message.subject.to_string(),
        String::from_utf8_lossy(&message.payload).into_owned(),
    )
}

async fn assert_silent(subscriber: &mut async_nats::Subscriber, what: &str) {
    let extra = tokio::time::timeout(SILENCE, subscriber.next()).await;
    assert!(extra.is_err(), "{what}: {extra:?}");
}

const STREAMS: &str = r#"
accounts {
  A {
    users: [{user: a, password: a}]
    exports: [{stream: "foo.>"}, {stream: "private.>", accounts: [B]}]
  }
  B {
    users: [{user: b, password: b}]
    imports: [
      {stream: {account: A, subject: "foo.>"}, to: "bar.>"}
      {stream: {account: A, subject: "private.>"}}
    ]
    exports: [{stream: "bar.>"}]
  }
  C {
    users: [{user: c, password: c}]
    imports: [
      {stream: {account: A, subject: "foo.*"}, prefix: "pre"}
      {stream: {account: B, subject: "bar.>"}}
    ]
  }
}
"#;

#[tokio::test]
async fn stream_imports_deliver_under_their_subjects_and_only_one_way() {
    let config = Config::new(STREAMS);
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let b = login(&server, "b").await;
    let c = login(&server, "c").await;
    let mut a_bar = a.subscribe("bar.>").await.expect("subscribe");
    let mut b_bar = b.subscribe("bar.>").await.expect("subscribe");
    let mut b_foo = b.subscribe("foo.>").await.expect("subscribe");
    let mut b_private = b.subscribe("private.>").await.expect("subscribe");
    let mut c_pre = c.subscribe("pre.foo.*").await.expect("subscribe");
    let mut c_bar = c.subscribe("bar.>").await.expect("subscribe");
    for client in [&a, &b, &c] {
        settle(client).await;
    }

    a.publish("foo.x", "one".into()).await.expect("publish");
    a.publish("private.y", "two".into()).await.expect("publish");
    a.flush().await.expect("flush");
    assert_eq!(
        next_payload(&mut b_bar).await,
        ("bar.x".into(), "one".into())
    );
    assert_eq!(
        next_payload(&mut b_private).await,
        ("private.y".into(), "two".into())
    );
    assert_eq!(
        next_payload(&mut c_pre).await,
        ("pre.foo.x".into(), "one".into())
    );
    assert_silent(&mut b_foo, "B imported foo.> as bar.>").await;

    // Imports go one way: B's own publish on bar.x stays out of A.
    b.publish("bar.z", "from B".into()).await.expect("publish");
    b.flush().await.expect("flush");
    assert_eq!(
        next_payload(&mut b_bar).await,
        ("bar.z".into(), "from B".into())
    );
    // C imports B's "bar.>": B's own messages, not those B imported from A (nats-server's
    // stream imports do not chain).
    assert_eq!(
        next_payload(&mut c_bar).await,
        ("bar.z".into(), "from B".into())
    );
    assert_silent(&mut a_bar, "A imports nothing").await;
}

fn services(response_type: &str, threshold: &str) -> String {
    format!(
        r#"
accounts {{
  A {{
    users: [{{user: a, password: a}}]
    exports: [{{service: "req.>", response_type: {response_type}, response_threshold: "{threshold}"}}]
  }}
  B {{
    users: [{{user: b, password: b}}]
    imports: [
      {{service: {{account: A, subject: "req.foo"}}, to: "local.foo"}}
      {{service: {{account: A, subject: "req.*"}}, to: "any.*"}}
    ]
  }}
}}
"#
    )
}

/// A responder in A answering every request on `subject` `answers` times, after `delay`.
async fn responder(
    client: async_nats::Client,
    subject: &str,
    answers: usize,
    delay: Duration,
) -> tokio::task::JoinHandle<Vec<(String, String)>> {
    let mut requests = client
        .subscribe(subject.to_string())
        .await
        .expect("subscribe");
    settle(&client).await;
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Some(request)) =
            tokio::time::timeout(Duration::from_secs(3), requests.next()).await
        {
            let reply = request.reply.clone().expect("a reply subject");
            seen.push((request.subject.to_string(), reply.to_string()));
            tokio::time::sleep(delay).await;
            for n in 0..answers {
                let answer = format!("{} #{n}", String::from_utf8_lossy(&request.payload));
                client
                    .publish(reply.clone(), answer.into())
                    .await
                    .expect("answer");
            }
            client.flush().await.expect("flush");
        }
        seen
    })
}

#[tokio::test]
async fn a_service_import_reaches_the_exporter_and_answers_come_back() {
    let config = Config::new(&services("singleton", "2m"));
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let answering = responder(a.clone(), "req.>", 1, Duration::ZERO).await;
    let b = login(&server, "b").await;
    let answer = within("request", b.request("local.foo", "hi".into()))
        .await
        .expect("an answer");
    assert_eq!(&answer.payload[..], b"hi #0");
    let answer = within("wildcard request", b.request("any.bar", "yo".into()))
        .await
        .expect("an answer");
    assert_eq!(&answer.payload[..], b"yo #0");
    // B's own subjects do not reach A otherwise.
    let error = b
        .request("req.foo", "direct".into())
        .await
        .expect_err("no import");
    assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
    drop(a);
    let seen = answering.await.expect("responder");
    let subjects: Vec<&str> = seen.iter().map(|(subject, _)| subject.as_str()).collect();
    assert_eq!(subjects, ["req.foo", "req.bar"]);
    for (_, reply) in &seen {
        let tokens: Vec<&str> = reply.split('.').collect();
        assert_eq!(tokens.len(), 3, "{reply}");
        assert_eq!(tokens[0], "_R_", "{reply}");
        assert_eq!((tokens[1].len(), tokens[2].len()), (6, 6), "{reply}");
    }
}

/// Sends one request from B with its own inbox and collects what comes back.
async fn answers_to_one_request(b: &async_nats::Client) -> Vec<String> {
    let inbox = b.new_inbox();
    let mut replies = b.subscribe(inbox.clone()).await.expect("subscribe");
    settle(b).await;
    b.publish_with_reply("local.foo", inbox, "q".into())
        .await
        .expect("publish");
    b.flush().await.expect("flush");
    let mut got = Vec::new();
    while let Ok(Some(message)) = tokio::time::timeout(SILENCE * 2, replies.next()).await {
        got.push(String::from_utf8_lossy(&message.payload).into_owned());
    }
    got
}

#[tokio::test]
async fn a_singleton_gets_one_answer_and_a_stream_many_until_its_threshold() {
    let config = Config::new(&services("singleton", "2m"));
    let server = start(&config, &[]).await;
    let _answering = responder(login(&server, "a").await, "req.foo", 2, Duration::ZERO).await;
    let b = login(&server, "b").await;
    assert_eq!(answers_to_one_request(&b).await, ["q #0"]);

    let config = Config::new(&services("stream", "2m"));
    let server = start(&config, &[]).await;
    let _answering = responder(login(&server, "a").await, "req.foo", 2, Duration::ZERO).await;
    let b = login(&server, "b").await;
    assert_eq!(answers_to_one_request(&b).await, ["q #0", "q #1"]);

    let config = Config::new(&services("chunked", "100ms"));
    let server = start(&config, &[]).await;
    let late = Duration::from_millis(300);
    let _answering = responder(login(&server, "a").await, "req.foo", 2, late).await;
    let b = login(&server, "b").await;
    assert!(
        answers_to_one_request(&b).await.is_empty(),
        "answers after the response threshold are dropped"
    );
}

/// nats-server 2.9 counts the import itself as a delivery: with nobody answering in the
/// exporter, the requester times out rather than hearing "no responders".
#[tokio::test]
async fn a_service_nobody_answers_times_out() {
    let config = Config::new(&services("singleton", "2m"));
    let server = start(&config, &[]).await;
    let b = login(&server, "b").await;
    let request = async_nats::Request::new()
        .payload("anyone?".into())
        .timeout(Some(Duration::from_millis(500)));
    let error = within("request", b.send_request("local.foo", request))
        .await
        .expect_err("nobody answers");
    assert_eq!(error.kind(), async_nats::RequestErrorKind::TimedOut);
}

/// A stream in the importer stores what a stream import brings in, and a service import
/// reaches another account's JetStream API (nats-server's usual way to share a stream).
#[tokio::test]
async fn imports_feed_and_reach_jetstream_in_other_accounts() {
    let store = tempfile::tempdir().expect("store directory");
    let config = Config::new(&format!(
        r#"
jetstream {{ store_dir: "{}" }}
accounts {{
  A {{
    users: [{{user: a, password: a}}]
    exports: [{{stream: "events.>"}}, {{service: "$JS.API.STREAM.INFO.*"}}]
  }}
  B {{
    users: [{{user: b, password: b}}]
    jetstream: enabled
    imports: [{{stream: {{account: A, subject: "events.>"}}, to: "copied.>"}}]
    exports: [{{service: "$JS.API.STREAM.INFO.*"}}]
  }}
  C {{
    users: [{{user: c, password: c}}]
    imports: [{{service: {{account: B, subject: "$JS.API.STREAM.INFO.COPIES"}}, to: "copies.info"}}]
  }}
}}
"#,
        store.path().display()
    ));
    let server = start(&config, &[]).await;
    let b = login(&server, "b").await;
    let js = async_nats::jetstream::new(b.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "COPIES".into(),
        subjects: vec!["copied.>".into()],
        ..Default::default()
    })
    .await
    .expect("stream in B");
    let a = login(&server, "a").await;
    for n in 0..3 {
        a.publish(format!("events.{n}"), "e".into())
            .await
            .expect("publish");
    }
    a.flush().await.expect("flush");
    within("the imported messages are stored", async {
        loop {
            let mut stream = js.get_stream("COPIES").await.expect("stream");
            if stream.info().await.expect("info").state.messages == 3 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let message = js
        .get_stream("COPIES")
        .await
        .expect("stream")
        .get_raw_message(1)
        .await
        .expect("first message");
    assert_eq!(message.subject.as_str(), "copied.0");

    let c = login(&server, "c").await;
    let answer = within("C asks B's JetStream", c.request("copies.info", "".into()))
        .await
        .expect("an answer");
    let info: serde_json::Value = serde_json::from_slice(&answer.payload).expect("JSON");
    assert_eq!(info["config"]["name"], "COPIES", "{info}");
    assert_eq!(info["state"]["messages"], 3, "{info}");
}

/// `sent` of each account in `/accstatz` (what its clients were delivered).
async fn sent_by_account(http_port: u16) -> Vec<(String, u64)> {
    let statz = crate::http_json(http_port, "/accstatz?unused=1").await;
    let mut sent: Vec<(String, u64)> = statz["account_statz"]
        .as_array()
        .expect("account_statz")
        .iter()
        .filter(|s| s["acc"] == "A" || s["acc"] == "B")
        .map(|s| {
            let acc = s["acc"].as_str().unwrap_or_default().to_string();
            (acc, s["sent"]["msgs"].as_u64().unwrap_or(0))
        })
        .collect();
    sent.sort();
    sent
}

/// nats-server counts a delivery to the account the message was published in: a service
/// import's request to the exporter and its answer to the importer, and a stream import's
/// deliveries to the exporter (its shadow subscriptions match there).
#[tokio::test]
async fn import_deliveries_count_to_the_account_they_were_published_in() {
    let config = Config::new(
        r#"
accounts {
  A {
    users: [{user: a, password: a}]
    exports: [{stream: "foo.>"}, {service: "req.>"}]
  }
  B {
    users: [{user: b, password: b}]
    imports: [
      {stream: {account: A, subject: "foo.>"}}
      {service: {account: A, subject: "req.foo"}, to: "local.foo"}
    ]
  }
}
"#,
    );
    let http_port = crate::common::free_port();
    let server = start(&config, &["-m", &http_port.to_string()]).await;
    let a = login(&server, "a").await;
    let b = login(&server, "b").await;
    let mut b_all = b.subscribe("foo.>").await.expect("subscribe");
    let mut b_one = b.subscribe("foo.x").await.expect("subscribe");
    let mut a_requests = a.subscribe("req.foo").await.expect("subscribe");
    let inbox = b.new_inbox();
    let mut b_answers = b.subscribe(inbox.clone()).await.expect("subscribe");
    settle(&a).await;
    settle(&b).await;
    let sent = || sent_by_account(http_port);
    let start = sent().await;
    let delta = |now: Vec<(String, u64)>| -> Vec<u64> {
        now.iter().zip(&start).map(|(n, s)| n.1 - s.1).collect()
    };

    a.publish("foo.x", "streamed".into())
        .await
        .expect("publish");
    a.flush().await.expect("flush");
    next_payload(&mut b_all).await;
    next_payload(&mut b_one).await;
    assert_eq!(delta(sent().await), [2, 0], "stream import: A published");

    b.publish_with_reply("local.foo", inbox, "q".into())
        .await
        .expect("publish");
    b.flush().await.expect("flush");
    let request = within("the request", a_requests.next())
        .await
        .expect("request");
    assert_eq!(delta(sent().await), [3, 0], "the request counts in A");

    let reply = request.reply.expect("a reply subject");
    a.publish(reply, "answer".into()).await.expect("answer");
    a.flush().await.expect("flush");
    next_payload(&mut b_answers).await;
    assert_eq!(delta(sent().await), [3, 1], "the answer counts in B");
}

#[tokio::test]
async fn the_exporters_mappings_apply_to_imported_requests() {
    let config = Config::new(
        r#"
accounts {
  A {
    users: [{user: a, password: a}]
    exports: [{service: "req.>"}]
    mappings { "req.v1": "req.v2" }
  }
  B {
    users: [{user: b, password: b}]
    imports: [{service: {account: A, subject: "req.v1"}, to: "ask"}]
  }
}
"#,
    );
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let answering = responder(a.clone(), "req.>", 1, Duration::ZERO).await;
    let b = login(&server, "b").await;
    let answer = within("request", b.request("ask", "hi".into()))
        .await
        .expect("an answer");
    assert_eq!(&answer.payload[..], b"hi #0");
    drop(a);
    let seen = answering.await.expect("responder");
    let subjects: Vec<&str> = seen.iter().map(|(subject, _)| subject.as_str()).collect();
    assert_eq!(subjects, ["req.v2"], "A's mapping moved the request");
}

/// A's `ORIGIN` stream, and B importing A's JetStream API under `$JS.A.API` (with the
/// delivery and flow control subjects nats-server's cross-account copies need).
fn jetstream_across_accounts(store: &std::path::Path) -> String {
    format!(
        r#"
jetstream {{ store_dir: "{}" }}
accounts {{
  A {{
    jetstream: enabled
    users: [{{user: a, password: a}}]
    exports: [{{service: "$JS.API.>"}}, {{service: "$JS.FC.>"}}, {{stream: "deliver.b.>"}}]
  }}
  B {{
    jetstream: enabled
    users: [{{user: b, password: b}}]
    imports: [
      {{service: {{account: A, subject: "$JS.API.>"}}, to: "$JS.A.API.>"}}
      {{service: {{account: A, subject: "$JS.FC.>"}}}}
      {{stream: {{account: A, subject: "deliver.b.>"}}}}
    ]
  }}
}}
"#,
        store.display()
    )
}

/// Creates A's `ORIGIN` stream on `orders.>` and stores `count` orders in it.
async fn origin_with_orders(a: &async_nats::Client, count: usize) {
    let created = a
        .request(
            "$JS.API.STREAM.CREATE.ORIGIN",
            r#"{"name":"ORIGIN","subjects":["orders.>"]}"#.into(),
        )
        .await
        .expect("origin");
    assert!(!String::from_utf8_lossy(&created.payload).contains("error"));
    for n in 0..count {
        let ack = a
            .request("orders.new", format!("order {n}").into())
            .await
            .expect("pub ack");
        assert!(String::from_utf8_lossy(&ack.payload).contains("ORIGIN"));
    }
}

/// The number of messages in `stream`, as its INFO says.
async fn stream_messages(client: &async_nats::Client, stream: &str) -> u64 {
    let answer = client
        .request(format!("$JS.API.STREAM.INFO.{stream}"), "".into())
        .await
        .expect("stream info");
    let info: serde_json::Value = serde_json::from_slice(&answer.payload).expect("JSON");
    info["state"]["messages"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_mirror_and_a_source_copy_another_accounts_stream() {
    let store = tempfile::tempdir().expect("store directory");
    let config = Config::new(&jetstream_across_accounts(store.path()));
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let b = login(&server, "b").await;
    origin_with_orders(&a, 3).await;
    let external = r#"{"api":"$JS.A.API","deliver":"deliver.b"}"#;
    for (name, kind) in [("M", "mirror"), ("S", "sources")] {
        let origin = format!(r#"{{"name":"ORIGIN","external":{external}}}"#);
        let origin = if kind == "mirror" {
            origin
        } else {
            format!("[{origin}]")
        };
        let body = format!(r#"{{"name":"{name}","{kind}":{origin}}}"#);
        let answer = b
            .request(format!("$JS.API.STREAM.CREATE.{name}"), body.into())
            .await
            .expect("create in B");
        let text = String::from_utf8_lossy(&answer.payload);
        assert!(!text.contains("\"error\""), "{text}");
    }
    within("copies in B", async {
        while stream_messages(&b, "M").await < 3 || stream_messages(&b, "S").await < 3 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // A later message follows.
    a.request("orders.late", "late".into())
        .await
        .expect("pub ack");
    within("the late copy", async {
        while stream_messages(&b, "M").await < 4 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_reload_that_adds_the_jetstream_import_lets_a_mirror_catch_up() {
    let store = tempfile::tempdir().expect("store directory");
    let with_import = jetstream_across_accounts(store.path());
    let import = r#"{service: {account: A, subject: "$JS.API.>"}, to: "$JS.A.API.>"}"#;
    let without_import = with_import.replace(import, "");
    assert_ne!(
        with_import, without_import,
        "the import line is in the config"
    );
    let config = Config::new(&without_import);
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let b = login(&server, "b").await;
    origin_with_orders(&a, 2).await;
    let body = r#"{"name":"M","mirror":{"name":"ORIGIN","external":{"api":"$JS.A.API","deliver":"deliver.b"}}}"#;
    let answer = b
        .request("$JS.API.STREAM.CREATE.M", body.into())
        .await
        .expect("create in B");
    let text = String::from_utf8_lossy(&answer.payload);
    assert!(!text.contains("\"error\""), "{text}");
    // Without the import, B cannot reach A's streams: three idle ticks copy nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stream_messages(&b, "M").await, 0);

    config.rewrite(&with_import);
    reload(&server).await;
    within("the mirror catches up after the reload", async {
        while stream_messages(&b, "M").await < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}
