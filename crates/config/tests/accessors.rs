//! Typed accessors on the value tree, as data: each reads one key and shows the result or error.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{at, MemoryHost};
use natrium_config::{parse_str_with, Value};

const CONFIG: &str = "\
int = 42
negative = -3
size = 1MB
float = 1.5
string = 'hello'
yes = on
when = 2016-05-04T18:53:41Z
ping_interval = \"1h30m\"
write_deadline = \"10s\"
legacy_interval = 120
bad_duration = \"2x\"
negative_duration = \"-1s\"
max_file_store = \"1G\"
max_memory_store = \"\"
bad_store = \"5Q\"
map { Port = 4222 }
array = [1, two ]
";

/// Which accessor to call.
#[derive(Clone, Copy)]
enum Get {
    I64,
    F64,
    Bool,
    Str,
    Duration,
    StorageSize,
    Datetime,
    Map,
    Array,
}

/// (key, accessor, rendered result: the value, or the error's display).
const CASES: &[(&str, Get, &str)] = &[
    ("int", Get::I64, "42"),
    ("negative", Get::I64, "-3"),
    ("size", Get::I64, "1048576"),
    ("float", Get::F64, "1.5"),
    ("string", Get::Str, "hello"),
    ("yes", Get::Bool, "true"),
    ("when", Get::Datetime, "2016-05-04T18:53:41Z @1462388021"),
    ("ping_interval", Get::Duration, "5400s"),
    ("write_deadline", Get::Duration, "10s"),
    ("legacy_interval", Get::Duration, "120s"),
    ("map", Get::Map, "1 keys"),
    ("array", Get::Array, "2 items"),
    (
        "int",
        Get::Str,
        "/conf/main.conf:1:7: expected string, got integer",
    ),
    (
        "string",
        Get::I64,
        "/conf/main.conf:5:11: expected integer, got string",
    ),
    (
        "int",
        Get::F64,
        "/conf/main.conf:1:7: expected float, got integer",
    ),
    (
        "yes",
        Get::Map,
        "/conf/main.conf:6:7: expected map, got bool",
    ),
    (
        "map",
        Get::Array,
        "/conf/main.conf:16:5: expected array, got map",
    ),
    (
        "float",
        Get::Duration,
        "/conf/main.conf:4:9: expected duration, got float",
    ),
    (
        "bad_duration",
        Get::Duration,
        "/conf/main.conf:11:17: time: unknown unit \"x\" in duration \"2x\"",
    ),
    (
        "negative_duration",
        Get::Duration,
        "/conf/main.conf:12:22: negative duration \"-1s\"",
    ),
    (
        "negative",
        Get::Duration,
        "/conf/main.conf:2:12: duration of -3 seconds is out of range",
    ),
    ("max_file_store", Get::StorageSize, "1073741824"),
    ("max_memory_store", Get::StorageSize, "0"),
    ("size", Get::StorageSize, "1048576"),
    (
        "bad_store",
        Get::StorageSize,
        "/conf/main.conf:15:14: sizes defined as strings must end in K, M, G, T",
    ),
    (
        "yes",
        Get::StorageSize,
        "/conf/main.conf:6:7: must be int64 or string",
    ),
];

fn read(value: &Value, get: Get) -> String {
    let shown = match get {
        Get::I64 => value.as_i64().map(|n| n.to_string()),
        Get::F64 => value.as_f64().map(|n| n.to_string()),
        Get::Bool => value.as_bool().map(|b| b.to_string()),
        Get::Str => value.as_str().map(str::to_string),
        Get::Duration => value.as_duration().map(|d: Duration| format!("{d:?}")),
        Get::StorageSize => value.as_storage_size().map(|n| n.to_string()),
        Get::Datetime => value
            .as_datetime()
            .map(|dt| format!("{dt} @{}", dt.unix_seconds())),
        Get::Map => value.as_map().map(|m| format!("{} keys", m.len())),
        Get::Array => value.as_array().map(|a| format!("{} items", a.len())),
    };
    shown.unwrap_or_else(|e| e.to_string())
}

fn check(root: &Value, key: &str, get: Get, expected: &str) {
    assert_eq!(read(at(root, key), get), expected, "{key}");
}

#[test]
fn accessors() {
    let host = MemoryHost::new(&[], &[]);
    let root = parse_str_with(CONFIG, Path::new("/conf/main.conf"), &host).expect("parses");
    for (key, get, expected) in CASES {
        check(&root, key, *get, expected);
    }
}

#[test]
fn option_names_match_ignoring_case() {
    let host = MemoryHost::new(&[], &[]);
    let root = parse_str_with(CONFIG, Path::new("/conf/main.conf"), &host).expect("parses");
    let map = at(&root, "map").as_map().expect("map");
    let entry = map.entry_ignore_case("port").expect("Port matches port");
    assert_eq!(
        (entry.key.as_str(), entry.value.as_i64().ok()),
        ("Port", Some(4222))
    );
    assert!(
        map.get("port").is_none(),
        "exact lookups stay case-sensitive"
    );
}
