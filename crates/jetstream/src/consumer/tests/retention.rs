//! Work-queue and interest retention driven by acks.

use super::*;
use serde_json::{json, Value};

#[test]
fn work_queue_retention_removes_acked_and_refuses_overlap() {
    let mut h = harness();
    h.stream(json!({"name": "WQ", "subjects": ["jobs.>"], "retention": "workqueue", "storage": "memory"}));
    h.publish("jobs.a", "1");
    h.publish("jobs.b", "2");
    let (none, _) = h.create("WQ", "x", json!({"durable_name": "x", "ack_policy": "all"}));
    assert_eq!(none["error"]["err_code"], 10098);
    h.create(
        "WQ",
        "a",
        json!({"durable_name": "a", "ack_policy": "explicit", "filter_subject": "jobs.a"}),
    );
    let (overlap, _) = h.create(
        "WQ",
        "all",
        json!({"durable_name": "all", "ack_policy": "explicit", "filter_subject": "jobs.>"}),
    );
    assert_eq!(
        overlap["error"],
        json!({"code": 400, "err_code": 10100, "description": "filtered consumer not unique on workqueue stream"})
    );
    let (unfiltered, _) = h.create(
        "WQ",
        "u",
        json!({"durable_name": "u", "ack_policy": "explicit"}),
    );
    assert_eq!(unfiltered["error"]["err_code"], 10099);
    let out = h.pull("WQ", "a", "_INBOX.w", json!({"batch": 1}));
    h.ack(&deliveries(&out)[0].clone(), "+ACK", None);
    let (stream, _) = h.api("$JS.API.STREAM.INFO.WQ", Value::Null);
    assert_eq!(stream["state"]["messages"], 1);
    assert_eq!(stream["state"]["first_seq"], 2);
}

#[test]
fn interest_retention_keeps_messages_until_every_consumer_acks() {
    let mut h = harness();
    h.stream(
        json!({"name": "I", "subjects": ["ev.>"], "retention": "interest", "storage": "memory"}),
    );
    h.publish("ev.1", "nobody");
    let messages = |h: &mut Harness| {
        h.api("$JS.API.STREAM.INFO.I", Value::Null).0["state"]["messages"].clone()
    };
    assert_eq!(messages(&mut h), 0, "no consumer: not kept");
    h.create(
        "I",
        "a",
        json!({"durable_name": "a", "ack_policy": "explicit"}),
    );
    h.create(
        "I",
        "b",
        json!({"durable_name": "b", "ack_policy": "explicit"}),
    );
    h.publish("ev.2", "both");
    let a = h.pull("I", "a", "_INBOX.a", json!({"batch": 1}));
    let b = h.pull("I", "b", "_INBOX.b", json!({"batch": 1}));
    h.ack(&deliveries(&a)[0].clone(), "+ACK", None);
    assert_eq!(messages(&mut h), 1, "b still needs it");
    h.ack(&deliveries(&b)[0].clone(), "+ACK", None);
    assert_eq!(messages(&mut h), 0);
    h.publish("ev.3", "x");
    h.api("$JS.API.CONSUMER.DELETE.I.a", Value::Null);
    assert_eq!(messages(&mut h), 1);
    h.api("$JS.API.CONSUMER.DELETE.I.b", Value::Null);
    assert_eq!(messages(&mut h), 0, "the last interested consumer went");
}
