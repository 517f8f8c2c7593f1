//! Limits with nats-server's behaviour, on an in-process server with small limits and real
//! sockets: the -ERR text, whether the connection closes, and that others keep working.

use natrium_server::{ListenPort, Options, Server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every read in these tests gives up after this long.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts a server with `configure` applied to loopback defaults; it runs until the test ends.
async fn start(configure: impl FnOnce(&mut Options)) -> SocketAddr {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: ListenPort::Random,
        ..Options::default()
    };
    configure(&mut options);
    let server = Server::bind(options).await.expect("bind");
    let address = server.local_addr().expect("address");
    tokio::spawn(server.run());
    address
}

/// A raw protocol client that has read INFO and sent CONNECT.
struct Raw {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Raw {
    async fn connect(address: SocketAddr) -> Raw {
        let stream = TcpStream::connect(address).await.expect("connect");
        let mut raw = Raw {
            stream,
            received: Vec::new(),
        };
        raw.expect(b"INFO ").await;
        raw.expect(b" \r\n").await;
        raw.send(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
            .await;
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Reads until `expected` has arrived (after what was already matched); panics otherwise.
    async fn expect(&mut self, expected: &[u8]) {
        let found = tokio::time::timeout(READ_TIMEOUT, async {
            loop {
                if let Some(at) = find(&self.received, expected) {
                    self.received.drain(..at + expected.len());
                    return true;
                }
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => self.received.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .unwrap_or(false);
        assert!(
            found,
            "expected {:?}, have {:?}",
            String::from_utf8_lossy(expected),
            String::from_utf8_lossy(&self.received)
        );
    }

    /// Asserts the server closes the connection (EOF or reset) within the read timeout.
    async fn expect_closed(&mut self) {
        let closed = tokio::time::timeout(READ_TIMEOUT, async {
            let mut chunk = [0u8; 65536];
            loop {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "connection still open");
    }

    /// Asserts the connection is open and in sync: PING gets PONG.
    async fn expect_open(&mut self) {
        self.send(b"PING\r\n").await;
        self.expect(b"PONG\r\n").await;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[tokio::test]
async fn max_connections_refuses_the_extra_client_after_info() {
    let address = start(|o| o.max_connections = 1).await;
    let mut first = Raw::connect(address).await;
    first.expect_open().await;
    let mut second = Raw::connect(address).await;
    second
        .expect(b"-ERR 'maximum connections exceeded'\r\n")
        .await;
    second.expect_closed().await;
    first.expect_open().await;
}

#[tokio::test]
async fn max_subscriptions_refuses_the_extra_sub_and_stays_open() {
    let address = start(|o| o.max_subscriptions = 2).await;
    let mut client = Raw::connect(address).await;
    client.send(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\n").await;
    client
        .expect(b"-ERR 'maximum subscriptions exceeded'\r\n")
        .await;
    client.expect_open().await;
    // After an UNSUB there is room again.
    client
        .send(b"UNSUB 1\r\nSUB c 3\r\nPUB c 2\r\nhi\r\n")
        .await;
    client.expect(b"MSG c 3 2\r\nhi\r\n").await;
}

#[tokio::test]
async fn unanswered_pings_end_in_stale_connection() {
    let address = start(|o| {
        o.ping_interval = Duration::from_millis(200);
        o.ping_max = 1;
    })
    .await;
    let mut client = Raw::connect(address).await;
    client.expect(b"PING\r\n").await;
    client.expect(b"-ERR 'Stale Connection'\r\n").await;
    client.expect_closed().await;
}

#[tokio::test]
async fn answered_pings_keep_the_connection() {
    let address = start(|o| {
        o.ping_interval = Duration::from_millis(100);
        o.ping_max = 1;
    })
    .await;
    let mut client = Raw::connect(address).await;
    for _ in 0..3 {
        client.expect(b"PING\r\n").await;
        client.send(b"PONG\r\n").await;
    }
    client.expect_open().await;
}

#[tokio::test]
async fn a_consumer_over_max_pending_is_cut_off_and_others_are_not() {
    let address = start(|o| {
        o.max_pending = 256 * 1024;
        o.max_payload = 64 * 1024;
    })
    .await;
    let mut stuck = Raw::connect(address).await;
    stuck.send(b"SUB data 1\r\n").await;
    stuck.expect_open().await;
    let mut healthy = Raw::connect(address).await;
    healthy.send(b"SUB data 1\r\n").await;
    healthy.expect_open().await;

    let mut publisher = Raw::connect(address).await;
    let payload = vec![b'x'; 60 * 1024];
    let mut frame = format!("PUB data {}\r\n", payload.len()).into_bytes();
    frame.extend_from_slice(&payload);
    frame.extend_from_slice(b"\r\n");
    // Far more than the stuck client's socket buffers and max_pending together.
    for _ in 0..400 {
        publisher.send(&frame).await;
        let mut sink = [0u8; 65536];
        // The healthy subscriber keeps reading; count framing lines to stay in step.
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1), healthy.stream.read(&mut sink)).await
        {
            if n == 0 {
                panic!("healthy subscriber was closed");
            }
        }
    }
    stuck.expect_closed().await;
    healthy.expect_open().await;
    publisher.expect_open().await;
}

#[tokio::test]
async fn configured_max_payload_and_control_line_are_enforced() {
    let address = start(|o| {
        o.max_payload = 8;
        o.max_control_line = 48;
    })
    .await;
    let mut client = Raw::connect(address).await;
    client.send(b"PUB foo 8\r\n12345678\r\n").await;
    client.expect_open().await;
    client.send(b"PUB foo 9\r\n").await;
    client.expect(b"-ERR 'Maximum Payload Violation'\r\n").await;
    client.expect_closed().await;

    let mut client = Raw::connect(address).await;
    client
        .send(format!("SUB {} 1\r\n", "a".repeat(60)).as_bytes())
        .await;
    client
        .expect(b"-ERR 'maximum control line exceeded'\r\n")
        .await;
    client.expect_closed().await;
}
