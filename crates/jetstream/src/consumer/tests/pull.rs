//! Pull consumers: fetch, batches, statuses byte for byte, heartbeats, max_ack_pending.

use super::*;
use serde_json::{json, Value};

#[test]
fn pull_fetch_batches_and_acks_move_the_floor() {
    let mut h = harness();
    orders(&mut h);
    for i in 1..=5 {
        h.publish(&format!("orders.{i}"), &format!("m{i}"));
    }
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "explicit"}),
    );
    let out = h.pull("ORDERS", "P", "_INBOX.r1", json!({"batch": 3}));
    assert_eq!(payloads(&out), vec!["m1", "m2", "m3"]);
    let first = deliveries(&out)[0].clone();
    assert_eq!(&*first.deliver, "_INBOX.r1");
    assert_eq!(first.shown_subject(), "orders.1");
    assert_eq!(
        first.reply.as_deref(),
        Some(format!("$JS.ACK.ORDERS.P.1.1.1.{NOW}.4").as_str())
    );
    let info = h.info("ORDERS", "P");
    assert_eq!(
        (
            info["num_ack_pending"].as_u64(),
            info["num_pending"].as_u64()
        ),
        (Some(3), Some(2))
    );
    assert_eq!(info["delivered"]["stream_seq"], 3);

    // An ack with a reply is confirmed with an empty message (double ack).
    let second = deliveries(&out)[1].clone();
    let confirm = h.ack(&second, "+ACK", Some("_INBOX.ack"));
    assert_eq!(confirm.len(), 1);
    assert_eq!(
        (&*confirm[0].deliver, confirm[0].payload.len()),
        ("_INBOX.ack", 0)
    );
    assert_eq!(
        h.info("ORDERS", "P")["ack_floor"]["stream_seq"],
        0,
        "1 still pending"
    );
    h.ack(&first, "", None);
    let info = h.info("ORDERS", "P");
    assert_eq!(
        info["ack_floor"],
        json!({"consumer_seq": 2, "stream_seq": 2, "last_active": "2025-11-26T13:50:00Z"})
    );
    assert_eq!(info["num_ack_pending"], 1);

    // +NXT acks and asks for more on its reply subject, without a confirmation.
    let third = deliveries(&out)[2].clone();
    let next = h.ack(&third, "+NXT {\"batch\":2}", Some("_INBOX.next"));
    assert_eq!(payloads(&next), vec!["m4", "m5"]);
    assert!(deliveries(&next)
        .iter()
        .all(|m| &*m.deliver == "_INBOX.next"));
    assert_eq!(next.len(), 2);
}

#[test]
fn pull_statuses_are_nats_server_bytes() {
    let mut h = harness();
    orders(&mut h);
    h.create("ORDERS", "P", json!({"durable_name": "P", "ack_policy": "explicit", "max_waiting": 1, "max_batch": 10, "max_expires": 60 * SECOND, "max_bytes": 1000}));
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.a",
        json!({"batch": 1, "no_wait": true}),
    );
    assert_eq!(statuses(&out), vec!["NATS/1.0 404 No Messages\r\n\r\n"]);
    let refusals = [
        (
            json!({"batch": 11}),
            "NATS/1.0 409 Exceeded MaxRequestBatch of 10\r\n\r\n",
        ),
        (
            json!({"batch": 1, "expires": 61 * SECOND}),
            "NATS/1.0 409 Exceeded MaxRequestExpires of 1m0s\r\n\r\n",
        ),
        (
            json!({"batch": 1, "max_bytes": 1001}),
            "NATS/1.0 409 Exceeded MaxRequestMaxBytes of 1000\r\n\r\n",
        ),
        (
            json!({"batch": 1, "expires": SECOND, "idle_heartbeat": SECOND}),
            "NATS/1.0 400 Bad Request - heartbeat value too large\r\n\r\n",
        ),
    ];
    for (request, expected) in refusals {
        let out = h.pull("ORDERS", "P", "_INBOX.b", request.clone());
        assert_eq!(statuses(&out), vec![expected], "{request}");
    }
    assert!(h
        .pull(
            "ORDERS",
            "P",
            "_INBOX.c",
            json!({"batch": 2, "expires": 5 * SECOND})
        )
        .is_empty());
    assert_eq!(h.info("ORDERS", "P")["num_waiting"], 1);
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.d",
        json!({"batch": 1, "expires": SECOND}),
    );
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n"]
    );
    // The waiting request takes one message, then times out wanting one more.
    let out = h.publish("orders.1", "x");
    assert_eq!(payloads(&out), vec!["x"]);
    let out = h.advance(5 * SECOND);
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 0\r\n\r\n"]
    );
    assert_eq!(h.info("ORDERS", "P")["num_waiting"], 0);
    // A message bigger than what the request allows closes it with 409.
    h.publish("orders.2", &"y".repeat(100));
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.e",
        json!({"batch": 1, "max_bytes": 50}),
    );
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 50\r\n\r\n"]
    );
    // Deleting the consumer releases waiting requests.
    h.pull(
        "ORDERS",
        "P",
        "_INBOX.f",
        json!({"batch": 5, "expires": 10 * SECOND}),
    );
    h.pull(
        "ORDERS",
        "P",
        "_INBOX.f",
        json!({"batch": 5, "expires": 10 * SECOND}),
    );
    let (_, out) = h.api("$JS.API.CONSUMER.DELETE.ORDERS.P", Value::Null);
    assert!(statuses(&out).contains(&"NATS/1.0 409 Consumer Deleted\r\n\r\n".to_string()));
}

#[test]
fn no_wait_fetch_returns_what_there_is_then_408() {
    let mut h = harness();
    orders(&mut h);
    h.publish("orders.1", "a");
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "none"}),
    );
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.a",
        json!({"batch": 5, "no_wait": true}),
    );
    assert_eq!(payloads(&out), vec!["a"]);
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 4\r\nNats-Pending-Bytes: 0\r\n\r\n"]
    );
    let info = h.info("ORDERS", "P");
    assert_eq!(
        info["ack_floor"]["stream_seq"], 1,
        "ack none moves the floor on delivery"
    );
}

#[test]
fn pull_heartbeats_while_waiting() {
    let mut h = harness();
    orders(&mut h);
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "explicit"}),
    );
    h.pull(
        "ORDERS",
        "P",
        "_INBOX.hb",
        json!({"batch": 1, "expires": 10 * SECOND, "idle_heartbeat": SECOND}),
    );
    assert_eq!(h.engine.next_deadline(), Some(NOW + SECOND));
    let out = h.advance(SECOND);
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 0\r\nNats-Last-Stream: 0\r\n\r\n"]
    );
    assert_eq!(&*out[0].deliver, "_INBOX.hb");
}

#[test]
fn max_ack_pending_stalls_delivery_until_acks() {
    let mut h = harness();
    orders(&mut h);
    for i in 1..=3 {
        h.publish(&format!("orders.{i}"), &format!("m{i}"));
    }
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "explicit", "max_ack_pending": 2}),
    );
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.r",
        json!({"batch": 3, "expires": 30 * SECOND}),
    );
    assert_eq!(payloads(&out), vec!["m1", "m2"]);
    assert!(statuses(&out).is_empty());
    let out = h.ack(&deliveries(&out)[0].clone(), "+ACK", None);
    assert_eq!(payloads(&out), vec!["m3"]);
}
