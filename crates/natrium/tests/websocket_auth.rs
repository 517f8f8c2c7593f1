//! The websocket block's own `authorization {}` and `no_auth_user`, which replace the main
//! single user, token and `no_auth_user` for websocket clients (nats-server's
//! `authOverride`), its `timeout`, the cookies that stand in for CONNECT's missing
//! credentials, and `validateWebsocketOptions`'s refusals. Clients are async-nats over
//! `ws://` and raw upgrades (for the Cookie header and exact answers). All but the cookie
//! test pass against nats-server 2.9.10 too; `user_cookie` and friends came in 2.11.

mod common;

use common::ws::{start, ws_session, ws_url};
use common::{free_port, within};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const VIOLATION: &str = "-ERR 'Authorization Violation'";

/// A raw TCP client's answer to `CONNECT <connect>` and PING on the client port.
async fn tcp_answer(server: &common::TestServer, connect: &str) -> String {
    let mut raw = server.raw().await;
    raw.send(format!("CONNECT {}\r\nPING\r\n", common::ws::quiet(connect)).as_bytes())
        .await;
    String::from_utf8_lossy(&raw.read_line().await).into_owned()
}

#[tokio::test]
async fn websocket_user_replaces_the_main_token_for_websocket_clients_only() {
    let (server, port) = start(
        "authorization { user: web, password: wpw }",
        "authorization { token: main-token }",
    )
    .await;
    let options = async_nats::ConnectOptions::with_user_and_password("web".into(), "wpw".into());
    let client = within("ws connect", options.connect(ws_url(port)))
        .await
        .expect("the websocket user over websocket");
    let mut subscriber = client.subscribe("auth.echo").await.expect("subscribe");
    client.publish("auth.echo", "in".into()).await.expect("pub");
    let message = within("echo", subscriber.next()).await.expect("message");
    assert_eq!(&message.payload[..], b"in");

    let (info, answer, _) = ws_session(port, "", r#"{"auth_token":"main-token"}"#).await;
    assert_eq!(info["auth_required"], true);
    assert!(answer.starts_with(VIOLATION), "{answer}");
    let (_, answer, _) = ws_session(port, "", r#"{"user":"web","pass":"wpw"}"#).await;
    assert_eq!(answer, "PONG\r\n");

    assert_eq!(
        tcp_answer(&server, r#"{"auth_token":"main-token"}"#).await,
        "PONG\r\n"
    );
    assert_eq!(
        tcp_answer(&server, r#"{"user":"web","pass":"wpw"}"#).await,
        format!("{VIOLATION}\r\n")
    );
}

#[tokio::test]
async fn websocket_token_and_timeout_apply_to_websocket_clients_only() {
    let (server, port) = start("authorization { token: wstok, timeout: 0.5 }", "").await;
    let (info, answer, _) = ws_session(port, "", "{}").await;
    assert_eq!(info["auth_required"], true);
    assert!(answer.starts_with(VIOLATION), "{answer}");
    let (_, answer, _) = ws_session(port, "", r#"{"auth_token":"wstok"}"#).await;
    assert_eq!(answer, "PONG\r\n");
    // The client port still needs nothing.
    let mut raw = common::RawClient::connect(server.address()).await;
    let info = raw.read_info().await;
    assert!(!info.contains("\"auth_required\":true"), "{info}");
    assert_eq!(tcp_answer(&server, "{}").await, "PONG\r\n");

    // A websocket client that never sends CONNECT is closed after the block's 0.5 s, not
    // the main 2 s.
    let (head, mut socket) =
        common::ws::send_upgrade(port, &common::ws::upgrade_request(port, &[], "")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let started = Instant::now();
    let text = common::ws::read_text_until(&mut socket, &["<close"]).await;
    let waited = started.elapsed();
    assert!(
        text.contains("-ERR 'Authentication Timeout'\r\n")
            && text.ends_with("<close 1008 Authentication Timeout>"),
        "{text}"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_millis(1800),
        "{waited:?}"
    );
}

#[tokio::test]
async fn websocket_no_auth_user_logs_credential_less_clients_in_as_that_user() {
    let (server, port) = start(
        "no_auth_user: b",
        "authorization { users: [ {user: a, password: pa}, {user: b, password: pb, permissions: {publish: \"b.>\"}} ] }",
    )
    .await;
    let (_, answer, mut socket) = ws_session(port, "", "{}").await;
    assert_eq!(answer, "PONG\r\n");
    socket
        .write_all(&common::ws::frame(0x82, b"PUB x 1\r\nx\r\nPING\r\n"))
        .await
        .expect("publish");
    let text = common::ws::read_text_until(&mut socket, &["PONG\r\n"]).await;
    assert_eq!(
        text,
        "-ERR 'Permissions Violation for Publish to \"x\"'\r\nPONG\r\n"
    );
    let (_, answer, _) = ws_session(port, "", r#"{"user":"a","pass":"pa"}"#).await;
    assert_eq!(answer, "PONG\r\n");
    assert_eq!(tcp_answer(&server, "{}").await, format!("{VIOLATION}\r\n"));
}

#[tokio::test]
async fn cookies_stand_in_for_missing_connect_credentials() {
    let (_server, port) = start(
        "authorization { user: web, password: wpw }\n  user_cookie: nu\n  pass_cookie: np",
        "",
    )
    .await;
    let cases = [
        ("Cookie: nu=web; np=wpw\r\n", "{}", "PONG\r\n"),
        ("Cookie: other=1; np=\"wpw\"; nu=web\r\n", "{}", "PONG\r\n"),
        ("Cookie: nu=web; np=bad\r\n", "{}", VIOLATION),
        // CONNECT's own fields win over the cookies.
        (
            "Cookie: nu=web; np=bad\r\n",
            r#"{"user":"web","pass":"wpw"}"#,
            "PONG\r\n",
        ),
        ("", "{}", VIOLATION),
    ];
    for (cookie, connect, expected) in cases {
        let (_, answer, _) = ws_session(port, cookie, connect).await;
        assert!(answer.starts_with(expected), "{cookie} {connect}: {answer}");
    }
    let (_token_server, token_port) =
        start("authorization { token: wstok }\n  token_cookie: nt", "").await;
    let (_, answer, _) = ws_session(token_port, "Cookie: nt=wstok\r\n", "{}").await;
    assert_eq!(answer, "PONG\r\n");
    let (_, answer, _) = ws_session(token_port, "Cookie: nt=nope\r\n", "{}").await;
    assert!(answer.starts_with(VIOLATION), "{answer}");
}

#[test]
fn conflicting_websocket_authorization_is_refused_at_start() {
    let users = "authorization { users: [ {user: a, password: pa} ] }";
    let cases = [
        (
            users,
            "authorization { user: web, password: x }",
            "websocket authentication username not compatible with presence of users/nkeys",
        ),
        (
            users,
            "authorization { token: t }",
            "websocket authentication token not compatible with presence of users/nkeys",
        ),
        (
            users,
            "no_auth_user: zz",
            "no_auth_user: \"zz\" not present as user in authorization block or account configuration",
        ),
        (
            "",
            "no_auth_user: zz",
            "no_auth_user: \"zz\" present, but users are not defined",
        ),
        ("", "authorization { users: [] }", "unknown field \"users\""),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (top, ws, message) in cases {
        let config = dir.path().join("ws.conf");
        std::fs::write(
            &config,
            format!(
                "{top}\nwebsocket {{\n  host: 127.0.0.1\n  port: {}\n  no_tls: true\n  {ws}\n}}\n",
                free_port()
            ),
        )
        .expect("write config");
        let output = std::process::Command::new(common::server_binary())
            .args(["-a", "127.0.0.1", "-p", &free_port().to_string()])
            .args(["-c", config.to_str().expect("utf-8 path")])
            .output()
            .expect("run server");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{ws}: started");
        assert!(stderr.contains(message), "{ws}: {stderr}");
    }
}

#[tokio::test]
async fn websocket_clients_bind_to_their_users_account() {
    let accounts = r#"
accounts {
  A { users: [ { user: a, password: a } ] }
  B { users: [ { user: b, password: b } ] }
}
"#;
    let (server, port) = start("", accounts).await;
    let login = |user: &str| {
        async_nats::ConnectOptions::with_user_and_password(user.to_string(), user.to_string())
    };
    let over_ws = |user: &str| within("websocket connect", login(user).connect(ws_url(port)));
    let a_ws = over_ws("a").await.expect("a over websocket");
    let b_tcp = server.connect_with(login("b")).await;
    let a_tcp = server.connect_with(login("a")).await;
    let mut in_b = b_tcp.subscribe("news").await.unwrap();
    let mut in_a = a_tcp.subscribe("news").await.unwrap();
    common::settle(&a_tcp).await;
    common::settle(&b_tcp).await;
    a_ws.publish("news", "from a".into()).await.unwrap();
    a_ws.flush().await.unwrap();
    let got = within("delivery in A", in_a.next()).await.expect("message");
    assert_eq!(&got.payload[..], b"from a");
    let crossed = tokio::time::timeout(Duration::from_millis(300), in_b.next()).await;
    assert!(crossed.is_err(), "a message crossed from A to B");
}
