//! The sample configs shipped in `configs/` parse to the typed options they describe, and
//! mistakes are reported with file, line and column as nats-server reports them.

use natrium_server::configure::{load_file, LoadError};
use natrium_server::{ListenPort, Options};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(name)
}

/// Loads a sample and compares it with the defaults changed by `expect`.
fn check(name: &str, expect: impl FnOnce(&mut Options)) {
    let path = sample(name);
    let (options, warnings) = load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(warnings.is_empty(), "{name}: {warnings:?}");
    let mut expected = Options {
        config_file: Some(path),
        ..Options::default()
    };
    expect(&mut expected);
    assert_eq!(format!("{options:?}"), format!("{expected:?}"), "{name}");
}

#[test]
fn core_sample() {
    check("core.conf", |o| {
        o.host = "127.0.0.1".into();
        o.port = ListenPort::Fixed(4333);
        o.server_name = "natrium-core".into();
        o.client_advertise = "nats.example.com:4333".into();
        o.max_payload = 512 * 1024;
        o.max_pending = 32 * 1024 * 1024;
        o.max_control_line = 2000;
        o.max_connections = 1000;
        o.max_subscriptions = 500;
        o.ping_interval = Duration::from_secs(30);
        o.ping_max = 3;
        o.write_deadline = Duration::from_secs(5);
    });
}

#[test]
fn logging_sample() {
    check("logging.conf", |o| {
        o.debug = true;
        o.logtime = false;
        o.log_file = Some("/var/log/natrium/natrium.log".into());
        o.log_size_limit = 10 * 1024 * 1024;
        o.pid_file = Some("/var/run/natrium.pid".into());
    });
}

#[test]
fn lame_duck_sample() {
    check("lame_duck.conf", |o| {
        o.lame_duck_duration = Duration::from_secs(30);
        o.lame_duck_grace_period = Duration::from_secs(5);
    });
}

#[test]
fn monitoring_sample() {
    check("monitoring.conf", |o| {
        o.http_host = "127.0.0.1".into();
        o.http_port = Some(ListenPort::Fixed(8222));
        o.http_base_path = "/nats".into();
    });
}

#[test]
fn includes_and_variables_sample() {
    check("includes.conf", |o| {
        // A bare `k` is 1000, as in nats-server; `kb`/`ki` would be 1024.
        o.max_payload = 64_000;
        o.ping_interval = Duration::from_secs(90);
        o.port = ListenPort::Fixed(4444);
    });
}

/// Writes `text` to a temporary file and loads it.
fn load_text(text: &str) -> Result<(Options, Vec<String>), LoadError> {
    let dir = std::env::temp_dir().join(format!("natrium-configure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{:x}.conf",
        text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
    ));
    std::fs::write(&path, text).unwrap();
    let result = load_file(&path);
    let _ = std::fs::remove_file(&path);
    result
}

fn check_error(text: &str, expected_suffix: &str) {
    let error = load_text(text).expect_err(text).to_string();
    assert!(
        error.ends_with(expected_suffix),
        "{text:?}: got {error:?}, want …{expected_suffix:?}"
    );
}

#[test]
fn mistakes_are_reported_with_positions() {
    check_error(
        "port: 4222\nmax_payloda: 1MB\n",
        ".conf:2:1: unknown field \"max_payloda\"",
    );
    check_error(
        "ping_interval: \"2x\"\n",
        ": error parsing ping_interval: time: unknown unit \"x\" in duration \"2x\"",
    );
    check_error(
        "lame_duck_duration: \"5s\"\n",
        ": invalid lame_duck_duration of 5s, minimum is 30 seconds",
    );
    check_error(
        "jetstream {}\n",
        ".conf:1:1: \"jetstream\" is not supported by natrium yet",
    );
    check_error("port: \"abc\"\n", "expected integer, got string");
    check_error(
        "server_name: \"a b\"\n",
        "server name \"a b\" cannot contain spaces",
    );
}

#[test]
fn integer_durations_warn_as_nats_server_does() {
    let (options, warnings) = load_text("ping_interval: 60\n").unwrap();
    assert_eq!(options.ping_interval, Duration::from_secs(60));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].ends_with("ping_interval should be converted to a duration"));
}
