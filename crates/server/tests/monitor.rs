//! Monitoring on an in-process server with a small `max_pending` (no CLI flag sets it):
//! a slow consumer is cut off and shows up in `/connz?state=closed` with its reason and
//! in the slow-consumer counters; a base path moves every endpoint.

use natrium_server::{ListenPort, Options, Server};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Every wait in these tests gives up after this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// The outbound backlog at which a subscriber is cut off.
const MAX_PENDING_BYTES: usize = 64 * 1024;
/// Each published message's payload.
const PAYLOAD_BYTES: usize = 8 * 1024;

/// Starts a loopback server with monitoring on a free port; returns (client, monitor) addresses.
async fn start(configure: impl FnOnce(&mut Options)) -> (SocketAddr, SocketAddr) {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: ListenPort::Random,
        http_port: Some(ListenPort::Random),
        ..Options::default()
    };
    configure(&mut options);
    let server = Server::bind(options).await.expect("bind");
    let client = server.local_addr().expect("client address");
    let monitor = server.monitor_addr().expect("monitoring is on");
    tokio::spawn(server.run());
    (client, monitor)
}

/// GETs `path`; returns the status and body.
async fn get(monitor: SocketAddr, path: &str) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(monitor).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(STEP_TIMEOUT, exchange)
        .await
        .expect("HTTP answer in time");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header end");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    (status, body.to_string())
}

/// Re-reads `path` until `ready` holds for its JSON.
async fn json_when(monitor: SocketAddr, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let (status, body) = get(monitor, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let value: Value = serde_json::from_str(&body).expect("JSON");
        if ready(&value) {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path}: {value:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Connects, sends CONNECT plus `ops`, and waits for the PONG that proves them processed.
async fn raw_client(
    address: SocketAddr,
    receive_buffer_bytes: Option<u32>,
    ops: &str,
) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    if let Some(bytes) = receive_buffer_bytes {
        socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
    }
    let mut stream = socket.connect(address).await.expect("connect");
    let connect = format!("CONNECT {{\"verbose\":false,\"name\":\"raw\"}}\r\n{ops}PING\r\n");
    stream.write_all(connect.as_bytes()).await.expect("send");
    let mut seen = Vec::new();
    tokio::time::timeout(STEP_TIMEOUT, async {
        while !String::from_utf8_lossy(&seen).contains("PONG\r\n") {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed before PONG");
            seen.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("PONG in time");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_recorded_with_its_reason() {
    let (client, monitor) = start(|options| {
        options.max_pending = MAX_PENDING_BYTES;
        options.max_payload = PAYLOAD_BYTES;
    })
    .await;
    // Subscribes, then never reads again.
    let _slow = raw_client(client, Some(4096), "SUB firehose 1\r\n").await;
    let mut publisher = raw_client(client, None, "").await;
    let payload = "x".repeat(PAYLOAD_BYTES);
    let frame = format!("PUB firehose {PAYLOAD_BYTES}\r\n{payload}\r\n");
    let publish = tokio::spawn(async move {
        // Far more than the kernel buffers plus max_pending hold.
        for _ in 0..4096 {
            if publisher.write_all(frame.as_bytes()).await.is_err() {
                break;
            }
        }
        publisher
    });

    let closed = json_when(monitor, "/connz?state=closed", |v| {
        v["connections"].as_array().is_some_and(|list| {
            list.iter()
                .any(|c| c["reason"] == "Slow Consumer (Pending Bytes)")
        })
    })
    .await;
    let slow = &closed["connections"][0];
    assert_eq!(slow["subscriptions"], 1);
    assert!(slow["stop"].is_string());
    let varz = json_when(monitor, "/varz", |v| v["slow_consumers"] == 1).await;
    assert_eq!(varz["max_pending"], MAX_PENDING_BYTES);
    let accstatz = json_when(monitor, "/accstatz", |_| true).await;
    assert_eq!(accstatz["account_statz"][0]["slow_consumers"], 1);
    let (_, metrics) = get(monitor, "/metrics").await;
    assert!(metrics.contains("\nnatrium_server_slow_consumers_total 1\n"));
    assert!(metrics.contains("\nnatrium_account_slow_consumers_total{account=\"$G\"} 1\n"));
    publish.abort();
}

#[tokio::test]
async fn base_path_moves_every_endpoint() {
    let (_, monitor) = start(|options| options.http_base_path = "/nats/".into()).await;
    assert_eq!(get(monitor, "/nats").await.0, 200);
    assert_eq!(get(monitor, "/nats/varz").await.0, 200);
    assert_eq!(get(monitor, "/nats/metrics").await.0, 200);
    assert_eq!(get(monitor, "/varz").await.0, 404);
    assert_eq!(get(monitor, "/").await.0, 404);
    let varz = json_when(monitor, "/nats/varz", |_| true).await;
    assert_eq!(varz["http_base_path"], "/nats/");
    assert_eq!(varz["http_host"], "127.0.0.1");
    assert_eq!(varz["http_port"], monitor.port());
}

#[tokio::test]
async fn https_needs_tls_and_excludes_http() {
    let https_only = Options {
        https_port: Some(ListenPort::Random),
        ..Options::default()
    };
    let error = Server::bind(https_only).await.err().expect("refused");
    assert_eq!(error.to_string(), "TLS cert and key required for HTTPS");
    let both = Options {
        http_port: Some(ListenPort::Fixed(8222)),
        https_port: Some(ListenPort::Fixed(8223)),
        ..Options::default()
    };
    let error = Server::bind(both).await.err().expect("refused");
    assert_eq!(
        error.to_string(),
        "can't specify both HTTP (8222) and HTTPs (8223) ports"
    );
}
