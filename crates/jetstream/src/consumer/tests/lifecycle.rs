//! Consumer endpoints: create (every form), info, names, list, delete, errors; deliver policies.

use super::*;
use serde_json::{json, Value};

#[test]
fn create_info_names_list_delete_and_advisories() {
    let mut h = harness();
    orders(&mut h);
    let (created, out) = h.create(
        "ORDERS",
        "C1",
        json!({"durable_name": "C1", "ack_policy": "explicit"}),
    );
    assert_eq!(
        created["type"],
        "io.nats.jetstream.api.v1.consumer_create_response"
    );
    assert_eq!(created["stream_name"], "ORDERS");
    assert_eq!(created["name"], "C1");
    assert_eq!(created["created"], "2025-11-26T13:50:00Z");
    assert_eq!(created["config"]["ack_wait"], 30 * SECOND);
    assert_eq!(created["config"]["max_ack_pending"], 1000);
    assert_eq!(created["config"]["max_waiting"], 512);
    assert_eq!(
        created["delivered"],
        json!({"consumer_seq": 0, "stream_seq": 0})
    );
    assert_eq!(created["num_pending"], 0);
    // Beside the API audit every request gets, one consumer action advisory.
    let actions: Vec<&str> = out
        .iter()
        .map(|message| &*message.deliver)
        .filter(|subject| *subject != "$JS.EVENT.ADVISORY.API")
        .collect();
    assert_eq!(actions, ["$JS.EVENT.ADVISORY.CONSUMER.CREATED.ORDERS.C1"]);
    // Its acks reach the engine through a subscription of its own, as in nats-server.
    let subjects = &h.engine.interest().by_account["$G"];
    assert!(subjects.contains(&"$JS.ACK.ORDERS.C1.*.*.*.*.*".to_string()));
    let (legacy, _) = h.api(
        "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.C2",
        json!({"stream_name": "ORDERS", "config": {"durable_name": "C2", "deliver_subject": "in"}}),
    );
    assert_eq!(legacy["name"], "C2");
    let (ephemeral, _) = h.api(
        "$JS.API.CONSUMER.CREATE.ORDERS",
        json!({"stream_name": "ORDERS", "config": {"deliver_subject": "in2"}}),
    );
    let generated = ephemeral["name"].as_str().unwrap().to_string();
    assert_eq!(generated.len(), 8);
    assert_eq!(ephemeral["config"]["inactive_threshold"], 5 * SECOND);

    let (names, _) = h.api("$JS.API.CONSUMER.NAMES.ORDERS", Value::Null);
    assert_eq!(
        names["type"],
        "io.nats.jetstream.api.v1.consumer_names_response"
    );
    assert_eq!(names["total"], 3);
    assert_eq!(names["limit"], 1024);
    let (list, _) = h.api("$JS.API.CONSUMER.LIST.ORDERS", json!({"offset": 1}));
    assert_eq!(list["offset"], 1);
    assert_eq!(list["consumers"].as_array().unwrap().len(), 2);
    let (stream, _) = h.api("$JS.API.STREAM.INFO.ORDERS", Value::Null);
    assert_eq!(stream["state"]["consumer_count"], 3);
    let (account, _) = h.api("$JS.API.INFO", Value::Null);
    assert_eq!(account["consumers"], 3);

    let (deleted, out) = h.api("$JS.API.CONSUMER.DELETE.ORDERS.C1", Value::Null);
    assert_eq!(
        deleted,
        json!({"type": "io.nats.jetstream.api.v1.consumer_delete_response", "success": true})
    );
    assert!(out
        .iter()
        .any(|message| &*message.deliver == "$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS.C1"));
    let (missing, _) = h.api("$JS.API.CONSUMER.INFO.ORDERS.C1", Value::Null);
    assert_eq!(
        missing["error"],
        json!({"code": 404, "err_code": 10014, "description": "consumer not found"})
    );
}

#[test]
fn create_request_errors_match_nats_server() {
    let mut h = harness();
    orders(&mut h);
    let code = |h: &mut Harness, subject: &str, body: Value| {
        let (response, _) = h.api(subject, body);
        response["error"]["err_code"].as_u64().unwrap_or(0)
    };
    let cases = [
        (
            "$JS.API.CONSUMER.CREATE.ORDERS",
            json!({"stream_name": "OTHER", "config": {}}),
            10056,
        ),
        (
            "$JS.API.CONSUMER.CREATE.NONE",
            json!({"stream_name": "NONE", "config": {}}),
            10059,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS",
            json!({"stream_name": "ORDERS", "config": {"durable_name": "D"}}),
            10020,
        ),
        (
            "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS",
            json!({"stream_name": "ORDERS", "config": {}}),
            10016,
        ),
        (
            "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D",
            json!({"stream_name": "ORDERS", "config": {}}),
            10018,
        ),
        (
            "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D",
            json!({"stream_name": "ORDERS", "config": {"durable_name": "E"}}),
            10017,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS.N.orders.x",
            json!({"stream_name": "ORDERS", "config": {"filter_subject": "orders.y"}}),
            10131,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS.N.orders.x",
            json!({"stream_name": "ORDERS", "config": {"filter_subjects": ["orders.x"]}}),
            10137,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS.N",
            json!({"stream_name": "ORDERS", "config": {"num_replicas": 3}}),
            10074,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS.N",
            json!({"stream_name": "ORDERS", "action": "update", "config": {}}),
            10149,
        ),
        (
            "$JS.API.CONSUMER.CREATE.ORDERS.N",
            b"{".to_vec()
                .into_iter()
                .map(Value::from)
                .collect::<Value>(),
            10025,
        ),
        (
            "$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.N",
            Value::Null,
            10010,
        ),
        ("$JS.API.CONSUMER.DELETE.ORDERS.N", Value::Null, 10014),
        ("$JS.API.CONSUMER.INFO.ORDERS.N", json!({"x": 1}), 10038),
        ("$JS.API.CONSUMER.NAMES.NONE", Value::Null, 10059),
    ];
    for (subject, body, expected) in cases {
        assert_eq!(
            code(&mut h, subject, body.clone()),
            expected,
            "{subject} {body}"
        );
    }
    let (stepdown, _) = h.api("$JS.API.CONSUMER.LEADER.STEPDOWN.ORDERS.N", Value::Null);
    assert_eq!(
        stepdown["type"],
        "io.nats.jetstream.api.v1.consumer_leader_stepdown_response"
    );
    assert_eq!(stepdown["error"]["code"], 503);
    assert_eq!(
        stepdown["error"]["description"],
        "JetStream clustering support required"
    );

    // create refuses a different configuration under an existing name; same config is fine.
    h.create(
        "ORDERS",
        "D",
        json!({"durable_name": "D", "ack_policy": "explicit"}),
    );
    let (again, _) = h.create(
        "ORDERS",
        "D",
        json!({"durable_name": "D", "ack_policy": "explicit"}),
    );
    assert_eq!(again["name"], "D");
    let (exists, _) = h.api(
        "$JS.API.CONSUMER.CREATE.ORDERS.D",
        json!({"stream_name": "ORDERS", "action": "create", "config": {"durable_name": "D", "ack_policy": "all"}}),
    );
    assert_eq!(exists["error"]["err_code"], 10148);
    let (refused, _) = h.create(
        "ORDERS",
        "D",
        json!({"durable_name": "D", "ack_policy": "all"}),
    );
    assert_eq!(
        refused["error"],
        json!({"code": 500, "err_code": 10012, "description": "ack policy can not be updated"})
    );
    let (updated, _) = h.create(
        "ORDERS",
        "D",
        json!({"durable_name": "D", "ack_policy": "explicit", "description": "new"}),
    );
    assert_eq!(updated["config"]["description"], "new");
}

#[test]
fn deliver_policies_choose_the_start() {
    let mut h = harness();
    orders(&mut h);
    for (i, subject) in ["orders.a", "orders.b", "orders.a", "orders.c", "orders.b"]
        .iter()
        .enumerate()
    {
        h.now = NOW + i as i64 * SECOND;
        h.publish(subject, &format!("m{}", i + 1));
    }
    let first = |h: &mut Harness, name: &str, config: Value| {
        let mut config = config;
        config["durable_name"] = json!(name);
        config["ack_policy"] = json!("none");
        h.create("ORDERS", name, config);
        payloads(&h.pull(
            "ORDERS",
            name,
            "_INBOX.x",
            json!({"batch": 10, "no_wait": true}),
        ))
    };
    assert_eq!(
        first(&mut h, "all", json!({})),
        vec!["m1", "m2", "m3", "m4", "m5"]
    );
    assert_eq!(
        first(&mut h, "last", json!({"deliver_policy": "last"})),
        vec!["m5"]
    );
    assert_eq!(
        first(
            &mut h,
            "lastf",
            json!({"deliver_policy": "last", "filter_subject": "orders.a"})
        ),
        vec!["m3"]
    );
    assert!(first(&mut h, "new", json!({"deliver_policy": "new"})).is_empty());
    assert_eq!(
        first(
            &mut h,
            "seq",
            json!({"deliver_policy": "by_start_sequence", "opt_start_seq": 4})
        ),
        vec!["m4", "m5"]
    );
    assert_eq!(
        first(
            &mut h,
            "time",
            json!({"deliver_policy": "by_start_time", "opt_start_time": "2025-11-26T13:50:03Z"})
        ),
        vec!["m4", "m5"]
    );
    assert_eq!(
        first(
            &mut h,
            "lps",
            json!({"deliver_policy": "last_per_subject", "filter_subject": "orders.>"})
        ),
        vec!["m3", "m4", "m5"]
    );
    assert_eq!(
        first(
            &mut h,
            "multi",
            json!({"filter_subjects": ["orders.b", "orders.c"]})
        ),
        vec!["m2", "m4", "m5"]
    );
    let info = h.info("ORDERS", "new");
    assert_eq!(info["delivered"]["stream_seq"], 5);
    h.publish("orders.a", "m6");
    assert_eq!(h.info("ORDERS", "lps")["num_pending"], 1);
    assert_eq!(h.info("ORDERS", "multi")["num_pending"], 0);
}
