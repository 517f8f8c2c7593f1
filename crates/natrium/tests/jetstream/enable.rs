//! Enablement: INFO, `$JS.API.INFO`, the domain prefix, and the first stream.

use crate::common::within;
use crate::JsServer;
use async_nats::jetstream::stream;
use std::future::IntoFuture;

#[tokio::test]
async fn info_advertises_jetstream_and_the_account_info_answers() {
    let js = JsServer::start(&[]).await;
    let mut raw = crate::common::RawClient::connect(js.server.address()).await;
    let info = raw.read_info().await;
    assert!(
        info.contains(r#""max_payload":1048576,"jetstream":true,"#),
        "{info}"
    );

    let (_client, context) = js.context().await;
    let account = within("account info", context.query_account())
        .await
        .unwrap();
    assert_eq!(account.streams, 0);
    assert_eq!(account.limits.max_streams, None, "-1 means no limit");
}

#[tokio::test]
async fn a_stream_is_created_and_publishes_are_acknowledged() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let config = stream::Config {
        name: "ORDERS".to_string(),
        subjects: vec!["orders.>".to_string()],
        ..Default::default()
    };
    let mut created = within("create", context.create_stream(config))
        .await
        .unwrap();
    assert_eq!(created.cached_info().config.name, "ORDERS");
    for n in 1..=10u64 {
        let ack = within("publish", context.publish("orders.new", "x".into()))
            .await
            .unwrap();
        let ack = within("ack", ack.into_future()).await.unwrap();
        assert_eq!(
            (ack.stream.as_str(), ack.sequence, ack.duplicate),
            ("ORDERS", n, false)
        );
    }
    let info = within("info", created.info()).await.unwrap();
    assert_eq!(info.state.messages, 10);
}
