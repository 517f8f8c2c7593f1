//! The websocket listener: async-nats over `ws://` (pub/sub, request/reply, headers),
//! refused upgrades with nats-server's HTTP statuses, bad frames closed with the right close
//! status while the server keeps serving others, origin checks, `/connz` and
//! `allowed_connection_types`.
//!
//! Raw upgrades and frames are written by hand here, so what is on the wire is what is
//! asserted; permessage-deflate frames are built and read with flate2. The real browser is
//! in `browser.rs`.

mod common;

use common::{free_port, within, TestServer};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with `websocket { port, no_tls: true, <ws_extra> }` (without `no_tls` when
/// `ws_extra` has a `tls` block) and `top` before it; returns the server and the websocket
/// port.
async fn start(ws_extra: &str, top: &str) -> (TestServer, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws_port = free_port();
    let no_tls = if ws_extra.contains("tls {") {
        ""
    } else {
        "no_tls: true"
    };
    let config = dir.path().join("ws.conf");
    std::fs::write(
        &config,
        format!(
            "{top}\nwebsocket {{\n  host: 127.0.0.1\n  port: {ws_port}\n  {no_tls}\n  {ws_extra}\n}}\n"
        ),
    )
    .expect("write config");
    let server = TestServer::start_with(&["-c", config.to_str().expect("utf-8 path")]).await;
    // The config is read at start; the directory may go.
    drop(dir);
    (server, ws_port)
}

fn ws_url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}")
}

async fn ws_client(port: u16) -> async_nats::Client {
    within("websocket connect", async_nats::connect(ws_url(port)))
        .await
        .expect("connect over websocket")
}

/// Upgrade request text with `replace` applied as (from, to) pairs and `extra` headers.
fn upgrade_request(port: u16, replace: &[(&str, &str)], extra: &str) -> String {
    let mut text = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    format!("{text}{extra}\r\n")
}

/// Sends `request` and returns the response head (through the blank line) and the socket.
async fn send_upgrade(port: u16, request: &str) -> (String, TcpStream) {
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect websocket port");
    socket
        .write_all(request.as_bytes())
        .await
        .expect("send upgrade");
    let mut head = Vec::new();
    within("upgrade response", async {
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await.expect("read response") == 0 {
                break;
            }
            head.push(byte[0]);
        }
    })
    .await;
    (String::from_utf8_lossy(&head).into_owned(), socket)
}

/// A masked client frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![first];
    match payload.len() {
        n if n <= 125 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// `data` deflated as a permessage-deflate client sends it: raw, sync-flushed, without the
/// flush's last four bytes (RFC 7692 7.2.1).
fn deflated(data: &[u8]) -> Vec<u8> {
    let mut deflate = flate2::Compress::new(flate2::Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() + 128);
    deflate
        .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .expect("deflate");
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "a sync flush");
    out.truncate(out.len() - 4);
    out
}

/// A compressed message's payload inflated, as a client does after putting the tail back.
fn inflated(compressed: &[u8]) -> Vec<u8> {
    let mut input = compressed.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff]);
    let mut inflate = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(1 << 20);
    let status = inflate
        .decompress_vec(&input, &mut out, flate2::FlushDecompress::Finish)
        .expect("inflate");
    assert_eq!(status, flate2::Status::StreamEnd, "a whole deflate stream");
    out
}

/// Reads one server frame: its first byte and its payload.
async fn read_frame(socket: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    socket.read_exact(&mut head).await.expect("frame header");
    assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
    let length = match head[1] & 0x7F {
        126 => u64::from(socket.read_u16().await.expect("length")),
        127 => socket.read_u64().await.expect("length"),
        n => u64::from(n),
    };
    let mut payload = vec![0u8; length as usize];
    socket.read_exact(&mut payload).await.expect("payload");
    (head[0], payload)
}

/// Reads one data message from the server (its frames up to the final one); returns whether
/// its first frame had RSV1 set (compressed) and its payload, inflated if it was.
async fn read_message(socket: &mut TcpStream) -> (bool, Vec<u8>) {
    within("data message", async {
        let mut compressed = None;
        let mut payload = Vec::new();
        loop {
            let (first, data) = read_frame(socket).await;
            let op = first & 0x0F;
            assert!(op == 0 || op == 2, "a data frame, not {first:#x}");
            let rsv1 = first & 0x40 != 0;
            match compressed {
                None => compressed = Some(rsv1),
                Some(_) => assert!(!rsv1, "RSV1 only on a message's first frame"),
            }
            payload.extend_from_slice(&data);
            if first & 0x80 != 0 {
                let compressed = compressed.unwrap_or(false);
                if compressed {
                    payload = inflated(&payload);
                }
                return (compressed, payload);
            }
        }
    })
    .await
}

/// Reads server frames until a close frame; returns its status and reason.
async fn read_close(socket: &mut TcpStream) -> (u16, String) {
    within("close frame", async {
        loop {
            let (first, payload) = read_frame(socket).await;
            if first & 0x0F == 8 {
                let status = u16::from_be_bytes([payload[0], payload[1]]);
                return (status, String::from_utf8_lossy(&payload[2..]).into_owned());
            }
        }
    })
    .await
}

/// A message makes a round trip through a fresh websocket client.
async fn still_serves(port: u16) {
    let client = ws_client(port).await;
    let mut subscriber = client.subscribe("ws.alive").await.expect("subscribe");
    client.publish("ws.alive", "yes".into()).await.expect("pub");
    let message = within("alive message", subscriber.next())
        .await
        .expect("message");
    assert_eq!(&message.payload[..], b"yes");
}

#[tokio::test]
async fn pub_sub_request_reply_and_headers_over_websocket() {
    let (server, ws_port) = start("", "").await;
    let ws = ws_client(ws_port).await;
    let tcp = server.connect().await;

    // Websocket to TCP and back, with a payload bigger than one frame header's short form.
    let mut from_ws = tcp.subscribe("to.tcp").await.expect("sub");
    let mut from_tcp = ws.subscribe("to.ws").await.expect("sub");
    common::settle(&tcp).await;
    common::settle(&ws).await;
    let big = vec![b'x'; 70_000];
    ws.publish("to.tcp", big.clone().into()).await.expect("pub");
    tcp.publish("to.ws", "hello".into()).await.expect("pub");
    assert_eq!(
        within("ws->tcp", from_ws.next())
            .await
            .expect("msg")
            .payload,
        big
    );
    assert_eq!(
        &within("tcp->ws", from_tcp.next())
            .await
            .expect("msg")
            .payload[..],
        b"hello"
    );

    // Request/reply answered by a websocket responder.
    let mut service = ws.subscribe("svc").await.expect("sub");
    common::settle(&ws).await;
    let responder = ws.clone();
    tokio::spawn(async move {
        while let Some(request) = service.next().await {
            if let Some(reply) = request.reply {
                let _ = responder.publish(reply, "pong".into()).await;
            }
        }
    });
    let answer = within("request", tcp.request("svc", "ping".into()))
        .await
        .expect("reply");
    assert_eq!(&answer.payload[..], b"pong");

    // Headers.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Natrium", "ws");
    let mut with_headers = ws.subscribe("hdr").await.expect("sub");
    common::settle(&ws).await;
    tcp.publish_with_headers("hdr", headers, "h".into())
        .await
        .expect("pub");
    let message = within("hmsg", with_headers.next()).await.expect("msg");
    let received = message.headers.expect("headers");
    assert_eq!(received.get("X-Natrium").map(|v| v.as_str()), Some("ws"));
}

#[tokio::test]
async fn refused_upgrades_get_nats_servers_statuses() {
    let (_server, port) = start("", "").await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")],
            "400",
        ),
        (&[("Version: 13", "Version: 8")], "400"),
        (&[("GET", "POST")], "405"),
        (&[("Upgrade: websocket", "Upgrade: h2c")], "400"),
        (&[("Connection: Upgrade", "Connection: close")], "400"),
    ];
    for (replace, status) in cases {
        let (head, _) = send_upgrade(port, &upgrade_request(port, replace, "")).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{replace:?}: {head}"
        );
        assert!(head.contains("Sec-Websocket-Version: 13\r\n"), "{head}");
    }
    let (head, _) = send_upgrade(port, "nonsense\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    let (head, _) = send_upgrade(port, &upgrade_request(port, &[], "")).await;
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n")
            && head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    still_serves(port).await;
}

#[tokio::test]
async fn bad_frames_are_closed_with_the_right_status() {
    let (_server, port) = start("", "max_payload: 1024").await;
    let upgraded = || async {
        let (head, socket) = send_upgrade(port, &upgrade_request(port, &[], "")).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        socket
    };
    let mut oversized = frame(0x82, b"");
    oversized[1] = 0x80 | 127;
    oversized.splice(2..2, 1_000_000u64.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "unmasked",
            vec![0x82, 0x04, b'P', b'I', b'N', b'G'],
            1002,
            "mask bit missing",
        ),
        (
            "oversized",
            oversized,
            1009,
            "frame payload of 1000000 bytes exceeds the maximum of 8192 bytes",
        ),
        (
            "invalid close code",
            frame(0x88, &1005u16.to_be_bytes()),
            1002,
            "invalid close status code 1005",
        ),
        ("unknown opcode", frame(0x83, b""), 1002, "unknown opcode 3"),
        ("client close", frame(0x88, b"\x03\xe8bye"), 1000, "bye"),
    ];
    for (what, bytes, status, reason) in cases {
        let mut socket = upgraded().await;
        socket.write_all(&bytes).await.expect("send frame");
        assert_eq!(
            read_close(&mut socket).await,
            (status, reason.to_string()),
            "{what}"
        );
    }
    // A ping is answered, then CONNECT and PING over text frames work as over TCP.
    let mut socket = upgraded().await;
    socket.write_all(&frame(0x89, b"p1")).await.expect("ping");
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    within("pong frame", async {
        while !seen.windows(4).any(|w| w == [0x8A, 2, b'p', b'1']) {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    socket
        .write_all(&frame(0x01, b"CONNECT {\"verbose\":false}\r\nPI"))
        .await
        .expect("fragment");
    socket
        .write_all(&frame(0x80, b"NG\r\n"))
        .await
        .expect("final fragment");
    within("PONG", async {
        while !seen.windows(6).any(|w| w == b"PONG\r\n") {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    still_serves(port).await;
}

#[tokio::test]
async fn browsers_get_frames_of_at_most_4096_bytes() {
    let (server, port) = start("", "").await;
    let request = upgrade_request(port, &[], "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n");
    let (head, mut socket) = send_upgrade(port, &request).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket
        .write_all(&frame(
            0x82,
            b"CONNECT {\"verbose\":false}\r\nSUB big 1\r\nPING\r\n",
        ))
        .await
        .expect("subscribe");
    let publisher = server.connect().await;
    common::settle(&publisher).await;
    // The MSG line, the payload and its CRLF, in frames of at most 4096 bytes.
    let expected = format!("MSG big 1 10000\r\n{}\r\n", "b".repeat(10_000));
    let mut received = Vec::new();
    within("frames", async {
        let mut subscribed = false;
        while received.len() < expected.len() {
            let mut head = [0u8; 2];
            socket.read_exact(&mut head).await.expect("frame header");
            assert_eq!(head[0], 0x82, "final binary frames");
            let length = match head[1] {
                126 => usize::from(socket.read_u16().await.expect("length")),
                n => usize::from(n),
            };
            assert!(length <= 4096, "a {length}-byte frame to a browser");
            let mut payload = vec![0u8; length];
            socket.read_exact(&mut payload).await.expect("payload");
            if subscribed {
                received.extend_from_slice(&payload);
            } else if payload.windows(6).any(|w| w == b"PONG\r\n") {
                subscribed = true;
                publisher
                    .publish("big", vec![b'b'; 10_000].into())
                    .await
                    .expect("publish");
            }
        }
    })
    .await;
    assert_eq!(String::from_utf8_lossy(&received), expected);
}

#[tokio::test]
async fn origins_are_checked() {
    let (_server, port) = start(
        "same_origin: false\n  allowed_origins: [\"http://app.example:8080\"]",
        "",
    )
    .await;
    let origin = |value: &str| format!("Origin: {value}\r\n");
    for (header, status) in [
        (origin("http://app.example:8080"), "101"),
        (origin("http://evil.example:8080"), "403"),
        (origin("https://app.example:8080"), "403"),
        (String::new(), "101"),
    ] {
        let (head, _) = send_upgrade(port, &upgrade_request(port, &[], &header)).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{header}: {head}"
        );
    }
    let (_same, same_port) = start("same_origin: true", "").await;
    for (header, status) in [
        (origin(&format!("http://127.0.0.1:{same_port}")), "101"),
        (origin("http://127.0.0.1:1"), "403"),
    ] {
        let (head, _) = send_upgrade(same_port, &upgrade_request(same_port, &[], &header)).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{header}: {head}"
        );
    }
}

#[tokio::test]
async fn connz_type_and_allowed_connection_types() {
    let monitor_port = free_port();
    let (server, ws_port) = start(
        "",
        &format!(
            "http: \"127.0.0.1:{monitor_port}\"\nauthorization {{ users = [ {{user: web, password: pw, allowed_connection_types: [\"WEBSOCKET\"]}} ] }}"
        ),
    )
    .await;
    let options = || async_nats::ConnectOptions::with_user_and_password("web".into(), "pw".into());
    let ws = within("ws connect", options().connect(ws_url(ws_port)))
        .await
        .expect("websocket user over websocket");
    ws.flush().await.expect("flush");
    let body = http_get(monitor_port, "/connz").await;
    let connz: serde_json::Value = serde_json::from_str(&body).expect("connz json");
    let types: Vec<&str> = connz["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(types, ["websocket"], "{body}");
    // A websocket-only user is refused on the client port.
    let mut tcp = server.raw().await;
    tcp.send(b"CONNECT {\"user\":\"web\",\"pass\":\"pw\",\"verbose\":false}\r\nPING\r\n")
        .await;
    tcp.expect(b"-ERR 'Authorization Violation'\r\n").await;
}

#[tokio::test]
async fn wss_with_a_generated_certificate() {
    let pki = common::certs::Pki::new("wss");
    let cert = pki.server("ws-server", common::certs::Validity::Current);
    let tls = format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}",
        cert.cert, cert.key
    );
    let (_server, port) = start(&tls, "").await;
    let connect = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca_file.clone())
        .connect(format!("wss://127.0.0.1:{port}"));
    let client = within("wss connect", connect)
        .await
        .expect("connect over wss");
    let mut subscriber = client.subscribe("wss.echo").await.expect("subscribe");
    client
        .publish("wss.echo", "secret".into())
        .await
        .expect("pub");
    let message = within("wss message", subscriber.next())
        .await
        .expect("message");
    assert_eq!(&message.payload[..], b"secret");
    // A plain upgrade request on the TLS port is not answered with a 101.
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    socket
        .write_all(upgrade_request(port, &[], "").as_bytes())
        .await
        .expect("send");
    let mut reply = Vec::new();
    let _ = within("refused", socket.read_to_end(&mut reply)).await;
    assert!(!reply.starts_with(b"HTTP/1.1 101"));
}

const OFFER_DEFLATE: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
const ACCEPT_DEFLATE: &str = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

#[tokio::test]
async fn compression_is_negotiated_and_used_both_ways() {
    let (server, port) = start("compression: true", "").await;
    let (head, mut socket) = send_upgrade(port, &upgrade_request(port, &[], OFFER_DEFLATE)).await;
    assert!(
        head.starts_with("HTTP/1.1 101") && head.contains(ACCEPT_DEFLATE),
        "{head}"
    );
    // INFO is larger than the 64-byte threshold: it comes compressed.
    let (compressed, info) = read_message(&mut socket).await;
    assert!(compressed && info.starts_with(b"INFO {"), "{info:?}");

    // One compressed message with CONNECT, SUB, a publish to itself and PING, split over
    // two frames (RSV1 on the first only) with a ping between them.
    let payload = "n".repeat(1000);
    let ops = format!(
        "CONNECT {{\"verbose\":false}}\r\nSUB deflate 1\r\nPUB deflate 1000\r\n{payload}\r\nPING\r\n"
    );
    let body = deflated(ops.as_bytes());
    assert!(body.len() < ops.len() / 2, "the payload compresses");
    let (first, second) = body.split_at(body.len() / 2);
    let mut wire = frame(0x42, first);
    wire.extend(frame(0x89, b"mid"));
    wire.extend(frame(0x80, second));
    socket.write_all(&wire).await.expect("compressed frames");
    let expected = format!("MSG deflate 1 1000\r\n{payload}\r\nPONG\r\n");
    let mut received = Vec::new();
    let mut pong_seen = false;
    while received.len() < expected.len() {
        // The pong to "mid" is a control frame, read past here.
        let mut head = [0u8; 2];
        let peeked = within("peek", socket.peek(&mut head)).await.expect("peek");
        if peeked == 2 && head[0] == 0x8A {
            let mut pong = [0u8; 5];
            socket.read_exact(&mut pong).await.expect("pong");
            assert_eq!(&pong[2..], b"mid");
            pong_seen = true;
            continue;
        }
        let (compressed, data) = read_message(&mut socket).await;
        assert!(compressed, "a batch over 64 bytes is compressed");
        received.extend_from_slice(&data);
    }
    assert_eq!(String::from_utf8_lossy(&received), expected);
    assert!(
        pong_seen,
        "the ping inside the compressed message was answered"
    );

    // A batch of at most 64 bytes goes uncompressed.
    let publisher = server.connect().await;
    publisher
        .publish("deflate", "tiny".into())
        .await
        .expect("publish");
    publisher.flush().await.expect("flush");
    let (compressed, data) = read_message(&mut socket).await;
    assert!(!compressed, "{data:?}");
    assert_eq!(data, b"MSG deflate 1 4\r\ntiny\r\n");

    // A client that does not offer the extension gets plain frames.
    let (head, mut plain) = send_upgrade(port, &upgrade_request(port, &[], "")).await;
    assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
    let (compressed, info) = read_message(&mut plain).await;
    assert!(!compressed && info.starts_with(b"INFO {"));
    still_serves(port).await;
}

#[tokio::test]
async fn compressed_frames_are_refused_when_not_negotiated_or_too_large() {
    // The option off: an offer is ignored and a compressed frame is a protocol error.
    let (_off, off_port) = start("", "").await;
    let (head, mut socket) =
        send_upgrade(off_port, &upgrade_request(off_port, &[], OFFER_DEFLATE)).await;
    assert!(
        head.starts_with("HTTP/1.1 101") && !head.contains("Sec-WebSocket-Extensions"),
        "{head}"
    );
    socket
        .write_all(&frame(0xC2, &deflated(b"PING\r\n")))
        .await
        .expect("send");
    assert_eq!(
        read_close(&mut socket).await,
        (
            1002,
            "compressed frame received without negotiated permessage-deflate".to_string()
        )
    );

    // The option on and max_payload 1 KiB: a message inflating past it is refused, as are
    // compressed frames adding up past eight times it, and data that is not deflate.
    let (_on, port) = start("compression: true", "max_payload: 1024").await;
    let bomb = deflated(format!("PUB a 4000\r\n{}\r\n", "0".repeat(4000)).as_bytes());
    let mut fragments = frame(0x42, &[0; 5000]);
    fragments.extend(frame(0x00, &[0; 5000]));
    let cases: [(&str, Vec<u8>, u16, &str); 4] = [
        (
            "inflates too far",
            frame(0xC2, &bomb),
            1009,
            "maximum payload exceeded",
        ),
        (
            "compressed too large",
            fragments,
            1009,
            "maximum payload exceeded",
        ),
        (
            "not deflate",
            frame(0xC2, &[0xFF; 16]),
            1002,
            "invalid compressed data: deflate decompression error",
        ),
        (
            "compressed control frame",
            frame(0xC9, b""),
            1002,
            "control frame must not be compressed",
        ),
    ];
    for (what, bytes, status, reason) in cases {
        let (head, mut socket) =
            send_upgrade(port, &upgrade_request(port, &[], OFFER_DEFLATE)).await;
        assert!(head.contains(ACCEPT_DEFLATE), "{head}");
        read_message(&mut socket).await;
        socket.write_all(&bytes).await.expect("send");
        assert_eq!(
            read_close(&mut socket).await,
            (status, reason.to_string()),
            "{what}"
        );
    }
    still_serves(port).await;
}

async fn http_get(port: u16, path: &str) -> String {
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("monitor");
    socket
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut response = Vec::new();
    within("monitor response", socket.read_to_end(&mut response))
        .await
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or(text)
}
