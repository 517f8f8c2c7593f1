//! Push consumers: interest, heartbeats, flow control, queue groups, inactivity, KV watchers, ordered consumers.

use super::*;
use serde_json::json;

#[test]
fn push_consumers_deliver_with_interest_heartbeats_and_flow_control() {
    let mut h = harness();
    orders(&mut h);
    h.publish("orders.1", "a");
    h.create(
        "ORDERS",
        "PUSH",
        json!({"durable_name": "PUSH", "deliver_subject": "deliver.here", "ack_policy": "explicit", "flow_control": true, "idle_heartbeat": SECOND}),
    );
    assert!(deliveries(&h.tick()).is_empty(), "no subscriber yet");
    assert_eq!(h.info("ORDERS", "PUSH").get("push_bound"), None);
    h.listening.insert("deliver.here".into());
    let out = h.tick();
    assert_eq!(payloads(&out), vec!["a"]);
    assert_eq!(&*out[0].deliver, "deliver.here");
    assert_eq!(h.info("ORDERS", "PUSH")["push_bound"], true);
    let out = h.publish("orders.2", "b");
    assert_eq!(payloads(&out), vec!["b"]);
    let out = h.advance(SECOND);
    assert_eq!(
        statuses(&out),
        vec!["NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 2\r\nNats-Last-Stream: 2\r\n\r\n"]
    );
    // Flow control: past half the 2 MiB starting window a request goes out; delivery stalls
    // past the window until the client answers on the request's reply subject.
    let big = "z".repeat(600 * 1024);
    let mut out = Vec::new();
    for i in 0..5 {
        out.extend(h.publish(&format!("orders.big{i}"), &big));
    }
    let request = out
        .iter()
        .find(|m| m.headers[..] == b"NATS/1.0 100 FlowControl Request\r\n\r\n"[..])
        .expect("a flow control request")
        .clone();
    let fc = request.reply.clone().unwrap();
    assert!(fc.starts_with("$JS.FC.ORDERS.PUSH."));
    assert_eq!(payloads(&out).len(), 4, "the fifth waits: over the window");
    assert!(h.engine.interest().by_account["$G"].contains(&"$JS.FC.ORDERS.PUSH.*".to_string()));
    let out = h.advance(SECOND);
    let heartbeat = statuses(&out).pop().unwrap();
    assert!(
        heartbeat.contains(&format!("Nats-Consumer-Stalled: {fc}\r\n")),
        "{heartbeat}"
    );
    let out = h.send(&fc, None, b"");
    assert_eq!(
        payloads(&out).len(),
        1,
        "answered: the stalled message goes"
    );
}

#[test]
fn queue_push_and_ephemeral_cleanup_after_inactive_threshold() {
    let mut h = harness();
    orders(&mut h);
    let (created, _) = h.api(
        "$JS.API.CONSUMER.CREATE.ORDERS",
        json!({"stream_name": "ORDERS", "config": {"deliver_subject": "q.in", "deliver_group": "workers", "ack_policy": "explicit"}}),
    );
    let name = created["name"].as_str().unwrap().to_string();
    h.listening.insert("q.in".into());
    assert_eq!(payloads(&h.publish("orders.1", "a")), vec!["a"]);
    h.listening.clear();
    h.tick();
    let out = h.advance(5 * SECOND + 100_000_000);
    assert!(out
        .iter()
        .any(|m| *m.deliver == format!("$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS.{name}")));
    assert_eq!(h.info("ORDERS", &name)["error"]["err_code"], 10014);

    // A pull consumer with an inactive threshold goes once nobody pulls.
    h.create(
        "ORDERS",
        "idle",
        json!({"ack_policy": "explicit", "inactive_threshold": SECOND}),
    );
    h.advance(SECOND / 2);
    h.pull(
        "ORDERS",
        "idle",
        "_INBOX.p",
        json!({"batch": 1, "no_wait": true}),
    );
    h.advance(SECOND);
    assert_eq!(h.info("ORDERS", "idle")["name"], "idle", "pulled recently");
    h.advance(2 * SECOND);
    assert_eq!(h.info("ORDERS", "idle")["error"]["err_code"], 10014);
}

#[test]
fn headers_only_and_kv_style_watch() {
    let mut h = harness();
    h.stream(json!({"name": "KV_b", "subjects": ["$KV.b.>"], "storage": "memory", "max_msgs_per_subject": 1}));
    h.publish("$KV.b.k1", "v1");
    h.publish("$KV.b.k2", "value2");
    h.publish("$KV.b.k1", "v1b");
    h.listening.insert("_watch".into());
    let (_, out) = h.create(
        "KV_b",
        "w",
        json!({"deliver_subject": "_watch", "deliver_policy": "last_per_subject", "filter_subject": "$KV.b.>", "ack_policy": "none", "headers_only": true, "flow_control": true, "idle_heartbeat": 5 * SECOND, "mem_storage": true, "num_replicas": 1}),
    );
    let got = deliveries(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].shown_subject(), "$KV.b.k2");
    assert_eq!(&got[0].headers[..], b"NATS/1.0\r\nNats-Msg-Size: 6\r\n\r\n");
    assert!(got[0].payload.is_empty());
    assert_eq!(got[1].shown_subject(), "$KV.b.k1");
    // Ack subjects carry what is still pending: the watcher knows when it is caught up.
    assert!(got[1].reply.as_deref().unwrap().ends_with(".0"));
    let out = h.publish("$KV.b.k3", "new");
    assert_eq!(deliveries(&out)[0].shown_subject(), "$KV.b.k3");
}

#[test]
fn ordered_consumer_flow_replay_original_and_unknown_acks() {
    let mut h = harness();
    orders(&mut h);
    h.publish("orders.1", "a");
    h.now += 2 * SECOND;
    h.publish("orders.2", "b");
    h.listening.insert("_ord".into());
    let (_, out) = h.create(
        "ORDERS",
        "ord",
        json!({"deliver_subject": "_ord", "deliver_policy": "by_start_sequence", "opt_start_seq": 1, "ack_policy": "none", "max_deliver": 1, "flow_control": true, "idle_heartbeat": 5 * SECOND, "mem_storage": true, "num_replicas": 1, "replay_policy": "original"}),
    );
    assert_eq!(payloads(&out), vec!["a"], "b waits its original gap");
    assert_eq!(h.engine.next_deadline(), Some(h.now + 2 * SECOND));
    assert_eq!(payloads(&h.advance(2 * SECOND)), vec!["b"]);
    // Acks for consumers that do not exist are not ours to answer.
    assert!(h
        .send("$JS.ACK.ORDERS.nobody.1.1.1.0.0", Some("_INBOX.z"), b"+ACK")
        .is_empty());
    assert!(h
        .send("$JS.ACK.ORDERS.ord.1.1", Some("_INBOX.z"), b"+ACK")
        .is_empty());
}

#[test]
fn push_deliveries_end_a_piece_every_32_and_a_pull_batch_goes_whole() {
    let mut h = harness();
    orders(&mut h);
    for i in 0..70 {
        h.publish(&format!("orders.{i}"), "m");
    }
    h.create(
        "ORDERS",
        "PUSH",
        json!({"durable_name": "PUSH", "deliver_subject": "deliver.here", "ack_policy": "none"}),
    );
    h.listening.insert("deliver.here".into());
    let out = h.tick();
    let ends: Vec<usize> = deliveries(&out)
        .iter()
        .enumerate()
        .filter(|(_, m)| m.piece_end)
        .map(|(index, _)| index + 1)
        .collect();
    assert_eq!(
        ends,
        vec![32, 64],
        "pieces of 32; the round's end flushes the rest"
    );

    h.create(
        "ORDERS",
        "PULL",
        json!({"durable_name": "PULL", "ack_policy": "none"}),
    );
    let out = h.pull("ORDERS", "PULL", "_INBOX.p", json!({"batch": 70}));
    assert_eq!(deliveries(&out).len(), 70);
    assert!(
        out.iter().all(|m| !m.piece_end),
        "a pull batch is one write"
    );
}
