//! The real file system and process environment: includes from temporary files, `$VAR` from the
//! environment. One test only, so setting an environment variable races with no other thread.

use std::fs;
use std::path::{Path, PathBuf};

use natrium_config::{parse_file, parse_str, ErrorKind};

fn scratch_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("config-files-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("sub")).expect("create scratch dir");
    dir
}

/// (file name under the scratch dir, contents).
const FILES: &[(&str, &str)] = &[
    (
        "main.conf",
        "# server\nport: $NATRIUM_CONFIG_FILES_TEST_PORT\ninclude 'sub/auth.conf'\nhttp = 8222\n",
    ),
    (
        "sub/auth.conf",
        "include ./users.conf\nauthorization { timeout = 2 }\n",
    ),
    (
        "sub/users.conf",
        "users = [ { user: a, password: $2a$11$x } ]\n",
    ),
    ("broken.conf", "a = 1\ninclude sub/missing.conf\n"),
];

#[test]
fn files_and_environment() {
    let dir = scratch_dir();
    for (name, contents) in FILES {
        fs::write(dir.join(name), contents).expect("write fixture");
    }
    std::env::set_var("NATRIUM_CONFIG_FILES_TEST_PORT", "4333");

    let root = parse_file(&dir.join("main.conf")).expect("main.conf parses");
    let map = root.as_map().expect("top level is a map");
    let keys: Vec<&str> = map.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["port", "users", "authorization", "http"]);
    assert_eq!(map.get("port").and_then(|v| v.as_i64().ok()), Some(4333));
    let users = map.get("users").expect("users").as_array().expect("array");
    let user = users[0].as_map().expect("user map");
    assert_eq!(
        user.get("password").and_then(|v| v.as_str().ok()),
        Some("$2a$11$x")
    );
    assert_eq!(
        users[0].position.to_string(),
        format!("{}:1:11", dir.join("sub/users.conf").display())
    );

    let missing = parse_file(&dir.join("broken.conf")).expect_err("missing include");
    assert!(
        matches!(missing.kind, ErrorKind::Include { .. }),
        "{missing}"
    );
    assert_eq!(missing.position.line, 2);
    assert!(
        missing
            .to_string()
            .contains("missing.conf: error opening config file"),
        "{missing}"
    );

    let absent = parse_file(&dir.join("absent.conf")).expect_err("absent file");
    assert!(matches!(absent.kind, ErrorKind::Open { .. }), "{absent}");

    fs::write(dir.join("latin1.conf"), b"# caf\xe9\nport = 1\n").expect("write");
    let latin1 = parse_file(&dir.join("latin1.conf")).expect_err("not UTF-8");
    assert_eq!(
        latin1.to_string(),
        format!(
            "{}:1:6: config file is not valid UTF-8",
            dir.join("latin1.conf").display()
        )
    );

    // parse_str resolves includes against the directory of its origin.
    let from_text = parse_str("include sub/users.conf", &dir.join("virtual.conf")).expect("parses");
    assert_eq!(from_text.as_map().map(|m| m.len()).ok(), Some(1));

    let _ = fs::remove_dir_all(&dir);
}
