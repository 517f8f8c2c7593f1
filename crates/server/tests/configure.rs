//! The sample configs shipped in `configs/` parse to the typed options they describe, and
//! mistakes are reported with file, line and column as nats-server reports them.

use natrium_server::configure::{load_file, LoadError};
use natrium_server::{ListenPort, Options};
use natrium_subject::mapping::{MapDestination, Mapping, Mappings};
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
fn mappings_sample() {
    check("mappings.conf", |o| {
        let mut mappings = Mappings::new();
        let always = |subject: &str| vec![MapDestination::always(subject)];
        let weighted = |pairs: &[(&str, u8)]| -> Vec<MapDestination> {
            pairs
                .iter()
                .map(|&(subject, weight)| MapDestination {
                    weight,
                    ..MapDestination::always(subject)
                })
                .collect()
        };
        for (source, destinations) in [
            ("orders.new", always("orders.received")),
            ("orders.*.*", always("region.$2.$1")),
            ("events.*", always("events.{{partition(5,1)}}.$1")),
            ("api.requests", weighted(&[("api.v1", 80), ("api.v2", 20)])),
            ("flaky", weighted(&[("flaky", 90)])),
        ] {
            mappings.add(Mapping::new(source, &destinations).unwrap());
        }
        o.mappings = mappings;
    });
}

#[test]
fn mapping_mistakes_get_nats_server_errors() {
    check_error(
        "mappings {\n  foo: [{destination: a, weight: 80%}, {destination: b, weight: 30%}]\n}\n",
        ":2:8: Error adding mapping for \"foo\" : total weight needs to be <= 100",
    );
    check_error(
        "maps { \"foo.*\": \"bar.$2\" }\n",
        ": Error adding mapping for \"foo.*\" to \"bar.$2\" : invalid mapping destination: \
         wildcard index out of range in $2: [2]",
    );
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

#[test]
fn accounts_sample() {
    use natrium_server::account::config::{ExportKind, ImportKind, ResponseType};
    let (options, warnings) = load_file(&sample("accounts.conf")).expect("accounts.conf");
    assert!(warnings.is_empty(), "{warnings:?}");
    let names: Vec<&str> = options.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ORDERS", "SHOP"]);
    let orders = &options.accounts[0];
    assert_eq!(orders.limits.max_connections, Some(100));
    assert_eq!(orders.limits.max_subscriptions, Some(1000));
    assert_eq!(orders.limits.max_payload, Some(65536));
    let js = orders.jetstream.expect("JetStream for ORDERS");
    assert_eq!((js.max_memory, js.max_storage), (64_000_000, 1_000_000_000));
    assert_eq!((js.max_streams, js.max_consumers), (10, 100));
    assert_eq!(orders.exports.len(), 2);
    match &orders.exports[1].kind {
        ExportKind::Service(service) => {
            assert_eq!(service.response_type, ResponseType::Singleton);
            assert_eq!(service.response_threshold, Duration::from_secs(5));
        }
        other => panic!("a service export, got {other:?}"),
    }
    assert_eq!(orders.exports[1].accounts, Some(vec!["SHOP".to_string()]));
    let shop = &options.accounts[1];
    assert_eq!(shop.jetstream, Some(Default::default()));
    assert!(
        matches!(&shop.imports[0].kind, ImportKind::Stream { to: Some(to), .. } if to == "shop.orders.>")
    );
    assert_eq!(shop.imports[0].local_subject(), "shop.orders.>");
    assert!(matches!(&shop.imports[1].kind, ImportKind::Service { to, .. } if to == "lookup"));
    // Account users join the authorization users, each bound to its account.
    let users: Vec<(&str, Option<&str>)> = options
        .auth
        .users
        .iter()
        .map(|u| (u.username.as_str(), u.account.as_deref()))
        .collect();
    assert_eq!(
        users,
        [
            ("admin", None),
            ("orders", Some("ORDERS")),
            ("shop", Some("SHOP"))
        ]
    );
    assert_eq!(
        options.jetstream_account_limits("ORDERS"),
        None,
        "JetStream is off"
    );
}

/// nats-server's texts for broken `accounts` blocks (checked against 2.9.10 with `-t`).
#[test]
fn account_mistakes_get_nats_server_errors() {
    for (text, expected) in [
        ("accounts { A: 1 }\n", "Expected map entries for accounts"),
        ("accounts { $G { } }\n", "\"$G\" is a Reserved Account"),
        ("accounts [ A, B, A ]\n", "Duplicate Account Entry: A"),
        ("accounts { A { foo: 1 } }\n", "unknown field \"foo\""),
        ("accounts { A { max_connections: 1 } }\n", "unknown field \"max_connections\""),
        (
            "accounts { A { limits: { max_foo: 1 } } }\n",
            "Unknown field \"max_foo\" parsing account limits",
        ),
        ("accounts { A { limits: 1 } }\n", "Expected account limits to be a map/struct, got 1"),
        (
            "accounts { A { jetstream: maybe } }\n",
            "Expected 'enabled' or 'disabled' for string value, got 'maybe'",
        ),
        (
            "accounts { A { jetstream: 5 } }\n",
            "Expected map, bool or string to define JetStream, got int64",
        ),
        (
            "accounts { A { jetstream: { max_mem: \"x\" } } }\n",
            "Expected a parseable size for \"max_mem\", got x",
        ),
        (
            "accounts { A { jetstream: { max_bytes: 5 } } }\n",
            "Expected a parseable bool for \"max_bytes\", got 5",
        ),
        ("accounts { A { nkey: bad } }\n", "Not a valid public nkey for an account: \"bad\""),
        (
            "authorization { user: x, password: y }\naccounts { A { users: [{user: a}] } }\n",
            "Can not have a single user/pass and accounts",
        ),
        (
            "authorization { token: t }\naccounts { A { users: [{user: a}] } }\n",
            "Can not have a token and accounts",
        ),
        (
            "accounts { A { users: [{user: a}] }, B { users: [{user: a}] } }\n",
            "Duplicate user \"a\" detected",
        ),
        (
            "authorization { users: [{user: a}] }\naccounts { A { users: [{user: a}] } }\n",
            "Duplicate user \"a\" detected",
        ),
        (
            "accounts { A { users: [{user: a}] } }\nno_auth_user: b\n",
            "no_auth_user: \"b\" not present as user in authorization block or account configuration",
        ),
        ("system_account: 5\n", "system account name must be a string"),
    ] {
        check_error(text, expected);
    }
    let (options, _) =
        load_text("accounts { A { users: [{user: a}] } }\nno_auth_user: a\nsystem_account: A\n")
            .expect("an account user may be the no_auth_user");
    assert_eq!(options.auth.no_auth_user.as_deref(), Some("a"));
    assert_eq!(options.system_account_name(), Some("A"));
}

/// Broken links between accounts, refused at load with nats-server's texts (checked against
/// 2.9.10 with `-t`): nats-server reports them at the `accounts` key.
#[test]
fn import_mistakes_get_nats_server_errors() {
    let exporting = |exports: &str, imports: &str| {
        format!("accounts {{\n  A {{ exports: [{exports}] }}\n  B {{ imports: [{imports}] }}\n  C {{}}\n}}\n")
    };
    for (text, expected) in [
        (
            exporting(r#"{stream: "foo.>", accounts: [C]}"#, r#"{stream: {account: A, subject: "foo.>"}}"#),
            ".conf:1:1: Error adding stream import \"foo.>\": stream import not authorized",
        ),
        (
            exporting("", r#"{stream: {account: A, subject: "foo.>"}}"#),
            "Error adding stream import \"foo.>\": stream import not authorized",
        ),
        (
            exporting(r#"{service: "req.>"}"#, r#"{service: {account: A, subject: "other"}}"#),
            "Error adding service import \"other\": service import not authorized",
        ),
        (
            exporting(r#"{stream: "foo.>", accounts: [X]}"#, ""),
            "\"X\" account not defined for stream export",
        ),
        (
            exporting(r#"{service: "foo.>", accounts: [X]}"#, ""),
            "\"X\" account not defined for service export",
        ),
        (
            exporting("", r#"{stream: {account: Z, subject: "foo.>"}}"#),
            "\"Z\" account not defined for stream import",
        ),
        (
            exporting("", r#"{service: {account: Z, subject: "foo"}}"#),
            "\"Z\" account not defined for service import",
        ),
        (
            exporting(
                r#"{service: "req.>"}"#,
                r#"{service: {account: A, subject: "req.x"}, to: "r"}, {service: {account: A, subject: "req.y"}, to: "r"}"#,
            ),
            "Duplicate service import subject \"r\", previously used in import for account \"A\", subject \"req.x\"",
        ),
        (
            exporting(r#"{stream: "foo.*"}"#, r#"{stream: {account: A, subject: "foo.*"}, prefix: "p.*"}"#),
            "Error adding stream import \"foo.*\": stream import prefix can not contain wildcard tokens",
        ),
        (
            exporting(r#"{stream: "foo.*"}"#, r#"{stream: {account: A, subject: "foo.*"}, to: "bar"}"#),
            "Error adding stream import \"foo.*\": failed to create mapping transform for stream import subject \"foo.*\" to \"bar\": invalid mapping destination: not using all of the token wildcard(s) in bar",
        ),
        (
            exporting(r#"{stream: "foo.*"}"#, r#"{stream: {account: A, subject: "foo.*"}, to: "bar.*.*"}"#),
            "failed to create mapping transform for stream import subject \"foo.*\" to \"bar.*.*\": invalid mapping destination: wildcard index out of range in $2: [2]",
        ),
        (
            exporting(
                r#"{stream: "foo.a"}"#,
                r#"{stream: {account: A, subject: "foo.a"}}, {stream: {account: A, subject: "foo.a"}, to: x}"#,
            ),
            "Error adding stream import \"foo.a\": stream import already exists",
        ),
        (
            exporting(r#"{stream: "foo.x.*", account_token_position: 2}"#, ""),
            "Error adding stream export \"foo.x.*\": sublist: invalid subject",
        ),
        (
            exporting(
                r#"{stream: "foo.*", account_token_position: 2}"#,
                r#"{stream: {account: A, subject: "foo.C"}}"#,
            ),
            "Error adding stream import \"foo.C\": stream import not authorized",
        ),
        (
            "accounts {\n  A { exports: [{stream: \"foo\"}], imports: [{stream: {account: B, subject: \"foo\"}}] }\n  \
             B { exports: [{stream: \"foo\"}], imports: [{stream: {account: A, subject: \"foo\"}}] }\n}\n"
                .to_string(),
            "Error adding stream import \"foo\": import forms a cycle",
        ),
        (
            "accounts {\n  A { exports: [{service: \"foo\"}], imports: [{service: {account: B, subject: \"foo\"}}] }\n  \
             B { exports: [{service: \"foo\"}], imports: [{service: {account: A, subject: \"foo\"}}] }\n}\n"
                .to_string(),
            "Error adding service import \"foo\": import forms a cycle",
        ),
        (
            exporting(r#"{stream: "s", response_type: stream}"#, ""),
            "Detected response directive on non-service",
        ),
        (
            exporting(r#"{service: "s", response_type: often}"#, ""),
            "Unknown response type: \"often\"",
        ),
        (
            exporting(r#"{service: "s", response_threshold: "soon"}"#, ""),
            "Expected response threshold to be a parseable time duration, got \"soon\"",
        ),
        (
            exporting(r#"{service: "s", latency: {sampling: 200, subject: lat}}"#, ""),
            "bad sampling percentage, should be 1-100",
        ),
        (
            exporting(r#"{service: "s", latency: {sampling: 50}}"#, ""),
            "Latency subject required, but missing",
        ),
        (
            exporting(r#"{service: "s", latency: {sampling: headers, subject: lat}}"#, ""),
            "latency sampling \"headers\" is not supported by natrium yet",
        ),
        (
            exporting("", r#"{stream: {account: A}}"#),
            "Expect an account name and a subject",
        ),
        (
            exporting("", r#"{stream: {account: A, subject: "x"}, prefix: p, to: q}"#),
            "Stream import can not have a 'prefix' and a 'to' property",
        ),
        ("accounts { A { exports: 5 } }\n".to_string(), "Exports should be an array, got int64"),
        ("accounts { A { imports: [\"x\"] } }\n".to_string(), "Import Items should be a map with type entry, got string"),
    ] {
        check_error(&text, expected);
    }
    let (options, _) = load_text(&exporting(
        r#"{service: "s", latency: {sampling: "50%", subject: lat}}"#,
        "",
    ))
    .expect("latency tracking");
    assert!(format!("{:?}", options.accounts[0].exports[0]).contains("Percent(50)"));
    check_error(
        &format!(
            "no_system_account: true\n{}",
            exporting(
                r#"{service: "s", latency: {sampling: 50, subject: lat}}"#,
                ""
            )
        ),
        "Error adding service latency sampling for \"s\": system account not setup",
    );
}
