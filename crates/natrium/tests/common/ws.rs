//! Websocket test helpers: a server with a `websocket {}` block, raw upgrades, masked
//! client frames (plain or deflated), and reading the server's frames back.

use super::{free_port, within, TestServer};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with `websocket { port, no_tls: true, <ws_extra> }` (without `no_tls` when
/// `ws_extra` has a `tls` block) and `top` before it; returns the server and the websocket
/// port.
pub async fn start(ws_extra: &str, top: &str) -> (TestServer, u16) {
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

pub fn ws_url(port: u16) -> String {
    format!("ws://127.0.0.1:{port}")
}

pub async fn ws_client(port: u16) -> async_nats::Client {
    within("websocket connect", async_nats::connect(ws_url(port)))
        .await
        .expect("connect over websocket")
}

/// Upgrade request text with `replace` applied as (from, to) pairs and `extra` headers.
pub fn upgrade_request(port: u16, replace: &[(&str, &str)], extra: &str) -> String {
    let mut text = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    format!("{text}{extra}\r\n")
}

/// Sends `request` and returns the response head (through the blank line) and the socket.
pub async fn send_upgrade(port: u16, request: &str) -> (String, TcpStream) {
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
pub fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
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
pub fn deflated(data: &[u8]) -> Vec<u8> {
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
pub fn inflated(compressed: &[u8]) -> Vec<u8> {
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
pub async fn read_frame(socket: &mut TcpStream) -> (u8, Vec<u8>) {
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
pub async fn read_message(socket: &mut TcpStream) -> (bool, Vec<u8>) {
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
/// An empty close frame reads as 1005 (no status).
pub async fn read_close(socket: &mut TcpStream) -> (u16, String) {
    within("close frame", async {
        loop {
            let (first, payload) = read_frame(socket).await;
            if first & 0x0F == 8 && payload.is_empty() {
                return (1005, String::new());
            }
            if first & 0x0F == 8 {
                let status = u16::from_be_bytes([payload[0], payload[1]]);
                return (status, String::from_utf8_lossy(&payload[2..]).into_owned());
            }
        }
    })
    .await
}

/// A message makes a round trip through a fresh websocket client.
pub async fn still_serves(port: u16) {
    let client = ws_client(port).await;
    let mut subscriber = client.subscribe("ws.alive").await.expect("subscribe");
    client.publish("ws.alive", "yes".into()).await.expect("pub");
    let message = within("alive message", subscriber.next())
        .await
        .expect("message");
    assert_eq!(&message.payload[..], b"yes");
}

/// An offer of permessage-deflate as clients send it.
pub const OFFER_DEFLATE: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
/// nats-server's acceptance of it.
pub const ACCEPT_DEFLATE: &str = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

/// The body of a monitoring endpoint.
pub async fn http_get(port: u16, path: &str) -> String {
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

/// Reads the server's frames until their text holds one of `needles` or a close frame comes
/// (written into the text as `<close STATUS REASON>`); returns the text.
pub async fn read_text_until(socket: &mut TcpStream, needles: &[&str]) -> String {
    within("server text", async {
        let mut text = String::new();
        while !needles.iter().any(|needle| text.contains(needle)) {
            let (first, payload) = read_frame(socket).await;
            match first & 0x0F {
                8 => {
                    let status = u16::from_be_bytes([payload[0], payload[1]]);
                    let reason = String::from_utf8_lossy(&payload[2..]);
                    text.push_str(&format!("<close {status} {reason}>"));
                    break;
                }
                0..=2 => text.push_str(&String::from_utf8_lossy(&payload)),
                _ => {}
            }
        }
        text
    })
    .await
}

/// `connect` (a CONNECT JSON object) with `"verbose":false` added, so no +OK comes back.
pub fn quiet(connect: &str) -> String {
    match connect.trim().strip_prefix('{') {
        Some(rest) if rest.trim() == "}" => "{\"verbose\":false}".to_string(),
        Some(rest) => format!("{{\"verbose\":false,{rest}"),
        None => panic!("not a JSON object: {connect}"),
    }
}

/// A raw websocket client: upgrades with `extra` headers, reads INFO, sends
/// `CONNECT <connect>` (made quiet) and PING. Returns INFO's JSON, the text up to the PONG or -ERR, and
/// the socket.
pub async fn ws_session(
    port: u16,
    extra: &str,
    connect: &str,
) -> (serde_json::Value, String, TcpStream) {
    let (head, mut socket) = send_upgrade(port, &upgrade_request(port, &[], extra)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let info = read_text_until(&mut socket, &["\r\n"]).await;
    let json = info
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("INFO first: {info:?}"));
    let info = serde_json::from_str(json.trim_end()).expect("INFO JSON");
    socket
        .write_all(&frame(
            0x82,
            format!("CONNECT {}\r\nPING\r\n", quiet(connect)).as_bytes(),
        ))
        .await
        .expect("send CONNECT");
    let answer = read_text_until(&mut socket, &["PONG\r\n", "-ERR"]).await;
    (info, answer, socket)
}
