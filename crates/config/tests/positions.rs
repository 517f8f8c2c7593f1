//! Source positions of keys and values, and which keys `$variables` used, as data.

mod common;

use std::path::Path;

use common::{at, MemoryHost};
use natrium_config::{parse_str_with, Kind, Value};

const ORIGIN: &str = "/conf/main.conf";

const FILES: &[(&str, &str)] = &[("/conf/inc.conf", "\nport = 4222\n")];

/// (input, dotted path to a value, expected "file:line:column" of the value, of its key).
/// A key position of "-" means the value is an array item, which has no key.
const POSITIONS: &[(&str, &str, &str, &str)] = &[
    (
        "port = 4222",
        "port",
        "/conf/main.conf:1:8",
        "/conf/main.conf:1:1",
    ),
    (
        "  port 4222",
        "port",
        "/conf/main.conf:1:8",
        "/conf/main.conf:1:3",
    ),
    (
        "\n  m {\n    a = \"x\"\n  }",
        "m",
        "/conf/main.conf:2:5",
        "/conf/main.conf:2:3",
    ),
    (
        "\n  m {\n    a = \"x\"\n  }",
        "m.a",
        "/conf/main.conf:3:10",
        "/conf/main.conf:3:5",
    ),
    (
        "l = [1, 'two']",
        "l",
        "/conf/main.conf:1:5",
        "/conf/main.conf:1:1",
    ),
    ("l = [1, 'two']", "l.0", "/conf/main.conf:1:6", "-"),
    ("l = [1, 'two']", "l.1", "/conf/main.conf:1:10", "-"),
    (
        "x = 1\ny = $x",
        "y",
        "/conf/main.conf:2:5",
        "/conf/main.conf:2:1",
    ),
    (
        "é = 'ü'\nb = 1",
        "é",
        "/conf/main.conf:1:6",
        "/conf/main.conf:1:1",
    ),
    (
        "é = 'ü'; b = 1",
        "b",
        "/conf/main.conf:1:14",
        "/conf/main.conf:1:10",
    ),
    (
        "a = (\nblock\n)",
        "a",
        "/conf/main.conf:1:6",
        "/conf/main.conf:1:1",
    ),
    (
        "include inc.conf",
        "port",
        "/conf/inc.conf:2:8",
        "/conf/inc.conf:2:1",
    ),
    (
        "'q' = -1",
        "q",
        "/conf/main.conf:1:7",
        "/conf/main.conf:1:2",
    ),
];

fn check_position(input: &str, path: &str, value_at: &str, key_at: &str) {
    let host = MemoryHost::new(&[], FILES);
    let root = parse_str_with(input, Path::new(ORIGIN), &host).expect("parses");
    assert_eq!(
        at(&root, path).position.to_string(),
        value_at,
        "{input:?} {path}"
    );
    let (parent_path, last) = path.rsplit_once('.').unwrap_or(("", path));
    let parent = at(&root, parent_path);
    let key_position = match &parent.kind {
        Kind::Map(map) => map.entry(last).expect("entry").key_position.to_string(),
        _ => "-".to_string(),
    };
    assert_eq!(key_position, key_at, "{input:?} {path} key");
}

#[test]
fn positions() {
    for (input, path, value_at, key_at) in POSITIONS {
        check_position(input, path, value_at, key_at);
    }
}

/// (input, dotted path of a map, keys of that map that a `$variable` read).
const USED_AS_VARIABLE: &[(&str, &str, &[&str])] = &[
    ("x = 1\ny = $x\nz = 2", "", &["x"]),
    ("x = 1\nm { y = $x }", "", &["x"]),
    ("x = 1\nm { x = 2, y = $x }", "m", &["x"]),
    ("x = 1\nm { x = 2, y = $x }", "", &[]),
    ("x = 1\nx = 2", "", &[]),
    ("include inc.conf\np = $port", "", &["port"]),
    ("p = $NOT_A_KEY_BUT_ENV", "", &[]),
];

fn used_keys(value: &Value) -> Vec<&str> {
    let map = value.as_map().expect("a map");
    map.iter()
        .filter(|entry| entry.used_as_variable)
        .map(|entry| entry.key.as_str())
        .collect()
}

#[test]
fn keys_used_as_variables() {
    for (input, path, expected) in USED_AS_VARIABLE {
        let host = MemoryHost::new(&[("NOT_A_KEY_BUT_ENV", "1")], FILES);
        let root = parse_str_with(input, Path::new(ORIGIN), &host).expect("parses");
        assert_eq!(used_keys(at(&root, path)), *expected, "{input:?} {path}");
    }
}
