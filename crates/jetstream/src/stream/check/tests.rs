//! `checkStreamCfg` behaviour as data: a request body as a client sends it, and either the
//! checked configuration's key fields or nats-server's exact error.

use super::*;
use crate::stream::config::StorageType;

const SECOND: i64 = 1_000_000_000;

fn config(json: &str) -> StreamConfig {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn check_ok(json: &str, expect: impl FnOnce(&StreamConfig)) {
    let checked = check_stream_config(&config(json), &ServerLimits::default())
        .unwrap_or_else(|e| panic!("{json}: {e}"));
    expect(&checked);
}

fn check_err(json: &str, limits: ServerLimits, expected: JsError) {
    assert_eq!(
        check_stream_config(&config(json), &limits),
        Err(expected),
        "{json}"
    );
}

fn invalid(message: &str) -> JsError {
    JsError::StreamInvalidConfig(message.to_string())
}

#[test]
fn defaults_are_filled_in() {
    check_ok(r#"{"name":"ORDERS"}"#, |c| {
        assert_eq!(c.subjects, vec!["ORDERS".to_string()]);
        assert_eq!(
            (
                c.max_msgs,
                c.max_bytes,
                c.max_msgs_per_subject,
                c.max_msg_size,
                c.max_consumers
            ),
            (-1, -1, -1, -1, -1)
        );
        assert_eq!(c.num_replicas, 1);
        assert_eq!(c.storage, StorageType::File);
        assert_eq!(c.duplicate_window, 120 * SECOND);
    });
    // A short max age caps the deduplication window.
    check_ok(
        r#"{"name":"S","subjects":["a.>"],"max_age":30000000000}"#,
        |c| {
            assert_eq!(c.duplicate_window, 30 * SECOND);
            assert_eq!(c.subjects, vec!["a.>".to_string()]);
        },
    );
    // Mirrors get no default subjects and no default window.
    check_ok(r#"{"name":"M","mirror":{"name":"ORDERS"}}"#, |c| {
        assert!(c.subjects.is_empty());
        assert_eq!(c.duplicate_window, 0);
    });
    check_ok(
        r#"{"name":"S","storage":"memory","retention":"workqueue","discard":"new"}"#,
        |c| {
            assert_eq!(c.storage, StorageType::Memory);
        },
    );
}

#[test]
fn invalid_configurations_get_nats_server_errors() {
    let none = ServerLimits::default();
    let cases: &[(&str, JsError)] = &[
        (
            r#"{"name":""}"#,
            invalid("stream name is required and can not contain '.', '*', '>'"),
        ),
        (
            r#"{"name":"a.b"}"#,
            invalid("stream name is required and can not contain '.', '*', '>'"),
        ),
        (
            r#"{"name":"a b"}"#,
            invalid("stream name is required and can not contain '.', '*', '>'"),
        ),
        (
            r#"{"name":"S","num_replicas":6}"#,
            invalid("maximum replicas is 5"),
        ),
        (
            r#"{"name":"S","num_replicas":-1}"#,
            JsError::ReplicasCountCannotBeNegative,
        ),
        (
            r#"{"name":"S","max_age":50000000}"#,
            invalid("max age needs to be >= 100ms"),
        ),
        (
            r#"{"name":"S","duplicate_window":-1}"#,
            invalid("duplicates window can not be negative"),
        ),
        (
            r#"{"name":"S","max_age":1000000000,"duplicate_window":2000000000}"#,
            invalid("duplicates window can not be larger then max age"),
        ),
        (
            r#"{"name":"S","duplicate_window":1000}"#,
            invalid("duplicates window needs to be >= 100ms"),
        ),
        (
            r#"{"name":"S","deny_purge":true,"allow_rollup_hdrs":true}"#,
            invalid("roll-ups require the purge permission"),
        ),
        (
            r#"{"name":"S","discard_new_per_subject":true}"#,
            invalid("discard new per subject requires discard new policy to be set"),
        ),
        (
            r#"{"name":"S","discard":"new","discard_new_per_subject":true}"#,
            invalid("discard new per subject requires max msgs per subject > 0"),
        ),
        (
            r#"{"name":"S","subjects":["a"],"mirror":{"name":"O"}}"#,
            JsError::MirrorWithSubjects,
        ),
        (
            r#"{"name":"S","mirror":{"name":"O"},"sources":[{"name":"P"}]}"#,
            JsError::MirrorWithSources,
        ),
        (
            r#"{"name":"S","subjects":["a","a"]}"#,
            invalid("duplicate subjects detected"),
        ),
        (
            r#"{"name":"S","subjects":["$JS.API.STREAM.INFO"]}"#,
            invalid("subjects overlap with jetstream api"),
        ),
        (
            r#"{"name":"S","subjects":["a..b"]}"#,
            invalid("invalid subject"),
        ),
    ];
    for (json, expected) in cases {
        check_err(json, none, expected.clone());
    }
    let name = "N".repeat(256);
    check_err(
        &format!(r#"{{"name":"{name}"}}"#),
        none,
        invalid("stream name is too long, maximum allowed is 255"),
    );
}

#[test]
fn the_server_limit_bounds_the_deduplication_window() {
    let limits = ServerLimits {
        duplicate_window_max_nanos: Some(60 * SECOND),
        ..ServerLimits::default()
    };
    let checked = check_stream_config(&config(r#"{"name":"S"}"#), &limits).unwrap();
    assert_eq!(checked.duplicate_window, 60 * SECOND);
    check_err(
        r#"{"name":"S","duplicate_window":90000000000}"#,
        limits,
        invalid("duplicates window can not be larger then server limit of 1m0s"),
    );
}

#[test]
fn json_round_trip_keeps_nats_server_field_names() {
    let checked = check_stream_config(
        &config(r#"{"name":"KV_x","subjects":["$KV.x.>"],"allow_direct":true}"#),
        &ServerLimits::default(),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::to_value(&checked).unwrap();
    for field in [
        "name",
        "subjects",
        "retention",
        "max_consumers",
        "max_msgs",
        "max_bytes",
        "max_age",
        "max_msgs_per_subject",
        "max_msg_size",
        "discard",
        "storage",
        "num_replicas",
        "duplicate_window",
        "allow_direct",
        "mirror_direct",
        "sealed",
        "deny_delete",
        "deny_purge",
        "allow_rollup_hdrs",
    ] {
        assert!(json.get(field).is_some(), "missing {field} in {json}");
    }
    for absent in [
        "description",
        "no_ack",
        "mirror",
        "sources",
        "placement",
        "republish",
        "template_owner",
    ] {
        assert!(
            json.get(absent).is_none(),
            "{absent} should be left out: {json}"
        );
    }
    assert_eq!(json["retention"], "limits");
    assert_eq!(json["storage"], "file");
    assert_eq!(json["discard"], "old");
}
