//! `setConsumerConfigDefaults` and `checkConsumerCfg` as data: a configuration, and the
//! error code (or defaults) nats-server answers with.

use super::*;
use serde_json::json;

fn stream(retention: &str) -> StreamConfig {
    serde_json::from_value(json!({
        "name": "S", "subjects": ["orders.>", "audit"], "retention": retention, "num_replicas": 1,
    }))
    .unwrap()
}

fn config(value: serde_json::Value) -> ConsumerConfig {
    serde_json::from_value(value).unwrap()
}

/// Defaults then checks, as `addConsumer` runs them.
fn checked(value: serde_json::Value, retention: &str) -> Result<ConsumerConfig, JsError> {
    let mut config = config(value);
    set_defaults(&mut config, &ConsumerLimits::default());
    check_config(&config, &stream(retention), &ConsumerLimits::default())?;
    Ok(config)
}

fn err_code(value: serde_json::Value) -> u16 {
    checked(value, "limits").unwrap_err().codes().1
}

#[test]
fn defaults_follow_set_consumer_config_defaults() {
    let pull = checked(
        json!({"durable_name": "D", "ack_policy": "explicit"}),
        "limits",
    )
    .unwrap();
    assert_eq!(pull.ack_wait, ACK_WAIT_DEFAULT_NANOS);
    assert_eq!(pull.max_ack_pending, 1000);
    assert_eq!(pull.max_waiting, 512);
    assert_eq!(pull.max_deliver, -1);
    let push = checked(
        json!({"deliver_subject": "in", "ack_policy": "none"}),
        "limits",
    )
    .unwrap();
    assert_eq!(
        (push.ack_wait, push.max_ack_pending, push.max_waiting),
        (0, 0, 0)
    );
    let backoff = checked(
        json!({"ack_policy": "explicit", "backoff": [1_000_000_000i64, 2_000_000_000i64], "max_deliver": 3}),
        "limits",
    )
    .unwrap();
    assert_eq!(
        backoff.ack_wait, 1_000_000_000,
        "backoff overrides ack_wait"
    );
    let mut limited = config(json!({"ack_policy": "all"}));
    let limits = ConsumerLimits {
        account_max_ack_pending: 50,
        server_max_request_batch: 10,
        ..ConsumerLimits::default()
    };
    set_defaults(&mut limited, &limits);
    assert_eq!((limited.max_ack_pending, limited.max_batch), (50, 10));
}

#[test]
fn validation_errors_carry_nats_server_codes() {
    let cases = [
        (json!({"num_replicas": 3}), 10126),
        (json!({"num_replicas": -1}), 10133),
        (
            json!({"ack_policy": "explicit", "backoff": [1, 2], "max_deliver": 2}),
            10116,
        ),
        (json!({"description": "x".repeat(4097)}), 10107),
        (json!({"deliver_subject": "in.*"}), 10079),
        (json!({"deliver_subject": "in..x"}), 10112),
        (json!({"deliver_subject": "orders.new"}), 10081),
        (json!({"deliver_subject": "in", "max_waiting": 3}), 10080),
        (
            json!({"deliver_subject": "in", "max_ack_pending": 3}),
            10082,
        ),
        (
            json!({"deliver_subject": "in", "idle_heartbeat": 50_000_000}),
            10083,
        ),
        (json!({"rate_limit_bps": 8}), 10086),
        (json!({"max_waiting": -1}), 10087),
        (json!({"idle_heartbeat": 1_000_000_000}), 10088),
        (json!({"flow_control": true}), 10089),
        (json!({"max_batch": -1}), 10114),
        (json!({"max_expires": 10}), 10115),
        (json!({"direct": true}), 10090),
        (
            json!({"direct": true, "deliver_subject": "in", "durable_name": "D"}),
            10091,
        ),
        (json!({"filter_subject": "other"}), 10093),
        (
            json!({"filter_subject": "orders.>", "filter_subjects": ["audit"]}),
            10136,
        ),
        (json!({"filter_subjects": ["audit", ""]}), 10139),
        (
            json!({"filter_subjects": ["orders.*", "orders.new"]}),
            10138,
        ),
        (json!({"deliver_policy": "all", "opt_start_seq": 4}), 10094),
        (json!({"deliver_policy": "by_start_sequence"}), 10094),
        (json!({"deliver_policy": "by_start_time"}), 10094),
        (json!({"deliver_policy": "last_per_subject"}), 10094),
        (json!({"sample_freq": "x%"}), 10095),
        (
            json!({"deliver_subject": "in", "flow_control": true}),
            10108,
        ),
        (json!({"durable_name": "A", "name": "B"}), 10132),
        (json!({"metadata": {"k": "v".repeat(128 * 1024)}}), 10135),
    ];
    for (value, expected) in cases {
        assert_eq!(err_code(value.clone()), expected, "{value}");
    }
}

#[test]
fn error_texts_match_nats_server() {
    let text = |value| checked(value, "limits").unwrap_err().to_string();
    assert_eq!(
        text(json!({"deliver_policy": "new", "opt_start_time": "2025-01-01T00:00:00Z"})),
        "consumer delivery policy is deliver new, but optional start time is also set"
    );
    assert_eq!(
        text(json!({"deliver_policy": "by_start_sequence"})),
        "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"
    );
    assert_eq!(
        text(json!({"deliver_policy": "last_per_subject"})),
        "consumer delivery policy is deliver last per subject, but optional filter subject is not set"
    );
    assert_eq!(
        text(json!({"sample_freq": "ten"})),
        "failed to parse consumer sampling configuration: strconv.Atoi: parsing \"ten\": invalid syntax"
    );
}

#[test]
fn retention_shapes_what_is_allowed() {
    let code = |value, retention| checked(value, retention).unwrap_err().codes().1;
    assert_eq!(code(json!({"ack_policy": "none"}), "workqueue"), 10084);
    assert_eq!(
        code(
            json!({"ack_policy": "explicit", "num_replicas": 2}),
            "interest"
        ),
        10126
    );
    assert!(checked(
        json!({"ack_policy": "explicit", "num_replicas": 1}),
        "interest"
    )
    .is_ok());
}

#[test]
fn ordered_consumer_and_kv_watcher_configs_are_accepted() {
    // What nats.go / async-nats send for an ordered consumer and a KV watcher.
    let ordered = json!({
        "deliver_subject": "_INBOX.abc", "deliver_policy": "by_start_sequence", "opt_start_seq": 9,
        "ack_policy": "none", "max_deliver": 1, "flow_control": true,
        "idle_heartbeat": 5_000_000_000i64, "mem_storage": true, "num_replicas": 1,
        "inactive_threshold": 300_000_000_000i64, "filter_subject": "orders.>",
    });
    assert!(checked(ordered, "limits").is_ok());
    let watcher = json!({
        "deliver_subject": "_INBOX.w", "deliver_policy": "last_per_subject", "ack_policy": "none",
        "headers_only": true, "flow_control": true, "idle_heartbeat": 5_000_000_000i64,
        "mem_storage": true, "num_replicas": 1, "filter_subject": "orders.>",
    });
    assert!(checked(watcher, "limits").is_ok());
}

#[test]
fn updates_may_change_only_what_nats_server_allows() {
    let old = checked(
        json!({"durable_name": "D", "ack_policy": "explicit"}),
        "limits",
    )
    .unwrap();
    let update = |change: serde_json::Value, bound| {
        let mut new = serde_json::to_value(&old).unwrap();
        for (key, value) in change.as_object().unwrap() {
            new[key] = value.clone();
        }
        check_update(&old, &config(new), bound).map_err(|e| e.to_string())
    };
    assert_eq!(
        update(json!({"description": "d", "max_ack_pending": 5}), false),
        Ok(())
    );
    assert_eq!(
        update(json!({"ack_policy": "all"}), false),
        Err("ack policy can not be updated".into())
    );
    assert_eq!(
        update(json!({"deliver_subject": "in"}), false),
        Err("can not update pull consumer to push based".into())
    );
    let push = checked(
        json!({"durable_name": "D", "deliver_subject": "a"}),
        "limits",
    )
    .unwrap();
    let mut moved = push.clone();
    moved.deliver_subject = "b".into();
    assert_eq!(check_update(&push, &moved, false), Ok(()));
    assert_eq!(
        check_update(&push, &moved, true),
        Err(JsError::ConsumerNameExists)
    );
}
