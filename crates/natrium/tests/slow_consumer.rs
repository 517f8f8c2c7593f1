//! A subscriber that stops reading is cut off by the server (slow consumer), and nobody else
//! loses a message because of it.
//!
//! nats-server closes a client whose pending outbound data exceeds max_pending (64 MiB by
//! default) or whose writes stall past write_deadline; either way the connection ends.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{settle, within, within_for, RawClient, TestServer};
use futures::StreamExt;

/// Size of each published payload.
const PAYLOAD_BYTES: usize = 64 * 1024;

/// How many messages the publisher sends: 160 MiB in all, well past the 64 MiB max_pending plus
/// whatever the kernel buffers, and under the 256 MiB this test allows itself.
const MESSAGES: usize = 2560;

/// The whole test must finish within this. nats-server 2.9 with default options holds the
/// publisher back while the slow consumer's socket is full and cuts the consumer off when its
/// 10 s write_deadline passes, so single steps may legitimately stall for about that long.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_disconnected_while_others_get_everything() {
    let server = TestServer::start().await;
    within_for(TEST_TIMEOUT, "slow consumer scenario", scenario(&server)).await;
}

async fn scenario(server: &TestServer) {
    // The slow subscriber: subscribes, proves the SUB is in place, then never reads again.
    let mut slow = RawClient::connect_with_receive_buffer(server.address(), 64 * 1024).await;
    slow.read_info().await;
    slow.send(b"CONNECT {\"verbose\":false}\r\nSUB firehose 1\r\n")
        .await;
    slow.expect_open().await;

    // The healthy subscriber counts every message.
    let healthy = server.connect().await;
    let mut subscription = within("subscribe", healthy.subscribe("firehose"))
        .await
        .expect("subscribe");
    settle(&healthy).await;
    let counter = tokio::spawn(async move {
        let mut received = 0usize;
        while received < MESSAGES {
            let message = within_for(
                TEST_TIMEOUT,
                "healthy subscriber receive",
                subscription.next(),
            )
            .await
            .expect("healthy subscription stays open");
            assert_eq!(message.payload.len(), PAYLOAD_BYTES);
            received += 1;
        }
        // Nothing beyond what was published.
        let extra = tokio::time::timeout(common::QUIET_PERIOD, subscription.next()).await;
        assert!(extra.is_err(), "no extra messages");
        received
    });

    let publisher = server.connect().await;
    let payload = Bytes::from(vec![b'x'; PAYLOAD_BYTES]);
    for _ in 0..MESSAGES {
        within_for(
            TEST_TIMEOUT,
            "publish",
            publisher.publish("firehose", payload.clone()),
        )
        .await
        .expect("publish");
    }
    within_for(TEST_TIMEOUT, "flush", publisher.flush())
        .await
        .expect("flush");

    let received = counter.await.expect("counter task");
    assert_eq!(
        received, MESSAGES,
        "the healthy subscriber gets every message"
    );

    // The slow connection was closed: reading now drains what the kernel held and then hits EOF.
    let drained = within_for(
        TEST_TIMEOUT,
        "slow consumer closed by the server",
        slow.drain_until_closed(),
    )
    .await;
    assert!(
        drained < MESSAGES * PAYLOAD_BYTES,
        "the slow consumer was cut off before receiving everything ({drained} bytes)"
    );
}
