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
        "cluster {}\n",
        ".conf:1:1: \"cluster\" is not supported by natrium yet",
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

#[test]
fn the_jetstream_block_takes_nats_server_keys() {
    let (options, _) = load_text(
        "jetstream {\n  store_dir: \"/data/js\"\n  max_mem: 1G\n  max_file_store: \"10G\"\n  \
         domain: hub\n  sync_interval: \"2m\"\n  key: \"s3cret\"\n  cipher: chacha\n}\n",
    )
    .unwrap();
    let js = options.jetstream;
    assert!(js.enabled);
    assert_eq!(js.store_dir, "/data/js");
    // An integer's `G` is decimal; a string's is binary, as nats-server reads them.
    assert_eq!(js.max_memory, Some(1_000_000_000));
    assert_eq!(js.max_store, Some(10 << 30));
    assert_eq!(js.domain, "hub");
    assert_eq!(js.sync_interval, Some(Duration::from_secs(120)));
    assert_eq!(js.key, "s3cret");

    for (text, enabled) in [
        ("jetstream: enabled\n", true),
        ("jetstream: true\n", true),
        ("jetstream: disabled\n", false),
        ("jetstream { enabled: false }\n", false),
    ] {
        assert_eq!(
            load_text(text).unwrap().0.jetstream.enabled,
            enabled,
            "{text}"
        );
    }
    let (options, _) =
        load_text("store_dir: /tmp/x\njetstream { sync_interval: always }\n").unwrap();
    assert_eq!(options.jetstream.store_dir, "/tmp/x");
    assert_eq!(options.jetstream.sync_interval, None);
}

#[test]
fn jetstream_mistakes_get_nats_server_errors() {
    check_error(
        "jetstream: maybe\n",
        "Expected 'enabled' or 'disabled' for string value, got 'maybe'",
    );
    check_error(
        "store_dir: /a\njetstream { store_dir: /b }\n",
        "Duplicate 'store_dir' configuration",
    );
    check_error(
        "jetstream { cipher: rot13 }\n",
        "Unknown cipher type: \"rot13\"",
    );
    check_error("jetstream { colour: blue }\n", "unknown field \"colour\"");
    check_error(
        "jetstream: 5\n",
        "Expected map, bool or string to define JetStream, got int64",
    );
}

/// nats-server's `parseTLS` and `GenTLSConfig` texts (checked against 2.9.10 with `-t`).
#[test]
fn tls_mistakes_are_reported_as_nats_server_does() {
    for (text, expected) in [
        ("tls { bogus: 1 }\n", "error parsing tls config, unknown field [\"bogus\"]"),
        ("tls { verify: \"yes\" }\n", "error parsing tls config, expected 'verify' to be a boolean"),
        ("tls { cert_file: 1 }\n", "error parsing tls config, expected 'cert_file' to be filename"),
        ("tls { cipher_suites: [\"TLS_FOO\"] }\n", "unrecognized cipher TLS_FOO"),
        ("tls { cipher_suites: [] }\n", "error parsing tls config, 'cipher_suites' cannot be empty"),
        ("tls { curve_preferences: [\"P999\"] }\n", "unrecognized curve preference P999"),
        (
            "tls { pinned_certs: [\"abc\"] }\n",
            "error parsing tls config, 'pinned_certs' key abc does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
        ),
        ("tls { timeout: true }\n", "error parsing tls config, 'timeout' wrong type"),
        ("tls { handshake_first: \"maybe\" }\n", "field \"handshake_first\"'s value \"maybe\" is invalid"),
        ("tls { min_version: \"1.0\" }\n", "error parsing tls config: unsupported TLS version: TLS 1.0"),
        ("tls { ocsp_peer: true }\n", "tls \"ocsp_peer\" is not supported by natrium yet"),
        ("tls { cert_file: \"a.pem\" }\n", "missing 'key_file' in TLS configuration"),
        ("tls { key_file: \"a.pem\" }\n", "missing 'cert_file' in TLS configuration"),
        (
            "tls { cert_file: \"/nonexistent/c.pem\", key_file: \"/nonexistent/k.pem\" }\n",
            "error parsing X509 certificate/key pair: open /nonexistent/c.pem: no such file or directory",
        ),
    ] {
        check_error(text, expected);
    }
}

#[test]
fn websocket_sample() {
    check("websocket.conf", |o| {
        o.websocket = Some(natrium_server::WebsocketOptions {
            host: "127.0.0.1".into(),
            port: ListenPort::Fixed(8080),
            advertise: "ws.example.com:443".into(),
            no_tls: true,
            tls: None,
            same_origin: false,
            allowed_origins: vec![
                "https://app.example.com".into(),
                "http://localhost:3000".into(),
            ],
            handshake_timeout: Duration::from_secs(5),
            headers: vec![("X-Served-By".into(), "natrium".into())],
            compression: true,
            auth: natrium_auth::ListenerAuth {
                username: Some("web".into()),
                password: Some(natrium_auth::Secret::new("s3cr3t")),
                auth_timeout: Some(Duration::from_secs(5)),
                ..Default::default()
            },
            user_cookie: "nats_user".into(),
            pass_cookie: "nats_pass".into(),
            token_cookie: String::new(),
        });
    });
}

#[test]
fn websocket_mistakes_get_nats_server_errors() {
    check_error(
        "websocket { port: 8080 }\n",
        "websocket requires TLS configuration",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, jwt_cookie: \"jwt\" }\n",
        "trusted operators or trusted keys configuration is required for JWT authentication via cookie \"jwt\"",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, headers { Connection: x } }\n",
        "websocket: invalid header \"Connection\" not allowed",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, headers { Sec-WebSocket-Foo: x } }\n",
        "websocket: invalid header \"Sec-WebSocket-Foo\", \"Sec-WebSocket-\" prefix not allowed",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, allowed_origins: [\"nope\"] }\n",
        "unable to parse allowed origin: parse \"nope\": invalid URI for request",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, bogus: 1 }\n",
        ".conf:1:39: unknown field \"bogus\"",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, authorization { users: [] } }\n",
        ".conf:1:55: unknown field \"users\"",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, handshake_timeout: \"2x\" }\n",
        ".conf:1:39: time: unknown unit \"x\" in duration \"2x\"",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, headers: 1 }\n",
        ".conf:1:39: error parsing headers: unsupported type int64",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, headers { X-A: 1 } }\n",
        ".conf:1:54: error parsing header key X-A: unsupported type int64",
    );
    check_error(
        "websocket { port: 8080, no_tls: true, allowed_origins: [\"ws://a.example\"] }\n",
        "unable to parse allowed origin \"ws://a.example\": allowed origins must be absolute URLs with http or https scheme",
    );
    // Port 0 (nats-server's default) leaves the listener off, whatever else is set.
    let (options, _) = load_text("websocket { port: 0 }\n").expect("port 0");
    assert!(options.websocket.is_none());
}
