//! Acks: every kind, redelivery after ack_wait and backoff, max_deliver.

use super::*;
use serde_json::{json, Value};

#[test]
fn redelivery_after_ack_wait_nak_delay_progress_and_term() {
    let mut h = harness();
    orders(&mut h);
    h.publish("orders.1", "a");
    h.publish("orders.2", "b");
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "explicit", "ack_wait": 2 * SECOND}),
    );
    let out = h.pull("ORDERS", "P", "_INBOX.r", json!({"batch": 2}));
    let b = deliveries(&out)[1].clone();
    h.ack(&b, "+WPI", None);
    h.now += SECOND;
    h.ack(&b, "+WPI", None);
    assert!(h
        .pull(
            "ORDERS",
            "P",
            "_INBOX.r",
            json!({"batch": 5, "expires": 30 * SECOND})
        )
        .is_empty());
    // a's ack wait passes (plus the 1 ms grouping delay); b was refreshed a second later.
    let out = h.advance(SECOND + 1_000_000);
    assert_eq!(payloads(&out), vec!["a"]);
    let redelivered = deliveries(&out)[0].clone();
    assert!(redelivered
        .reply
        .as_deref()
        .unwrap()
        .starts_with("$JS.ACK.ORDERS.P.2.1.3."));
    assert_eq!(h.info("ORDERS", "P")["num_redelivered"], 1);
    // NAK with a delay: due again after it, not before.
    h.ack(&redelivered, "-NAK {\"delay\": 5000000000}", None);
    let out = h.advance(SECOND);
    assert_eq!(payloads(&out), vec!["b"], "b's own wait ran out");
    let b_again = deliveries(&out)[0].clone();
    // +TERM stops redelivery and tells the world why.
    let out = h.ack(&b_again, "+TERM not mine", Some("_INBOX.t"));
    let advisory = out
        .iter()
        .find(|m| {
            m.deliver
                .starts_with("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ORDERS.P")
        })
        .unwrap();
    let body: Value = serde_json::from_slice(&advisory.payload).unwrap();
    assert_eq!(
        (body["stream_seq"].as_u64(), body["reason"].as_str()),
        (Some(2), Some("not mine"))
    );
    assert!(
        out.iter().any(|m| &*m.deliver == "_INBOX.t"),
        "terminations are confirmed too"
    );
    assert_eq!(h.info("ORDERS", "P")["num_ack_pending"], 1);
    assert!(
        payloads(&h.advance(3 * SECOND)).is_empty(),
        "a's delay is not over"
    );
    let out = h.advance(2 * SECOND);
    assert_eq!(payloads(&out), vec!["a"]);
    // A plain NAK redelivers at once to the waiting request.
    let out = h.ack(&deliveries(&out)[0].clone(), "-NAK", None);
    assert_eq!(payloads(&out), vec!["a"]);
    assert!(out
        .iter()
        .any(|m| &*m.deliver == "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.ORDERS.P"));
}

#[test]
fn backoff_and_max_deliver_advisory() {
    let mut h = harness();
    orders(&mut h);
    h.publish("orders.1", "a");
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "explicit", "max_deliver": 3, "backoff": [SECOND, 4 * SECOND]}),
    );
    let out = h.pull(
        "ORDERS",
        "P",
        "_INBOX.r",
        json!({"batch": 10, "expires": 60 * SECOND}),
    );
    assert_eq!(payloads(&out), vec!["a"]);
    let out = h.advance(SECOND + 1_000_000);
    assert_eq!(payloads(&out), vec!["a"], "first backoff step: 1 s");
    assert!(
        payloads(&h.advance(3 * SECOND)).is_empty(),
        "second step is 4 s"
    );
    let out = h.advance(SECOND + 1_000_000);
    assert_eq!(payloads(&out), vec!["a"]);
    let out = h.advance(4 * SECOND + 1_000_000);
    assert!(payloads(&out).is_empty());
    let advisory = out
        .iter()
        .find(|m| &*m.deliver == "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ORDERS.P")
        .expect("max deliveries advisory");
    let body: Value = serde_json::from_slice(&advisory.payload).unwrap();
    assert_eq!(body["type"], "io.nats.jetstream.advisory.v1.max_deliver");
    assert_eq!(
        (body["stream_seq"].as_u64(), body["deliveries"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(h.info("ORDERS", "P")["num_ack_pending"], 0);
}

#[test]
fn ack_all_acks_everything_below() {
    let mut h = harness();
    orders(&mut h);
    for i in 1..=4 {
        h.publish(&format!("orders.{i}"), "x");
    }
    h.create(
        "ORDERS",
        "P",
        json!({"durable_name": "P", "ack_policy": "all"}),
    );
    let out = h.pull("ORDERS", "P", "_INBOX.r", json!({"batch": 4}));
    h.ack(&deliveries(&out)[2].clone(), "+ACK", None);
    let info = h.info("ORDERS", "P");
    assert_eq!(info["ack_floor"]["stream_seq"], 3);
    assert_eq!(info["num_ack_pending"], 1);
}
