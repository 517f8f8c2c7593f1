//! Authentication and authorization on the client port, over raw TCP transcripts and with
//! async-nats: every method with the right and a wrong secret, permissions (allow/deny,
//! wildcards, queues, deny at delivery, allow_responses, default permissions), connection
//! types, source networks, connect windows, the auth timeout, reload, and a login storm.
//!
//! Against nats-server 2.9.10 (`NATRIUM_TEST_SERVER`) everything passes but the Natrium
//! extensions (`src`, `times` on config users) and the one deliberate difference
//! (`a_subscription_broader_than_its_allow_entry_is_refused`).

mod common;

use common::{settle, within, ConfigFile, Ending, RawClient, TestServer};
use futures::StreamExt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
async fn start(config: &ConfigFile) -> TestServer {
    TestServer::start_with(&["-c", config.arg()]).await
}

const VIOLATION: &[u8] = b"-ERR 'Authorization Violation'\r\n";

/// A raw client's CONNECT line with these extra JSON fields.
fn connect_line(fields: &str) -> Vec<u8> {
    let comma = if fields.is_empty() { "" } else { "," };
    format!("CONNECT {{\"verbose\":false,\"pedantic\":false{comma}{fields}}}\r\n").into_bytes()
}

/// Connects raw with `fields` in CONNECT; returns the client once a PING got its PONG, or
/// asserts the server answered `Authorization Violation` and hung up.
async fn raw_login(server: &TestServer, fields: &str, admitted: bool) -> Option<RawClient> {
    let mut client = server.raw().await;
    client.send(&connect_line(fields)).await;
    client.send(b"PING\r\n").await;
    if admitted {
        client.expect(b"PONG\r\n").await;
        Some(client)
    } else {
        client.expect(VIOLATION).await;
        client.expect_closed().await;
        None
    }
}

/// Logs in raw with `fields` and, if `line` is not empty, sends it and waits for it to be
/// processed (a PING's PONG).
async fn login_with(server: &TestServer, fields: &str, line: &str) -> RawClient {
    let mut client = raw_login(server, fields, true)
        .await
        .unwrap_or_else(|| panic!("{fields} logs in"));
    if !line.is_empty() {
        client.send(format!("{line}\r\nPING\r\n").as_bytes()).await;
        client.expect(b"PONG\r\n").await;
    }
    client
}

/// Whether async-nats with `options` connects (and a message makes a round trip).
async fn connects(server: &TestServer, options: async_nats::ConnectOptions) -> bool {
    let options = options.connection_timeout(Duration::from_secs(3));
    let Ok(client) = within("connect", options.connect(server.url())).await else {
        return false;
    };
    let mut subscriber = client.subscribe("auth.echo").await.expect("subscribe");
    client
        .publish("auth.echo", "hi".into())
        .await
        .expect("publish");
    within("echo", subscriber.next()).await.is_some()
}

/// Each row: a description, the CONNECT fields, and whether they log in.
async fn check_logins(server: &TestServer, rows: &[(&str, &str, bool)]) {
    for (what, fields, admitted) in rows {
        let outcome = raw_login(server, fields, *admitted).await;
        assert_eq!(outcome.is_some(), *admitted, "{what}");
    }
}

/// The INFO a new raw connection receives.
async fn first_info(server: &TestServer) -> String {
    RawClient::connect(server.address()).await.read_info().await
}

fn info_json(info: &str) -> serde_json::Value {
    serde_json::from_str(info).expect("INFO JSON")
}

#[tokio::test]
async fn token_user_password_and_users_lists() {
    let hash = bcrypt::hash("bcrypted", 4).expect("bcrypt");
    for (config, rows) in [
        (
            "authorization { token: \"s3cr3t\" }".to_string(),
            vec![
                ("right token", r#""auth_token":"s3cr3t""#, true),
                ("wrong token", r#""auth_token":"nope""#, false),
                ("no token", "", false),
            ],
        ),
        (
            "authorization { user: derek, password: \"T0pS3cr3t\" }".to_string(),
            vec![
                ("right password", r#""user":"derek","pass":"T0pS3cr3t""#, true),
                ("wrong password", r#""user":"derek","pass":"x""#, false),
                ("wrong user", r#""user":"bob","pass":"T0pS3cr3t""#, false),
            ],
        ),
        (
            format!(
                "authorization {{ users: [{{user: alice, password: plain}}, {{user: bob, password: \"{hash}\"}}] }}"
            ),
            vec![
                ("plain", r#""user":"alice","pass":"plain""#, true),
                ("bcrypt", r#""user":"bob","pass":"bcrypted""#, true),
                ("bcrypt, wrong", r#""user":"bob","pass":"plain""#, false),
                ("unknown user", r#""user":"carol","pass":"plain""#, false),
            ],
        ),
    ] {
        let file = ConfigFile::new(&config);
        let server = start(&file).await;
        let info = info_json(&first_info(&server).await);
        assert_eq!(info["auth_required"], true, "{config}");
        assert_eq!(info.get("nonce"), None);
        check_logins(&server, &rows).await;
    }
}

#[tokio::test]
async fn async_nats_logs_in_with_each_method() {
    let user = nkeys::KeyPair::new_user();
    let stranger = nkeys::KeyPair::new_user();
    let config = ConfigFile::new(&format!(
        "authorization {{ users: [{{user: alice, password: pw}}, {{nkey: {}}}] }}",
        user.public_key()
    ));
    let server = start(&config).await;
    let info = info_json(&first_info(&server).await);
    assert_eq!(info["nonce"].as_str().map(str::len), Some(15), "{info}");
    let seed = |kp: &nkeys::KeyPair| kp.seed().expect("seed");
    for (what, options, expected) in [
        (
            "password",
            async_nats::ConnectOptions::with_user_and_password("alice".into(), "pw".into()),
            true,
        ),
        (
            "wrong password",
            async_nats::ConnectOptions::with_user_and_password("alice".into(), "no".into()),
            false,
        ),
        (
            "nkey",
            async_nats::ConnectOptions::with_nkey(seed(&user)),
            true,
        ),
        (
            "unknown nkey",
            async_nats::ConnectOptions::with_nkey(seed(&stranger)),
            false,
        ),
    ] {
        assert_eq!(connects(&server, options).await, expected, "{what}");
    }
    // A signature over something other than this connection's nonce is refused.
    let mut raw = RawClient::connect(server.address()).await;
    raw.read_info().await;
    let forged = base64url(&user.sign(b"not the nonce").expect("sign"));
    raw.send(&connect_line(&format!(
        r#""nkey":"{}","sig":"{forged}""#,
        user.public_key()
    )))
    .await;
    raw.expect(VIOLATION).await;
}

/// base64url without padding, as NATS clients encode signatures.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn flags_set_a_user_or_a_token() {
    let server = TestServer::start_with(&["--user", "u", "--pass", "p"]).await;
    check_logins(
        &server,
        &[
            ("right", r#""user":"u","pass":"p""#, true),
            ("wrong", r#""user":"u","pass":"x""#, false),
        ],
    )
    .await;
    let server = TestServer::start_with(&["--auth", "tok"]).await;
    check_logins(
        &server,
        &[
            ("right", r#""auth_token":"tok""#, true),
            ("wrong", r#""auth_token":"x""#, false),
        ],
    )
    .await;
}

#[tokio::test]
async fn no_auth_user_admits_clients_without_credentials() {
    let config = ConfigFile::new(
        "authorization { users: [{user: a, password: a, permissions: {publish: \"ok\"}}] }\nno_auth_user: a",
    );
    let server = start(&config).await;
    let mut raw = RawClient::connect(server.address()).await;
    let info = info_json(&raw.read_info().await);
    assert_eq!(info.get("auth_required"), None);
    // Even without CONNECT ("telnet" clients), as user a with a's permissions.
    raw.send(b"PUB nope 0\r\n\r\nPING\r\n").await;
    raw.expect(b"-ERR 'Permissions Violation for Publish to \"nope\"'\r\nPONG\r\n")
        .await;
    check_logins(
        &server,
        &[
            ("no credentials", "", true),
            ("wrong password", r#""user":"a","pass":"x""#, false),
        ],
    )
    .await;
}

#[tokio::test]
async fn auth_timeout_and_ops_before_connect_close_the_connection() {
    let config = ConfigFile::new("authorization { token: t, timeout: 0.5 }");
    let server = start(&config).await;
    let mut silent = server.raw().await;
    within(
        "auth timeout",
        silent.expect(b"-ERR 'Authentication Timeout'\r\n"),
    )
    .await;
    silent.expect_closed().await;
    let mut eager = server.raw().await;
    eager.send(b"SUB foo 1\r\n").await;
    eager.expect(VIOLATION).await;
    eager.expect_closed().await;
}

#[tokio::test]
async fn a_login_storm_leaves_the_server_responsive() {
    let config = ConfigFile::new("authorization { token: right }");
    let server = start(&config).await;
    let storm = async {
        for _ in 0..1000 {
            let mut client = server.raw().await;
            client.send(&connect_line(r#""auth_token":"wrong""#)).await;
            client.expect(VIOLATION).await;
        }
    };
    within("1000 failed logins", storm).await;
    let client = server
        .connect_with(async_nats::ConnectOptions::with_token("right".into()))
        .await;
    settle(&client).await;
}

/// One user per permission feature; each row of the transcript is sent, then the server's
/// answer read up to the PONG of a trailing PING (so a missing -ERR shows as a diff).
#[tokio::test]
async fn permissions_answer_violations_and_keep_the_connection() {
    let config = ConfigFile::new(
        r#"authorization {
  default_permissions: { publish: "default.>" }
  users: [
    {user: p, password: p, permissions: {
      publish: {allow: ["foo.>", "_INBOX.>"], deny: "foo.secret"}
      subscribe: {allow: ["foo.*", "work.> workers"], deny: "foo.hidden"}
    }}
    {user: d, password: d}
  ]
}"#,
    );
    let server = start(&config).await;
    let mut p = raw_login(&server, r#""user":"p","pass":"p""#, true)
        .await
        .expect("p logs in");
    for (send, answer) in [
        ("PUB foo.bar 0\r\n\r\n", ""),
        ("PUB foo.secret 0\r\n\r\n", "-ERR 'Permissions Violation for Publish to \"foo.secret\"'\r\n"),
        ("PUB bar 0\r\n\r\n", "-ERR 'Permissions Violation for Publish to \"bar\"'\r\n"),
        ("SUB foo.x 1\r\n", ""),
        ("SUB foo.hidden 2\r\n", "-ERR 'Permissions Violation for Subscription to \"foo.hidden\"'\r\n"),
        ("SUB work.a 4\r\n", "-ERR 'Permissions Violation for Subscription to \"work.a\"'\r\n"),
        ("SUB work.a workers 5\r\n", ""),
        (
            "SUB work.a others 6\r\n",
            "-ERR 'Permissions Violation for Subscription to \"work.a\" using queue \"others\"'\r\n",
        ),
    ] {
        p.send(send.as_bytes()).await;
        p.send(b"PING\r\n").await;
        p.expect(format!("{answer}PONG\r\n").as_bytes()).await;
    }
    // default_permissions apply to a user without their own.
    let mut d = raw_login(&server, r#""user":"d","pass":"d""#, true)
        .await
        .expect("d logs in");
    d.send(b"PUB default.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n")
        .await;
    d.expect(b"-ERR 'Permissions Violation for Publish to \"other\"'\r\nPONG\r\n")
        .await;
}

/// A deliberate difference (crates/auth/README.md): nats-server 2.9 lets `allow: "foo.*"`
/// subscribe to `foo.>` and then delivers `foo.a.b`; Natrium refuses the subscription.
#[tokio::test]
async fn a_subscription_broader_than_its_allow_entry_is_refused() {
    let config = ConfigFile::new(
        r#"authorization { users: [{user: p, password: p, permissions: {subscribe: "foo.*"}}] }"#,
    );
    let server = start(&config).await;
    let mut p = raw_login(&server, r#""user":"p","pass":"p""#, true)
        .await
        .expect("p logs in");
    p.send(b"SUB foo.> 1\r\nPING\r\n").await;
    p.expect(b"-ERR 'Permissions Violation for Subscription to \"foo.>\"'\r\nPONG\r\n")
        .await;
}

#[tokio::test]
async fn deny_clauses_filter_deliveries_to_wildcard_subscriptions() {
    let config = ConfigFile::new(
        r#"authorization { users: [
  {user: sub, password: s, permissions: {subscribe: {allow: ">", deny: "news.secret"}}}
  {user: pub, password: p}
] }"#,
    );
    let server = start(&config).await;
    let mut subscriber = login_with(&server, r#""user":"sub","pass":"s""#, "SUB news.* 1").await;
    let mut publisher = login_with(&server, r#""user":"pub","pass":"p""#, "").await;
    publisher
        .send(b"PUB news.secret 1\r\nx\r\nPUB news.open 1\r\ny\r\nPING\r\n")
        .await;
    publisher.expect(b"PONG\r\n").await;
    subscriber.expect(b"MSG news.open 1 1\r\ny\r\n").await;
    let (rest, ending) = subscriber.read_rest().await;
    assert_eq!(
        (String::from_utf8_lossy(&rest).as_ref(), ending),
        ("", Ending::Quiet)
    );
}

#[tokio::test]
async fn allow_responses_lets_a_responder_reply_once() {
    let config = ConfigFile::new(
        r#"authorization { users: [
  {user: svc, password: s, permissions: {publish: {deny: ">"}, subscribe: "requests", allow_responses: true}}
  {user: cli, password: c}
] }"#,
    );
    let server = start(&config).await;
    let mut responder = login_with(&server, r#""user":"svc","pass":"s""#, "SUB requests 1").await;
    let mut requester = login_with(&server, r#""user":"cli","pass":"c""#, "").await;
    requester
        .send(b"SUB reply.1 9\r\nPUB requests reply.1 1\r\nq\r\nPING\r\n")
        .await;
    requester.expect(b"PONG\r\n").await;
    responder.expect(b"MSG requests 1 reply.1 1\r\nq\r\n").await;
    responder
        .send(b"PUB reply.1 1\r\na\r\nPUB reply.1 1\r\nb\r\nPING\r\n")
        .await;
    responder
        .expect(b"-ERR 'Permissions Violation for Publish to \"reply.1\"'\r\nPONG\r\n")
        .await;
    requester.expect(b"MSG reply.1 9 1\r\na\r\n").await;
}

#[tokio::test]
async fn connection_types_refuse_a_standard_client() {
    let config = ConfigFile::new(
        r#"authorization { users: [
  {user: ws, password: w, allowed_connection_types: ["WEBSOCKET"]}
  {user: std, password: s, allowed_connection_types: ["STANDARD"]}
] }"#,
    );
    let server = start(&config).await;
    check_logins(
        &server,
        &[
            ("websocket only", r#""user":"ws","pass":"w""#, false),
            ("standard", r#""user":"std","pass":"s""#, true),
        ],
    )
    .await;
}

/// Natrium extension: `src` on config users, seen from 127.0.0.1 and 127.0.0.2.
#[tokio::test]
async fn source_networks_allow_and_deny_by_client_address() {
    let config = ConfigFile::new(
        r#"authorization { users: [
  {user: a, password: a, src: {allow: ["127.0.0.0/8"], deny: ["127.0.0.2"]}}
] }"#,
    );
    let server = start(&config).await;
    for (source, admitted) in [([127, 0, 0, 1], true), ([127, 0, 0, 2], false)] {
        let mut client = RawClient::connect_from(IpAddr::from(source), server.address()).await;
        client.read_info().await;
        client.send(&connect_line(r#""user":"a","pass":"a""#)).await;
        client.send(b"PING\r\n").await;
        let expected: &[u8] = if admitted { b"PONG\r\n" } else { VIOLATION };
        client.expect(expected).await;
    }
}

/// `HH:MM:SS` (UTC) `offset_seconds` from now.
fn clock(offset_seconds: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let t = (now + offset_seconds).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// Natrium extension: `times` on config users; a window that ends closes the connection.
#[tokio::test]
async fn connect_windows_admit_and_then_expire() {
    let config = ConfigFile::new(&format!(
        r#"authorization {{ users: [
  {{user: now, password: n, times: [{{start: "{}", end: "{}"}}]}}
  {{user: later, password: l, times: [{{start: "{}", end: "{}"}}]}}
] }}"#,
        clock(-60),
        clock(3),
        clock(3600),
        clock(7200)
    ));
    let server = start(&config).await;
    raw_login(&server, r#""user":"later","pass":"l""#, false).await;
    let mut client = raw_login(&server, r#""user":"now","pass":"n""#, true)
        .await
        .expect("inside the window");
    // The server's first PING (about 2 s after CONNECT) may come before the window ends.
    let line = within("window end", async {
        loop {
            let line = client.read_line().await;
            if line != b"PING\r\n" {
                break line;
            }
        }
    })
    .await;
    assert_eq!(
        String::from_utf8_lossy(&line),
        "-ERR 'User Authentication Expired'\r\n"
    );
    client.expect_closed().await;
}

#[tokio::test]
async fn reload_applies_new_permissions_to_connected_clients() {
    let before = r#"authorization { users: [{user: a, password: a, permissions: {publish: ">", subscribe: ">"}}] }"#;
    let after = r#"authorization { users: [{user: a, password: a, permissions: {publish: "ok", subscribe: "ok"}}] }"#;
    let config = ConfigFile::new(before);
    let server = start(&config).await;
    let mut client = raw_login(&server, r#""user":"a","pass":"a""#, true)
        .await
        .expect("a");
    client
        .send(b"SUB gone 1\r\nPUB gone 0\r\n\r\nPING\r\n")
        .await;
    client.expect(b"MSG gone 1 0\r\n\r\nPONG\r\n").await;
    config.rewrite(after);
    // SAFETY: kill(2) on the server process this test started.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
    within(
        "subscription removed",
        client.expect(b"-ERR 'Permissions Violation for Subscription to \"gone\" (sid \"1\")'\r\n"),
    )
    .await;
    client.send(b"PUB gone 0\r\n\r\nPING\r\n").await;
    client
        .expect(b"-ERR 'Permissions Violation for Publish to \"gone\"'\r\nPONG\r\n")
        .await;
}

/// Hostile CONNECTs on a server with authentication: an oversized line and invalid JSON
/// are refused before any credential is looked at, and a legitimate client still gets in.
#[tokio::test]
async fn malformed_connects_are_refused_and_the_server_keeps_serving() {
    let config = ConfigFile::new("authorization { token: right }");
    let server = start(&config).await;
    let oversized = format!(
        "CONNECT {{\"auth_token\":\"{}\"}}\r\n",
        "x".repeat(8 * 1024)
    );
    for (what, line, answer) in [
        (
            "oversized",
            oversized.as_str(),
            "-ERR 'maximum control line exceeded'\r\n",
        ),
        ("invalid JSON", "CONNECT {not json\r\n", ""),
    ] {
        let mut client = server.raw().await;
        client.send(line.as_bytes()).await;
        let (rest, ending) = within(what, client.read_rest()).await;
        assert_eq!(
            (String::from_utf8_lossy(&rest).as_ref(), ending),
            (answer, Ending::Closed),
            "{what}"
        );
    }
    raw_login(&server, r#""auth_token":"right""#, true).await;
}
