//! The websocket listener: async-nats over `ws://` (pub/sub, request/reply, headers),
//! refused upgrades with nats-server's HTTP statuses, bad frames closed with the right close
//! status while the server keeps serving others, origin checks, `/connz` and
//! `allowed_connection_types`, compression, `headers`, INFO and `X-Forwarded-For` in log
//! labels.
//!
//! Raw upgrades and frames are written by hand here (helpers in `common/ws.rs`), so what is
//! on the wire is what is asserted; permessage-deflate frames are built and read with
//! flate2. The block's authorization is in `websocket_auth.rs`, the real browser in
//! `browser.rs`.

mod common;

use common::ws::*;
use common::{free_port, within};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")],
            "400",
        ),
        // Not 16 bytes in base64: refused from nats-server 2.12.15 on.
        (&[("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")], "400"),
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
        // The texts below are nats-server 2.12.15's; 2.9 echoed or ignored these.
        (
            "1-byte close",
            frame(0x88, b"\x03"),
            1002,
            "close frame payload cannot be 1 byte",
        ),
        ("empty close answered empty", frame(0x88, b""), 1005, ""),
        (
            "RSV2",
            frame(0xA2, b"x"),
            1002,
            "RSV2 and RSV3 must be clear",
        ),
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

/// Waits until the log file at `path` holds `needle`.
async fn wait_for_log(path: &std::path::Path, needle: &str) {
    within(needle, async {
        while !std::fs::read_to_string(path).is_ok_and(|log| log.contains(needle)) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// `headers` came in nats-server 2.11; the rest is as 2.9.10 does it.
#[tokio::test]
async fn headers_on_the_101_info_and_forwarded_addresses_in_log_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("ws.log");
    let (_server, port) = start(
        "headers { X-Served-By: natrium, Strict-Transport-Security: \"max-age=60\" }",
        &format!("debug: true\nlog_file: {log:?}"),
    )
    .await;
    let request = upgrade_request(port, &[], "X-Forwarded-For: 10.9.8.7\r\n");
    let (head, mut proxied) = send_upgrade(port, &request).await;
    assert!(
        head.starts_with("HTTP/1.1 101")
            && head.contains("\r\nX-Served-By: natrium\r\n")
            && head.contains("\r\nStrict-Transport-Security: max-age=60\r\n"),
        "{head}"
    );
    // Without a cluster there are no URLs to advertise, as from nats-server; client_ip is
    // the socket's peer, not the forwarded address.
    let (_, info) = read_message(&mut proxied).await;
    let info: serde_json::Value =
        serde_json::from_slice(info.strip_prefix(b"INFO ").expect("INFO")).expect("INFO JSON");
    assert!(
        info.get("connect_urls").is_none() && info.get("ws_connect_urls").is_none(),
        "{info}"
    );
    assert_eq!(info["client_ip"], "127.0.0.1");
    // nats-server labels websocket clients `wid`, with a forwarded IP before the socket's.
    let local = proxied.local_addr().expect("local address").port();
    wait_for_log(&log, &format!("10.9.8.7/127.0.0.1:{local} - wid:")).await;
    let request = upgrade_request(port, &[], "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n");
    let (_, listed) = send_upgrade(port, &request).await;
    let local = listed.local_addr().expect("local address").port();
    wait_for_log(&log, &format!(" 127.0.0.1:{local} - wid:")).await;
}
