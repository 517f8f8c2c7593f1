//! Bad input to consumers, answered as nats-server 2.9 answers it: malformed ack bodies and
//! ack subjects, malformed or excessive pull requests (400 and 409 statuses), and acks for
//! consumers that do not exist.

use crate::common::within;
use crate::consumer_support::*;
use crate::JsServer;
use async_nats::jetstream::consumer::{pull, push};
use std::time::Duration;

#[tokio::test]
async fn malformed_ack_bodies_are_confirmed_and_change_nothing() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("BAD", &["bad.>"])).await;
    publish(&context, "bad.a", "payload").await;
    let consumer = pull_consumer(&stream, "worker", pull::Config::default()).await;
    let delivered = fetch(&consumer, 1).await;
    let ack_subject = delivered[0].reply.clone().unwrap();

    for body in ["garbage", "+ACKS", "+WPIX", "{\"ack\":true}"] {
        let reply = within(
            "ack with a reply",
            client.request(ack_subject.clone(), body.into()),
        )
        .await
        .unwrap_or_else(|e| panic!("{body:?} not confirmed: {e}"));
        assert!(reply.payload.is_empty(), "{body:?}");
    }
    let info = consumer_info(&stream, "worker").await;
    assert_eq!(
        (info.num_ack_pending, info.ack_floor.stream_sequence),
        (1, 0)
    );

    // A NAK whose delay cannot be read is a plain NAK: redelivered at once.
    within(
        "nak",
        client.request(ack_subject.clone(), r#"-NAK {"delay":"soon"}"#.into()),
    )
    .await
    .unwrap();
    let again = fetch(&consumer, 1).await;
    assert_eq!(again[0].info().unwrap().delivered, 2);

    // An ack subject without its sequences matches no consumer's ack subscription.
    let error = within(
        "short ack subject",
        client.request("$JS.ACK.BAD.worker.1", "+ACK".into()),
    )
    .await
    .expect_err("nobody answers");
    assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
    assert_eq!(consumer_info(&stream, "worker").await.num_ack_pending, 1);
}

#[tokio::test]
async fn acks_for_unknown_consumers_find_no_responder_and_the_server_carries_on() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("BAD", &["bad.>"])).await;
    publish(&context, "bad.a", "payload").await;
    let consumer = pull_consumer(&stream, "worker", pull::Config::default()).await;

    for subject in [
        "$JS.ACK.BAD.ghost.1.1.1.0.0",
        "$JS.ACK.NOSTREAM.worker.1.1.1.0.0",
    ] {
        let error = within("ack request", client.request(subject, "+ACK".into()))
            .await
            .expect_err("nobody answers");
        assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
    }
    let delivered = fetch(&consumer, 1).await;
    assert_eq!(text(&delivered[0]), "payload");
    within("double ack", delivered[0].double_ack())
        .await
        .unwrap();
}

/// Sends each pull request body and checks the status that answers it.
async fn check_statuses(client: &async_nats::Client, consumer: &str, cases: &[(&str, u16, &str)]) {
    for &(body, code, description) in cases {
        let replies = pull_raw(client, "BAD", consumer, body, 1).await;
        assert_eq!(
            status(&replies[0]),
            Some((code, description.to_string())),
            "pull request {body:?}"
        );
    }
}

#[tokio::test]
async fn malformed_and_excessive_pull_requests_get_400_and_409() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("BAD", &["bad.>"])).await;
    pull_consumer(
        &stream,
        "limited",
        pull::Config {
            max_batch: 5,
            max_expires: Duration::from_secs(1),
            max_bytes: 100,
            max_waiting: 1,
            ..Default::default()
        },
    )
    .await;
    within(
        "push consumer",
        stream.create_consumer(push::Config {
            durable_name: Some("pushed".into()),
            deliver_subject: "deliver.bad".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();

    check_statuses(
        &client,
        "limited",
        &[
            (
                r#"{"batch":1,"expires":1000000000,"idle_heartbeat":600000000}"#,
                400,
                "Bad Request - heartbeat value too large",
            ),
            (r#"{"batch":6}"#, 409, "Exceeded MaxRequestBatch of 5"),
            (
                r#"{"batch":1,"expires":2000000000}"#,
                409,
                "Exceeded MaxRequestExpires of 1s",
            ),
            (
                r#"{"batch":1,"max_bytes":200}"#,
                409,
                "Exceeded MaxRequestMaxBytes of 100",
            ),
        ],
    )
    .await;
    check_statuses(&client, "pushed", &[("", 409, "Consumer is push based")]).await;

    // The one waiting request fills max_waiting; the next is refused.
    let inbox = client.new_inbox();
    let _waiting = client.subscribe(inbox.clone()).await.unwrap();
    client
        .publish_with_reply(
            "$JS.API.CONSUMER.MSG.NEXT.BAD.limited",
            inbox,
            r#"{"batch":1,"expires":900000000}"#.into(),
        )
        .await
        .unwrap();
    info_until(&stream, "limited", "request waiting", |info| {
        info.num_waiting == 1
    })
    .await;
    check_statuses(
        &client,
        "limited",
        &[(r#"{"batch":1}"#, 409, "Exceeded MaxWaiting")],
    )
    .await;
}

#[tokio::test]
async fn a_pull_request_that_is_not_json_gets_400_with_go_s_decoding_error() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("BAD", &["bad.>"])).await;
    pull_consumer(&stream, "worker", pull::Config::default()).await;
    check_statuses(
        &client,
        "worker",
        &[
            (
                r#"{"batch":"#,
                400,
                "Bad Request - unexpected end of JSON input",
            ),
            (
                r#"{"batch":"ten"}"#,
                400,
                "Bad Request - json: cannot unmarshal string into Go struct field JSApiConsumerGetNextRequest.batch of type int",
            ),
            (
                r#"{"unknown":1,"no_wait":1,"batch":"x"}"#,
                400,
                "Bad Request - json: cannot unmarshal number into Go struct field JSApiConsumerGetNextRequest.no_wait of type bool",
            ),
            (
                r#"{"expires":1.5}"#,
                400,
                "Bad Request - json: cannot unmarshal number 1.5 into Go struct field JSApiConsumerGetNextRequest.expires of type time.Duration",
            ),
        ],
    )
    .await;
}
