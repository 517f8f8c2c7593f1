//! Core NATS through a real client (async-nats): pub/sub, wildcards, queue groups, request/reply,
//! headers, no-responders, echo, auto-unsubscribe, fan-out, max_payload and reconnect.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use async_nats::{Client, HeaderMap, Subscriber};
use bytes::Bytes;
use common::{settle, within, within_for, TestServer, QUIET_PERIOD};
use futures::StreamExt;

/// One wildcard row: a subscription, the subjects it must receive, the subjects it must not.
struct Interest {
    subscription: &'static str,
    matches: &'static [&'static str],
    misses: &'static [&'static str],
}

/// Subject matching rules (https://docs.nats.io/nats-concepts/subjects#wildcards).
const INTERESTS: &[Interest] = &[
    Interest {
        subscription: "foo.bar",
        matches: &["foo.bar"],
        misses: &["foo", "foo.baz", "foo.bar.baz", "foo.barx"],
    },
    Interest {
        subscription: "foo.*",
        matches: &["foo.bar", "foo.baz"],
        misses: &["foo", "foo.bar.baz", "bar.foo", "food.bar"],
    },
    Interest {
        subscription: "*.bar",
        matches: &["foo.bar", "baz.bar"],
        misses: &["bar", "foo.bar.baz", "foo.baz"],
    },
    Interest {
        subscription: "foo.*.baz",
        matches: &["foo.bar.baz", "foo.qux.baz"],
        misses: &["foo.baz", "foo.bar.qux.baz", "foo.bar.baz.qux"],
    },
    Interest {
        subscription: "foo.>",
        matches: &["foo.bar", "foo.bar.baz", "foo.bar.baz.qux"],
        misses: &["foo", "bar.foo", "food.bar"],
    },
    Interest {
        subscription: "*",
        matches: &["foo", "bar"],
        misses: &["foo.bar", "foo.bar.baz"],
    },
    Interest {
        subscription: "*.*.>",
        matches: &["foo.bar.baz", "a.b.c.d"],
        misses: &["foo", "foo.bar"],
    },
    Interest {
        subscription: ">",
        matches: &["foo", "foo.bar", "a.b.c.d"],
        misses: &[],
    },
];

/// Subscribes to `interest.subscription`, publishes every listed subject once, and asserts exactly
/// the matching ones arrive. A last message on a matching subject marks the end, since a single
/// publisher's messages reach a subscriber in order. One connection does both, so the server
/// sees the SUB before the PUBs without a round trip (which `>` would intercept).
async fn check_interest(server: &TestServer, interest: &Interest) {
    let publisher = server.connect().await;
    let mut subscription = within("subscribe", publisher.subscribe(interest.subscription))
        .await
        .expect("subscribe");

    for subject in interest.misses.iter().chain(interest.matches) {
        publish(&publisher, subject, Bytes::from_static(subject.as_bytes())).await;
    }
    publish(&publisher, interest.matches[0], Bytes::from_static(b"end")).await;
    within("flush", publisher.flush()).await.expect("flush");

    let mut received = BTreeSet::new();
    loop {
        let message = within(interest.subscription, subscription.next())
            .await
            .expect("subscription open");
        if message.payload == "end" {
            break;
        }
        assert_eq!(message.payload, message.subject.as_bytes());
        assert!(
            received.insert(message.subject.to_string()),
            "{} received {} twice",
            interest.subscription,
            message.subject
        );
    }
    let expected: BTreeSet<String> = interest.matches.iter().map(|s| s.to_string()).collect();
    assert_eq!(received, expected, "subscription {}", interest.subscription);
}

/// Publishes within the step timeout, naming the subject if it fails.
async fn publish(client: &Client, subject: &str, payload: Bytes) {
    within("publish", client.publish(subject.to_string(), payload))
        .await
        .unwrap_or_else(|error| panic!("publish to {subject}: {error}"));
}

/// Asserts nothing more arrives on `subscription` for a short while.
async fn expect_silence(subscription: &mut Subscriber, what: &str) {
    if let Ok(Some(message)) = tokio::time::timeout(QUIET_PERIOD, subscription.next()).await {
        panic!("{what}: unexpected message on {}", message.subject);
    }
}

#[tokio::test]
async fn wildcards_match_exactly_what_they_should() {
    let server = TestServer::start().await;
    for interest in INTERESTS {
        check_interest(&server, interest).await;
    }
}

/// Receives `total` messages from `members` of one queue group and returns, per member, the
/// message numbers it got; then asserts no member gets anything more.
async fn collect_group(members: Vec<Subscriber>, total: usize) -> Vec<Vec<u32>> {
    let count = members.len();
    let mut merged = futures::stream::select_all(
        members
            .into_iter()
            .enumerate()
            .map(|(index, member)| member.map(move |message| (index, message))),
    );
    let mut per_member = vec![Vec::new(); count];
    for _ in 0..total {
        let (index, message) = within("queue group delivery", merged.next())
            .await
            .expect("members open");
        let text = std::str::from_utf8(&message.payload).expect("UTF-8");
        per_member[index].push(text.parse::<u32>().expect("message number"));
    }
    if let Ok(Some((index, message))) = tokio::time::timeout(QUIET_PERIOD, merged.next()).await {
        panic!("member {index} got an extra message {:?}", message.payload);
    }
    per_member
}

/// Connects `count` clients, each with one member of queue `group` on `subject`, all in place.
async fn queue_members(
    server: &TestServer,
    subject: &str,
    group: &str,
    count: usize,
) -> Vec<Subscriber> {
    let mut members = Vec::new();
    for _ in 0..count {
        let client = server.connect().await;
        let member = within(
            "queue subscribe",
            client.queue_subscribe(subject.to_string(), group.to_string()),
        )
        .await
        .expect("queue subscribe");
        settle(&client).await;
        members.push(member);
    }
    members
}

#[tokio::test]
async fn queue_groups_deliver_once_per_group() {
    const MESSAGES: u32 = 200;
    let server = TestServer::start().await;
    let group_a = queue_members(&server, "work", "a", 2).await;
    let group_b = queue_members(&server, "work", "b", 3).await;
    let plain_client = server.connect().await;
    let plain = within("subscribe", plain_client.subscribe("work"))
        .await
        .expect("subscribe");
    settle(&plain_client).await;

    let publisher = server.connect().await;
    for number in 0..MESSAGES {
        publish(&publisher, "work", number.to_string().into()).await;
    }
    within("flush", publisher.flush()).await.expect("flush");

    let all: BTreeSet<u32> = (0..MESSAGES).collect();
    for (name, members) in [("a", group_a), ("b", group_b), ("plain", vec![plain])] {
        let per_member = collect_group(members, MESSAGES as usize).await;
        let delivered: Vec<u32> = per_member.into_iter().flatten().collect();
        let distinct: BTreeSet<u32> = delivered.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            delivered.len(),
            "group {name}: a message twice"
        );
        assert_eq!(distinct, all, "group {name}: every message once");
    }
}

#[tokio::test]
async fn queue_group_spreads_across_members() {
    const MESSAGES: u32 = 1000;
    let server = TestServer::start().await;
    let members = queue_members(&server, "spread", "workers", 4).await;
    let publisher = server.connect().await;
    for number in 0..MESSAGES {
        publish(&publisher, "spread", number.to_string().into()).await;
    }
    within("flush", publisher.flush()).await.expect("flush");

    let per_member = collect_group(members, MESSAGES as usize).await;
    let counts: Vec<usize> = per_member.iter().map(Vec::len).collect();
    assert!(
        counts.iter().all(|&count| count > 0),
        "every member gets some messages: {counts:?}"
    );
    assert_eq!(counts.iter().sum::<usize>(), MESSAGES as usize);
}

#[tokio::test]
async fn request_reply() {
    let server = TestServer::start().await;
    let responder = server.connect().await;
    let mut requests = within("subscribe", responder.subscribe("service.upper"))
        .await
        .expect("subscribe");
    settle(&responder).await;
    let serve = tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            let reply = request.reply.expect("request carries a reply subject");
            let upper = request.payload.to_ascii_uppercase();
            responder
                .publish(reply, upper.into())
                .await
                .expect("publish reply");
        }
    });

    let requester = server.connect().await;
    for word in ["hello", "natrium", "x"] {
        let response = within("request", requester.request("service.upper", word.into()))
            .await
            .expect("request answered");
        assert_eq!(response.payload, word.to_ascii_uppercase());
    }
    serve.abort();
}

#[tokio::test]
async fn headers_round_trip_with_repeated_keys() {
    let server = TestServer::start().await;
    let client = server.connect().await;
    let mut subscription = within("subscribe", client.subscribe("headers"))
        .await
        .expect("subscribe");
    settle(&client).await;

    let mut headers = HeaderMap::new();
    headers.insert("Single", "one value");
    headers.append("Multi", "first");
    headers.append("Multi", "second");
    within(
        "publish with headers",
        client.publish_with_headers("headers", headers, "body".into()),
    )
    .await
    .expect("publish");

    let message = within("receive", subscription.next())
        .await
        .expect("subscription open");
    assert_eq!(message.payload, "body");
    let received = message.headers.expect("headers delivered");
    assert_eq!(
        received.get("Single").map(|value| value.as_str()),
        Some("one value")
    );
    let multi: Vec<&str> = received
        .get_all("Multi")
        .map(|value| value.as_str())
        .collect();
    assert_eq!(
        multi,
        ["first", "second"],
        "repeated key keeps both values in order"
    );
}

#[tokio::test]
async fn no_responders_fails_fast() {
    let server = TestServer::start().await;
    let client = server
        .connect_with(
            async_nats::ConnectOptions::new().request_timeout(Some(Duration::from_secs(5))),
        )
        .await;
    let started = Instant::now();
    let error = within("request", client.request("nobody.listens", "ping".into()))
        .await
        .expect_err("nobody listens");
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
}

#[tokio::test]
async fn echo_off_hides_own_messages_only() {
    let server = TestServer::start().await;
    let quiet = server
        .connect_with(async_nats::ConnectOptions::new().no_echo())
        .await;
    let other = server.connect().await;
    let mut subscription = within("subscribe", quiet.subscribe("chat"))
        .await
        .expect("subscribe");
    settle(&quiet).await;

    publish(&quiet, "chat", "own".into()).await;
    settle(&quiet).await;
    publish(&other, "chat", "other".into()).await;
    within("flush", other.flush()).await.expect("flush");

    let message = within("receive", subscription.next())
        .await
        .expect("subscription open");
    assert_eq!(message.payload, "other");
    expect_silence(&mut subscription, "no echo").await;
}

#[tokio::test]
async fn unsubscribe_after_delivers_exactly_n() {
    let server = TestServer::start().await;
    let client = server.connect().await;
    let mut subscription = within("subscribe", client.subscribe("limited"))
        .await
        .expect("subscribe");
    within("unsubscribe_after", subscription.unsubscribe_after(3))
        .await
        .expect("unsubscribe_after");
    settle(&client).await;
    for number in 0..5 {
        publish(&client, "limited", format!("{number}").into()).await;
    }
    settle(&client).await;

    for number in 0..3 {
        let message = within("receive", subscription.next())
            .await
            .expect("still subscribed");
        assert_eq!(message.payload, format!("{number}"));
    }
    let end = within("subscription end", subscription.next()).await;
    assert!(end.is_none(), "stream ends after 3 messages");
}

#[tokio::test]
async fn hundred_connections_with_hundred_subscriptions_each() {
    const CONNECTIONS: usize = 100;
    const SUBSCRIPTIONS_PER_CONNECTION: usize = 100;
    // Literal, single-token and full wildcards all match the one published subject.
    const PATTERNS: [&str; 3] = ["fan.out.all", "fan.*.all", "fan.>"];
    let server = TestServer::start().await;

    let clients = within_for(
        Duration::from_secs(30),
        "100 connections",
        futures::future::join_all((0..CONNECTIONS).map(|_| server.connect())),
    )
    .await;
    let mut subscriptions = Vec::with_capacity(CONNECTIONS * SUBSCRIPTIONS_PER_CONNECTION);
    for client in &clients {
        for index in 0..SUBSCRIPTIONS_PER_CONNECTION {
            let pattern = PATTERNS[index % PATTERNS.len()];
            let subscription = within("subscribe", client.subscribe(pattern))
                .await
                .expect("subscribe");
            subscriptions.push(subscription);
        }
    }
    within_for(
        Duration::from_secs(30),
        "settle all subscribers",
        futures::future::join_all(clients.iter().map(settle)),
    )
    .await;

    let publisher = server.connect().await;
    publish(&publisher, "fan.out.all", "to everyone".into()).await;
    within("flush", publisher.flush()).await.expect("flush");

    let received = within_for(
        Duration::from_secs(30),
        "every subscription receives the message",
        futures::future::join_all(
            subscriptions
                .iter_mut()
                .map(|subscription| subscription.next()),
        ),
    )
    .await;
    let per_payload: BTreeMap<Option<Bytes>, usize> =
        received
            .into_iter()
            .fold(BTreeMap::new(), |mut counts, message| {
                *counts.entry(message.map(|m| m.payload)).or_default() += 1;
                counts
            });
    assert_eq!(
        per_payload,
        BTreeMap::from([(
            Some(Bytes::from_static(b"to everyone")),
            CONNECTIONS * SUBSCRIPTIONS_PER_CONNECTION
        )])
    );
}

#[tokio::test]
async fn max_payload_boundary() {
    let server = TestServer::start().await;
    let client = server.connect().await;
    let max_payload = client.server_info().max_payload;
    assert_eq!(max_payload, 1024 * 1024, "default max_payload");
    let mut subscription = within("subscribe", client.subscribe("big"))
        .await
        .expect("subscribe");
    settle(&client).await;

    let exact: Bytes = (0..max_payload).map(|index| (index % 251) as u8).collect();
    publish(&client, "big", exact.clone()).await;
    let message = within("receive max-size message", subscription.next())
        .await
        .expect("subscription open");
    assert_eq!(message.payload.len(), max_payload);
    assert!(message.payload == exact, "payload intact");

    // async-nats refuses an oversized payload before it reaches the wire...
    let error = within(
        "publish oversized",
        client.publish("big", vec![0u8; max_payload + 1].into()),
    )
    .await
    .expect_err("one byte over max_payload");
    assert_eq!(
        error.kind(),
        async_nats::client::PublishErrorKind::MaxPayloadExceeded
    );

    // ...so the server's own check is exercised over raw TCP.
    let mut raw = server.raw().await;
    raw.send(
        format!(
            "CONNECT {{\"verbose\":false}}\r\nPUB big {}\r\n",
            max_payload + 1
        )
        .as_bytes(),
    )
    .await;
    raw.expect(b"-ERR 'Maximum Payload Violation'\r\n").await;
    raw.expect_closed().await;

    // The connection that stayed within the limit is unaffected.
    publish(&client, "big", "small".into()).await;
    let message = within("receive after violation", subscription.next())
        .await
        .expect("subscription open");
    assert_eq!(message.payload, "small");
}

#[tokio::test]
async fn client_reconnects_after_server_restart() {
    let mut server = TestServer::start().await;
    let client = server
        .connect_with(
            async_nats::ConnectOptions::new()
                .reconnect_delay_callback(|_attempts| Duration::from_millis(100)),
        )
        .await;
    let mut subscription = within("subscribe", client.subscribe("after.restart"))
        .await
        .expect("subscribe");
    settle(&client).await;

    server.restart().await;

    // Until the client has reconnected and re-subscribed, publishes may be dropped; keep trying.
    let message = within("message through the restarted server", async {
        loop {
            // Errors here just mean "not reconnected yet".
            let _ = client.publish("after.restart", "again".into()).await;
            let _ = client.flush().await;
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(200), subscription.next()).await
            {
                break message;
            }
        }
    })
    .await;
    assert_eq!(message.payload, "again");
    assert_eq!(
        client.connection_state(),
        async_nats::connection::State::Connected
    );
}
