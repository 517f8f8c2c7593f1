//! Push consumers: flow control (requested, stalled on, answered), idle heartbeats, and a
//! queue group spreading deliveries over its members.

use crate::common::{within, QUIET_PERIOD};
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{push, AckPolicy};
use async_nats::Message;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::time::Duration;

/// Bytes per message in the flow control tests: 1,200 of them are 4.8 MB, past the window
/// at which both servers stall a consumer whose flow control request goes unanswered.
const LARGE_PAYLOAD_BYTES: usize = 4096;

/// Publishes `count` large messages whose payloads start with their index.
async fn publish_large(context: &async_nats::jetstream::Context, count: usize) {
    for n in 0..count {
        let mut payload = format!("{n:06}");
        payload.push_str(&"x".repeat(LARGE_PAYLOAD_BYTES - payload.len()));
        publish(context, "push.big", &payload).await;
    }
}

/// The index a large message carries.
fn index(message: &Message) -> usize {
    String::from_utf8_lossy(&message.payload[..6])
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_unanswered_flow_control_request_stalls_delivery_until_answered() {
    const COUNT: usize = 1200;
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PUSH", &["push.>"])).await;
    publish_large(&context, COUNT).await;

    let deliver = client.new_inbox();
    let mut deliveries = client.subscribe(deliver.clone()).await.unwrap();
    within(
        "create push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("pusher".into()),
            deliver_subject: deliver,
            ack_policy: AckPolicy::None,
            flow_control: true,
            idle_heartbeat: Duration::from_millis(250),
            ..Default::default()
        }),
    )
    .await
    .unwrap();

    // Read without answering flow control until no message has come for a while (idle
    // heartbeats keep coming).
    let mut received = Vec::new();
    let mut request: Option<String> = None;
    let mut stalled_heartbeat = None;
    let mut quiet_from = tokio::time::Instant::now();
    loop {
        let next = tokio::time::timeout_at(quiet_from + QUIET_PERIOD * 3, deliveries.next());
        let message = match next.await {
            Ok(message) => message.expect("subscription open"),
            Err(_) if request.is_some() => break,
            Err(_) => panic!("deliveries stopped without a flow control request"),
        };
        match status(&message) {
            None => {
                received.push(index(&message));
                quiet_from = tokio::time::Instant::now();
                assert!(received.len() < COUNT, "delivery did not stall");
            }
            Some((100, description)) if description == "FlowControl Request" => {
                assert!(request.is_none(), "one outstanding request at a time");
                request = message.reply.as_ref().map(|reply| reply.to_string());
                assert!(request
                    .as_deref()
                    .unwrap()
                    .starts_with("$JS.FC.PUSH.pusher."));
            }
            Some((100, _)) => {
                stalled_heartbeat = Some(header(&message, "Nats-Consumer-Stalled"));
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert!(
        !received.is_empty() && received.len() < COUNT,
        "stalled after {} of {COUNT}",
        received.len()
    );
    assert_eq!((0..received.len()).collect::<Vec<_>>(), received);
    let request = request.unwrap();
    // A heartbeat while stalled names the request it waits for (read the next one if the
    // quiet period held none).
    let stalled = match stalled_heartbeat {
        Some(subject) => subject,
        None => {
            let heartbeat = within("stalled heartbeat", deliveries.next())
                .await
                .unwrap();
            header(&heartbeat, "Nats-Consumer-Stalled")
        }
    };
    assert_eq!(stalled, request);

    // Answering releases the rest, answering any further requests on the way.
    client.publish(request, "".into()).await.unwrap();
    while received.len() < COUNT {
        let message = within("delivery after the answer", deliveries.next())
            .await
            .unwrap();
        match (status(&message), message.reply.as_ref()) {
            (None, _) => received.push(index(&message)),
            (Some((100, _)), Some(reply)) => {
                client.publish(reply.clone(), "".into()).await.unwrap();
            }
            _ => {}
        }
    }
    assert_eq!((0..COUNT).collect::<Vec<_>>(), received);
}

#[tokio::test]
async fn the_client_answers_flow_control_and_sees_heartbeats_when_idle() {
    const COUNT: usize = 1200;
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PUSH", &["push.>"])).await;
    publish_large(&context, COUNT).await;
    let consumer = within(
        "create push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("pusher".into()),
            deliver_subject: client.new_inbox(),
            flow_control: true,
            idle_heartbeat: Duration::from_millis(200),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    for n in 0..COUNT {
        let message = within("push message", messages.next())
            .await
            .unwrap()
            .expect("no missed heartbeat");
        assert_eq!(index(&message), n);
        message.ack().await.unwrap();
    }
    let info = info_until(&stream, "pusher", "every ack recorded", |info| {
        info.ack_floor.stream_sequence == COUNT as u64
    })
    .await;
    assert_eq!(info.num_ack_pending, 0);

    // Idle: heartbeats carry the last sequences delivered.
    let deliver = consumer
        .cached_info()
        .config
        .deliver_subject
        .clone()
        .unwrap();
    let mut raw = client.subscribe(deliver).await.unwrap();
    let heartbeat = within("idle heartbeat", raw.next()).await.unwrap();
    assert_eq!(status(&heartbeat), Some((100, "Idle Heartbeat".into())));
    assert_eq!(header(&heartbeat, "Nats-Last-Consumer"), COUNT.to_string());
    assert_eq!(header(&heartbeat, "Nats-Last-Stream"), COUNT.to_string());
}

#[tokio::test]
async fn a_deliver_group_spreads_messages_over_its_members_once_each() {
    const COUNT: usize = 200;
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("PUSH", &["push.>"])).await;
    let consumer = within(
        "create queue push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("workers".into()),
            deliver_subject: "deliver.workers".into(),
            deliver_group: Some("workers".into()),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let second_client = js.server.connect().await;
    let second = async_nats::jetstream::new(second_client.clone())
        .get_stream("PUSH")
        .await
        .unwrap()
        .get_consumer::<push::Config>("workers")
        .await
        .unwrap();
    let mut first_member = consumer.messages().await.unwrap();
    let mut second_member = second.messages().await.unwrap();
    crate::common::settle(&client).await;
    crate::common::settle(&second_client).await;
    publish_numbered(&context, "push.job", COUNT).await;

    let mut per_member = [BTreeSet::new(), BTreeSet::new()];
    let mut total = 0;
    while total < COUNT {
        let (n, message) = within("a member's delivery", async {
            tokio::select! {
                m = first_member.next() => (0, m),
                m = second_member.next() => (1, m),
            }
        })
        .await;
        let message = message.unwrap().unwrap();
        assert!(per_member[n].insert(text(&message).parse::<usize>().unwrap()));
        message.ack().await.unwrap();
        total += 1;
    }
    assert!(
        per_member.iter().all(|seen| !seen.is_empty()),
        "both members got work"
    );
    assert!(
        per_member[0].is_disjoint(&per_member[1]),
        "nothing delivered twice"
    );
    let all: BTreeSet<usize> = per_member[0].union(&per_member[1]).copied().collect();
    assert_eq!(all, (0..COUNT).collect());
}
