//! The client wire protocol over raw TCP, byte for byte as nats-server 2.9 speaks it.
//!
//! Every exchange here was observed against nats-server 2.9.10; the tables are the spec
//! (https://docs.nats.io/reference/reference-protocols/nats-protocol, ADR-4 for headers).

mod common;

use common::{within, TestServer};
use futures::StreamExt;

/// Prefixes a transcript with a quiet CONNECT, so only deliveries and errors come back.
macro_rules! quiet {
    ($rest:expr) => {
        concat!("CONNECT {\"verbose\":false}\r\n", $rest)
    };
}

/// Like `quiet!` but also announces header support, which HPUB requires.
macro_rules! quiet_headers {
    ($rest:expr) => {
        concat!("CONNECT {\"verbose\":false,\"headers\":true}\r\n", $rest)
    };
}

/// The state the server must leave the connection in after an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Still usable: a PING gets exactly a PONG.
    Open,
    /// Closed by the server, with nothing sent after the expected bytes.
    Closed,
}

/// One transcript: what a client sends after INFO and exactly what it must get back.
struct Exchange {
    name: &'static str,
    send: String,
    receive: &'static str,
    after: After,
    /// False where nats-server's answer depends on how its reads split the input, so only the
    /// single-write run pins it.
    split_safe: bool,
}

/// How the client hands its bytes to the socket.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// One write for the whole transcript.
    Whole,
    /// One write per byte, so every parser state sees a split.
    Bytewise,
}

/// A transcript that behaves the same however the input is split.
fn exchange(name: &'static str, send: &str, receive: &'static str, after: After) -> Exchange {
    Exchange {
        name,
        send: send.to_string(),
        receive,
        after,
        split_safe: true,
    }
}

/// An invalid PUB under pedantic checking. nats-server 2.9 validates the subject again when the
/// payload arrives in a later read than the PUB line, so a split input gets the -ERR twice.
fn invalid_publish(name: &'static str, send: &str, receive: &'static str) -> Exchange {
    Exchange {
        split_safe: false,
        ..exchange(name, send, receive, After::Open)
    }
}

/// Runs one exchange on a fresh connection and asserts the bytes and the final connection state.
async fn check(server: &TestServer, case: &Exchange, feed: Feed) {
    if matches!(feed, Feed::Bytewise) && !case.split_safe {
        println!("exchange {:?} is pinned for single writes only", case.name);
        return;
    }
    println!("exchange {:?} fed {feed:?}", case.name);
    let mut client = server.raw().await;
    match feed {
        Feed::Whole => client.send(case.send.as_bytes()).await,
        Feed::Bytewise => {
            let complete = client.send_bytewise(case.send.as_bytes()).await;
            assert!(
                complete || case.after == After::Closed,
                "server hung up early"
            );
        }
    }
    client.expect(case.receive.as_bytes()).await;
    match case.after {
        After::Open => client.expect_open().await,
        After::Closed => client.expect_closed().await,
    }
}

/// Well-formed traffic: the exact bytes each verb produces.
fn well_formed() -> Vec<Exchange> {
    use After::Open;
    vec![
        exchange(
            "verbose CONNECT acknowledges, PING answers",
            "CONNECT {\"verbose\":true}\r\nPING\r\n",
            "+OK\r\nPONG\r\n",
            Open,
        ),
        // Surprising but true: until CONNECT arrives the connection is verbose.
        exchange("verbose before CONNECT", "SUB foo 1\r\n", "+OK\r\n", Open),
        // CONNECT fields left out keep their defaults, and verbose defaults to true.
        exchange(
            "CONNECT without a verbose field is verbose",
            "CONNECT {}\r\n",
            "+OK\r\n",
            Open,
        ),
        exchange(
            "SUB then PUB delivers MSG",
            quiet!("SUB foo 1\r\nPUB foo 5\r\nhello\r\n"),
            "MSG foo 1 5\r\nhello\r\n",
            Open,
        ),
        exchange(
            "PUB with reply subject",
            quiet!("SUB foo 1\r\nPUB foo bar 5\r\nhello\r\n"),
            "MSG foo 1 bar 5\r\nhello\r\n",
            Open,
        ),
        exchange(
            "empty payload",
            quiet!("SUB foo 1\r\nPUB foo 0\r\n\r\n"),
            "MSG foo 1 0\r\n\r\n",
            Open,
        ),
        exchange(
            "payload bytes are opaque",
            quiet!("SUB foo 1\r\nPUB foo 8\r\nPING\r\n\r\n\r\n"),
            "MSG foo 1 8\r\nPING\r\n\r\n\r\n",
            Open,
        ),
        exchange(
            "HPUB delivers HMSG",
            quiet_headers!("SUB foo 1\r\nHPUB foo 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n"),
            "HMSG foo 1 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n",
            Open,
        ),
        exchange(
            "HPUB with reply and a repeated header key",
            quiet_headers!(
                "SUB foo 7\r\nHPUB foo bar 24 29\r\nNATS/1.0\r\nA: b\r\nA: c\r\n\r\nhello\r\n"
            ),
            "HMSG foo 7 bar 24 29\r\nNATS/1.0\r\nA: b\r\nA: c\r\n\r\nhello\r\n",
            Open,
        ),
        // A header block of length zero is no header block: the subscriber gets a plain MSG.
        exchange(
            "HPUB with empty headers delivers MSG",
            quiet_headers!("SUB foo 1\r\nHPUB foo 0 0\r\n\r\n"),
            "MSG foo 1 0\r\n\r\n",
            Open,
        ),
        exchange(
            "UNSUB with max delivers exactly max",
            quiet!(
                "SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n"
            ),
            "MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n",
            Open,
        ),
        exchange(
            "UNSUB without max stops delivery",
            quiet!("SUB foo 1\r\nSUB foo 2\r\nUNSUB 1\r\nPUB foo 1\r\na\r\n"),
            "MSG foo 2 1\r\na\r\n",
            Open,
        ),
        exchange(
            "UNSUB of an unknown sid is ignored",
            quiet!("UNSUB 99\r\nUNSUB 99 5\r\n"),
            "",
            Open,
        ),
        exchange(
            "verbs are case-insensitive",
            "connect {\"verbose\":false}\r\nSub foo 1\r\npub foo 1\r\na\r\npInG\r\n",
            "MSG foo 1 1\r\na\r\nPONG\r\n",
            Open,
        ),
        exchange(
            "queue subscription",
            quiet!("SUB foo q 1\r\nPUB foo 1\r\na\r\n"),
            "MSG foo 1 1\r\na\r\n",
            Open,
        ),
        exchange(
            "wildcard subscriptions",
            quiet!(
                "SUB foo.* 1\r\nSUB foo.> 2\r\nPUB foo 1\r\na\r\nPUB foo.bar.baz 1\r\nb\r\n\
                 UNSUB 2\r\nPUB foo.bar 1\r\nc\r\n"
            ),
            "MSG foo.bar.baz 2 1\r\nb\r\nMSG foo.bar 1 1\r\nc\r\n",
            Open,
        ),
        exchange(
            "arguments separated by runs of spaces and tabs",
            quiet!("SUB\tfoo  \t 1\r\nPUB  foo \t  2\r\nhi\r\n"),
            "MSG foo 1 2\r\nhi\r\n",
            Open,
        ),
        exchange(
            "bare LF ends a control line",
            quiet!("SUB foo 1\nPUB foo 2\nhi\r\nPING\n"),
            "MSG foo 1 2\r\nhi\r\nPONG\r\n",
            Open,
        ),
        exchange(
            "echo off suppresses own messages",
            "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB foo 1\r\nPUB foo 1\r\na\r\n",
            "",
            Open,
        ),
        exchange(
            "PONG, +OK and INFO from a client are ignored",
            quiet!("PONG\r\n+OK\r\nINFO {}\r\n"),
            "",
            Open,
        ),
    ]
}

/// Bad input: the exact error (if any) and whether the server hangs up.
fn malformed() -> Vec<Exchange> {
    use After::{Closed, Open};
    // Sent as one write, well past the 4096-byte limit, so nats-server notices the line is too
    // long while it is still incomplete (it checks only between reads).
    let long_subject = "a".repeat(16 * 1024);
    vec![
        exchange(
            "unknown operation",
            quiet!("FOO\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "leading space before a verb",
            quiet!(" PING\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "MSG from a client",
            quiet!("MSG foo 1 0\r\n\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "PUB without arguments",
            quiet!("PUB\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "PUB with four arguments",
            quiet!("PUB a b c 1\r\nx\r\n"),
            "",
            Closed,
        ),
        exchange(
            "PUB with a non-numeric size",
            quiet!("PUB foo x\r\n"),
            "",
            Closed,
        ),
        exchange(
            "PUB with a negative size",
            quiet!("PUB foo -1\r\n"),
            "",
            Closed,
        ),
        exchange(
            "payload longer than declared",
            quiet!("PUB foo 2\r\nhello\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "payload above max_payload",
            quiet!("PUB foo 1048577\r\n"),
            "-ERR 'Maximum Payload Violation'\r\n",
            Closed,
        ),
        // The limit applies to headers and payload together.
        exchange(
            "HPUB total size above max_payload",
            quiet_headers!("HPUB foo 10 1048577\r\n"),
            "-ERR 'Maximum Payload Violation'\r\n",
            Closed,
        ),
        exchange(
            "SUB without arguments",
            quiet!("SUB\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange("SUB with one argument", quiet!("SUB foo\r\n"), "", Closed),
        exchange(
            "SUB with four arguments",
            quiet!("SUB a b c 1\r\n"),
            "",
            Closed,
        ),
        exchange(
            "UNSUB without arguments",
            quiet!("UNSUB\r\n"),
            "-ERR 'Unknown Protocol Operation'\r\n",
            Closed,
        ),
        exchange(
            "UNSUB with three arguments",
            quiet!("UNSUB 1 2 3\r\n"),
            "",
            Closed,
        ),
        // nats-server looks the sid up as a string and ignores a max that is not a number.
        exchange(
            "UNSUB with a non-numeric sid or max",
            quiet!("UNSUB x\r\nUNSUB 1 x\r\n"),
            "",
            Open,
        ),
        exchange(
            "HPUB with a single size",
            quiet_headers!("HPUB foo 5\r\n"),
            "",
            Closed,
        ),
        exchange(
            "HPUB with header size above total size",
            quiet_headers!("HPUB foo 10 5\r\n"),
            "",
            Closed,
        ),
        exchange(
            "HPUB on a connection without headers",
            "CONNECT {\"verbose\":false,\"headers\":false}\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n",
            "",
            Closed,
        ),
        exchange(
            "no_responders without headers",
            "CONNECT {\"verbose\":false,\"no_responders\":true}\r\n",
            "-ERR 'no responders requires headers support'\r\n",
            Closed,
        ),
        exchange(
            "CONNECT with invalid JSON",
            "CONNECT {not json\r\n",
            "",
            Closed,
        ),
        exchange(
            "-ERR from a client",
            quiet!("-ERR 'oops'\r\n"),
            "",
            Closed,
        ),
        Exchange {
            name: "control line far above 4096 bytes",
            send: format!("{}SUB {long_subject} 1\r\n", quiet!("")),
            receive: "-ERR 'maximum control line exceeded'\r\n",
            after: Closed,
            split_safe: true,
        },
        Exchange {
            name: "control line of exactly 4096 bytes",
            // "SUB " + 4090 bytes + " 1" is 4096 bytes before the CRLF.
            send: format!("{}SUB {} 1\r\n", quiet!(""), "b".repeat(4090)),
            receive: "",
            after: Open,
            split_safe: true,
        },
        exchange(
            "SUB to an invalid subject",
            quiet!("SUB foo..bar 1\r\n"),
            "-ERR 'Invalid Subject'\r\n",
            Open,
        ),
        exchange(
            "pedantic SUB to an invalid subject",
            "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nSUB foo. 1\r\n",
            "-ERR 'Invalid Subject'\r\n",
            Open,
        ),
        invalid_publish(
            "pedantic PUB to a wildcard subject",
            "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo.* 1\r\na\r\n",
            "-ERR 'Invalid Publish Subject'\r\n",
        ),
        // Like verbose, pedantic defaults to true when CONNECT leaves it out.
        invalid_publish(
            "CONNECT without a pedantic field is pedantic",
            quiet!("PUB foo.* 1\r\na\r\n"),
            "-ERR 'Invalid Publish Subject'\r\n",
        ),
        invalid_publish(
            "a verbose connection gets both -ERR and +OK for an invalid PUB",
            "CONNECT {\"pedantic\":true}\r\nPUB foo.> 1\r\na\r\n",
            "+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\n",
        ),
        exchange(
            "non-pedantic PUB to a wildcard subject is accepted",
            "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPUB foo.* 1\r\na\r\n",
            "",
            Open,
        ),
        invalid_publish(
            "pedantic PUB to a subject with an empty token",
            "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo..bar 1\r\na\r\n",
            "-ERR 'Invalid Publish Subject'\r\n",
        ),
    ]
}

#[tokio::test]
async fn info_on_connect() {
    let server = TestServer::start().await;
    let mut first = common::RawClient::connect(server.address()).await;
    let line = first.read_line().await;
    assert!(line.starts_with(b"INFO {"), "INFO line: {line:?}");
    assert!(line.ends_with(b"}\r\n") || line.ends_with(b"} \r\n"));
    let (rest, ending) = first.read_rest().await;
    assert_eq!(
        (rest.as_slice(), ending),
        (&b""[..], common::Ending::Quiet),
        "INFO is the only thing sent before CONNECT"
    );

    let text = String::from_utf8(line).expect("UTF-8");
    let info: serde_json::Value =
        serde_json::from_str(text["INFO ".len()..].trim_end()).expect("INFO carries JSON");
    let server_id = info["server_id"].as_str().expect("server_id");
    assert_eq!(
        server_id.len(),
        56,
        "server_id is a server nkey: {server_id}"
    );
    assert!(server_id.starts_with('N'), "server nkeys start with N");
    assert!(server_id
        .bytes()
        .all(|byte| byte.is_ascii_uppercase() || (b'2'..=b'7').contains(&byte)));
    assert!(!info["server_name"]
        .as_str()
        .expect("server_name")
        .is_empty());
    let version = info["version"].as_str().expect("version");
    assert_eq!(version.split('.').count(), 3, "semantic version: {version}");
    assert_eq!(info["proto"], 1);
    assert_eq!(info["host"], "127.0.0.1");
    assert_eq!(info["port"], u64::from(server.port()));
    assert_eq!(info["headers"], true);
    assert_eq!(info["max_payload"], 1_048_576);
    assert_eq!(info["client_ip"], "127.0.0.1");
    if let Some(go) = info.get("go") {
        assert!(go.is_string(), "go is a string when present");
    }
    let first_id = info["client_id"].as_u64().expect("client_id is a number");

    let mut second = server.raw().await;
    second.send(b"CONNECT {}\r\n").await;
    second.expect(b"+OK\r\n").await;
    second.expect_open().await;
    let mut third = common::RawClient::connect(server.address()).await;
    let third_info: serde_json::Value =
        serde_json::from_str(&third.read_info().await).expect("JSON");
    assert_ne!(third_info["client_id"].as_u64(), Some(first_id));
    assert_eq!(third_info["server_id"].as_str(), Some(server_id));
}

#[tokio::test]
async fn well_formed_exchanges() {
    let server = TestServer::start().await;
    for case in well_formed() {
        check(&server, &case, Feed::Whole).await;
    }
}

#[tokio::test]
async fn well_formed_exchanges_fed_one_byte_at_a_time() {
    let server = TestServer::start().await;
    for case in well_formed() {
        check(&server, &case, Feed::Bytewise).await;
    }
}

#[tokio::test]
async fn malformed_input_and_a_bystander_keeps_working() {
    let server = TestServer::start().await;
    let bystander = server.connect().await;
    let mut alive = within("subscribe", bystander.subscribe("alive"))
        .await
        .expect("subscribe");
    common::settle(&bystander).await;
    for case in malformed() {
        check(&server, &case, Feed::Whole).await;
        within(
            "bystander publish",
            bystander.publish("alive", case.name.into()),
        )
        .await
        .expect("publish");
        let message = within("bystander receive", alive.next())
            .await
            .expect("subscription open");
        assert_eq!(message.payload, case.name.as_bytes());
    }
}

#[tokio::test]
async fn malformed_input_fed_one_byte_at_a_time() {
    let server = TestServer::start().await;
    for case in malformed() {
        check(&server, &case, Feed::Bytewise).await;
    }
}

/// A request to a subject nobody listens on comes back at once as a 503 status (ADR-4).
#[tokio::test]
async fn no_responders_status() {
    let server = TestServer::start().await;
    let mut client = server.raw().await;
    client
        .send(
            b"CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n\
              SUB _INBOX.x 1\r\nPUB foo _INBOX.x 0\r\n\r\n",
        )
        .await;
    client
        .expect(b"HMSG _INBOX.x 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n")
        .await;
    client.expect_open().await;

    // Without no_responders in CONNECT the same request gets nothing back.
    let mut silent = server.raw().await;
    silent
        .send(
            b"CONNECT {\"verbose\":false,\"headers\":true}\r\n\
              SUB _INBOX.y 1\r\nPUB foo _INBOX.y 0\r\n\r\n",
        )
        .await;
    silent.expect_open().await;
}
