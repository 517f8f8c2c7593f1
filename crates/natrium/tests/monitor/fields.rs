//! nats-server's monitoring field names, written from the types in its
//! `server/monitor.go`: `ALWAYS` fields appear in every answer with the kind given,
//! `OPTIONAL` ones are `omitempty` there. [`check_fields`] holds an answer to a list.

use serde_json::Value;

/// A JSON value's kind, as the field lists name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Num,
    Bool,
    Obj,
    Arr,
    /// An array that nats-server leaves `null` when empty.
    ArrOrNull,
}

fn kind_matches(value: &Value, kind: Kind) -> bool {
    match kind {
        Kind::Str => value.is_string(),
        Kind::Num => value.is_number(),
        Kind::Bool => value.is_boolean(),
        Kind::Obj => value.is_object(),
        Kind::Arr => value.is_array(),
        Kind::ArrOrNull => value.is_array() || value.is_null(),
    }
}

/// Checks `value` has every `always` field with its kind, and nothing outside `always`
/// and `optional`.
pub fn check_fields(what: &str, value: &Value, always: &[(&str, Kind)], optional: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {value}"));
    for (name, kind) in always {
        let field = object
            .get(*name)
            .unwrap_or_else(|| panic!("{what} lacks {name:?}: {value:#}"));
        assert!(
            kind_matches(field, *kind),
            "{what}.{name} is not {kind:?}: {field}"
        );
    }
    for name in object.keys() {
        assert!(
            always.iter().any(|(known, _)| known == name) || optional.contains(&name.as_str()),
            "{what} has {name:?}, which nats-server does not"
        );
    }
}

pub use Kind::{Arr, ArrOrNull, Bool, Num, Obj, Str};

pub const VARZ_ALWAYS: &[(&str, Kind)] = &[
    ("server_id", Str),
    ("server_name", Str),
    ("version", Str),
    ("proto", Num),
    ("go", Str),
    ("host", Str),
    ("port", Num),
    ("max_connections", Num),
    ("ping_interval", Num),
    ("ping_max", Num),
    ("http_host", Str),
    ("http_port", Num),
    ("http_base_path", Str),
    ("https_port", Num),
    ("auth_timeout", Num),
    ("max_control_line", Num),
    ("max_payload", Num),
    ("max_pending", Num),
    ("cluster", Obj),
    ("gateway", Obj),
    ("leaf", Obj),
    ("mqtt", Obj),
    ("websocket", Obj),
    ("jetstream", Obj),
    ("tls_timeout", Num),
    ("write_deadline", Num),
    ("start", Str),
    ("now", Str),
    ("uptime", Str),
    ("mem", Num),
    ("cores", Num),
    ("gomaxprocs", Num),
    ("cpu", Num),
    ("connections", Num),
    ("total_connections", Num),
    ("routes", Num),
    ("remotes", Num),
    ("leafnodes", Num),
    ("in_msgs", Num),
    ("out_msgs", Num),
    ("in_bytes", Num),
    ("out_bytes", Num),
    ("slow_consumers", Num),
    ("subscriptions", Num),
    ("http_req_stats", Obj),
    ("config_load_time", Str),
];
pub const VARZ_OPTIONAL: &[&str] = &[
    "git_commit",
    "auth_required",
    "tls_required",
    "tls_verify",
    "ip",
    "connect_urls",
    "ws_connect_urls",
    "max_subscriptions",
    "tags",
    "trusted_operators_jwt",
    "trusted_operators_claim",
    "system_account",
    "pinned_account_fails",
];
pub const LIST_ALWAYS: &[(&str, Kind)] = &[
    ("server_id", Str),
    ("now", Str),
    ("num_connections", Num),
    ("total", Num),
    ("offset", Num),
    ("limit", Num),
    ("connections", Arr),
];
pub const CONN_ALWAYS: &[(&str, Kind)] = &[
    ("cid", Num),
    ("kind", Str),
    ("type", Str),
    ("ip", Str),
    ("port", Num),
    ("start", Str),
    ("last_activity", Str),
    ("rtt", Str),
    ("uptime", Str),
    ("idle", Str),
    ("pending_bytes", Num),
    ("in_msgs", Num),
    ("out_msgs", Num),
    ("in_bytes", Num),
    ("out_bytes", Num),
    ("subscriptions", Num),
];
pub const CONN_OPTIONAL: &[&str] = &[
    "stop",
    "reason",
    "name",
    "lang",
    "version",
    "tls_version",
    "tls_cipher_suite",
    "tls_peer_certs",
    "authorized_user",
    "account",
    "subscriptions_list",
    "subscriptions_list_detail",
    "jwt",
    "issuer_key",
    "name_tag",
    "tags",
    "mqtt_client",
];
pub const SUB_ALWAYS: &[(&str, Kind)] =
    &[("subject", Str), ("sid", Str), ("msgs", Num), ("cid", Num)];
pub const SUB_OPTIONAL: &[&str] = &["account", "qgroup", "max"];
pub const SUBLIST_STATS: &[(&str, Kind)] = &[
    ("num_subscriptions", Num),
    ("num_cache", Num),
    ("num_inserts", Num),
    ("num_removes", Num),
    ("num_matches", Num),
    ("cache_hit_rate", Num),
    ("max_fanout", Num),
    ("avg_fanout", Num),
];
