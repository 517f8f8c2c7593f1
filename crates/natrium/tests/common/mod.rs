//! Shared harness for the integration tests: runs the server under test on a free port and talks to it.
//!
//! The server binary is `NATRIUM_TEST_SERVER` when set (e.g. `/usr/sbin/nats-server`, the reference),
//! otherwise the `natrium` binary built by cargo. Every test starts its own server, so tests stay
//! independent and can run in parallel.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod certs;
pub mod ws;

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound for any single step of a test (connect, receive, flush...).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the server may take to accept its first TCP connection.
const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many fresh ports to try when another process grabs ours between probe and bind.
const PORT_ATTEMPTS_MAX: usize = 5;

/// How long a raw client waits for silence before concluding no more bytes are coming.
pub const QUIET_PERIOD: Duration = Duration::from_millis(200);

/// The server binary under test.
pub fn server_binary() -> PathBuf {
    match std::env::var_os("NATRIUM_TEST_SERVER") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_natrium")),
    }
}

/// Awaits `future`, panicking with `what` if it takes longer than [`STEP_TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    within_for(STEP_TIMEOUT, what, future).await
}

/// Awaits `future`, panicking with `what` if it takes longer than `limit`.
pub async fn within_for<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// Waits until the server has processed everything `client` sent so far.
///
/// async-nats' `flush` only empties the local write buffer, so it cannot tell that a SUB is in the
/// server's interest table. A request nobody answers makes a round trip instead: the server handles
/// one connection's operations in order, so its no-responders status proves the earlier ones done.
pub async fn settle(client: &async_nats::Client) {
    let error = within(
        "round trip to the server",
        client.request("_natrium_test.settle", bytes::Bytes::new()),
    )
    .await
    .expect_err("nobody answers the settle subject");
    assert_eq!(
        error.kind(),
        async_nats::RequestErrorKind::NoResponders,
        "settle round trip: {error}"
    );
}

/// A server process listening on 127.0.0.1; killed when dropped.
pub struct TestServer {
    child: Option<Child>,
    port: u16,
    extra_args: Vec<String>,
    greeting: Greeting,
}

/// What the server sends a new connection, which is how the harness knows it is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greeting {
    /// INFO in plain text (every server without `handshake_first`).
    Info,
    /// Nothing: the client must start a TLS handshake (`handshake_first`).
    Silent,
}

impl TestServer {
    /// Starts the server with default options.
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    /// Starts the server with `extra_args` appended to `-a 127.0.0.1 -p <port>`.
    pub async fn start_with(extra_args: &[&str]) -> TestServer {
        TestServer::start_greeting(extra_args, Greeting::Info).await
    }

    /// Starts a server that greets new connections as `greeting` says.
    pub async fn start_greeting(extra_args: &[&str], greeting: Greeting) -> TestServer {
        let extra_args: Vec<String> = extra_args.iter().map(|arg| arg.to_string()).collect();
        let mut last_exit = None;
        for _ in 0..PORT_ATTEMPTS_MAX {
            let port = free_port();
            match spawn_ready(port, &extra_args, greeting).await {
                Ok(child) => {
                    return TestServer {
                        child: Some(child),
                        port,
                        extra_args,
                        greeting,
                    }
                }
                Err(status) => last_exit = Some(status),
            }
        }
        panic!(
            "server {} exited before accepting connections, {PORT_ATTEMPTS_MAX} times; last: {last_exit:?}",
            server_binary().display()
        );
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client address.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The client URL for async-nats.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id (for sending it signals).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("server is running")
    }

    /// Waits up to `limit` for the server to exit by itself; returns whether it did.
    #[allow(dead_code)]
    pub async fn wait_for_exit(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(_))) | None => {
                    self.child = None;
                    return true;
                }
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        false
    }

    /// Kills the process and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The process may already be gone; either way it must be reaped.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and starts a new process on the same port with the same arguments.
    pub async fn restart(&mut self) {
        self.stop();
        let mut last_exit = None;
        for _ in 0..PORT_ATTEMPTS_MAX {
            match spawn_ready(self.port, &self.extra_args, self.greeting).await {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(status) => last_exit = Some(status),
            }
            // The old listener may linger for a moment; try again shortly.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "server did not restart on port {}; last exit: {last_exit:?}",
            self.port
        );
    }

    /// Connects an async-nats client with default options.
    pub async fn connect(&self) -> async_nats::Client {
        self.connect_with(async_nats::ConnectOptions::new()).await
    }

    /// Connects an async-nats client with `options`.
    pub async fn connect_with(&self, options: async_nats::ConnectOptions) -> async_nats::Client {
        within("async-nats connect", options.connect(self.url()))
            .await
            .unwrap_or_else(|error| panic!("connect to {}: {error}", self.url()))
    }

    /// Opens a raw TCP connection and consumes the INFO line.
    pub async fn raw(&self) -> RawClient {
        let mut client = RawClient::connect(self.address()).await;
        client.read_info().await;
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ports handed out by this test process. Tests run in parallel threads, and the kernel may offer
/// a just-released port again; two servers racing for one port could make a test talk to another
/// test's server, so a port is never handed out twice.
static PORTS_TAKEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Asks the kernel for a currently free port this process has not used yet. Another process may
/// still take it before the server binds; `start_with` retries in that case.
pub fn free_port() -> u16 {
    // Below Linux's ephemeral range (32768-60999), so a server port is never also the source
    // port of some client socket, and a connect to a not-yet-bound port cannot self-connect.
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    let seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
    let mut taken = PORTS_TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut candidate = (seed % u64::from(SPAN)) as u16;
    for _ in 0..SPAN {
        candidate = (candidate + 7919) % SPAN;
        let port = FIRST + candidate;
        if !taken.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + SPAN);
}

/// True if whoever listens on `port` greets as a NATS server would: `INFO ` first, or (for
/// a TLS-first server) nothing at all.
async fn speaks_nats(port: u16, greeting: Greeting) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if greeting == Greeting::Silent {
        let mut byte = [0u8; 1];
        return tokio::time::timeout(QUIET_PERIOD, stream.read(&mut byte))
            .await
            .is_err();
    }
    let mut greeting = [0u8; 5];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut greeting)).await,
        Ok(Ok(_)) if &greeting == b"INFO "
    )
}

/// Spawns the server on `port` and waits until it accepts TCP. Returns the exit status if it
/// exited first (typically: another process took the port).
async fn spawn_ready(
    port: u16,
    extra_args: &[String],
    greeting: Greeting,
) -> Result<Child, ExitStatus> {
    let binary = server_binary();
    let port_arg = port.to_string();
    let mut command = Command::new(&binary);
    command
        .args(["-a", "127.0.0.1", "-p", port_arg.as_str()])
        .args(extra_args)
        .stdin(Stdio::null());
    // Server logs are noise unless someone is debugging a failure.
    if std::env::var_os("NATRIUM_TEST_SERVER_LOG").is_none() {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("spawn {}: {error}", binary.display()));
    let deadline = tokio::time::Instant::now() + SERVER_READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(status);
        }
        if speaks_nats(port, greeting).await {
            // A connect could reach a stranger that grabbed the port while ours failed to bind.
            if let Ok(Some(status)) = child.try_wait() {
                return Err(status);
            }
            return Ok(child);
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not accept TCP on port {port} within {SERVER_READY_TIMEOUT:?}",
                binary.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client speaking the NATS wire protocol by hand over TCP.
///
/// It never answers server PINGs, and nats-server sends its first PING about 2 s after CONNECT,
/// so an exchange that expects exact bytes must finish well within that.
pub struct RawClient {
    stream: TcpStream,
    /// Bytes read from the socket and not yet consumed by an expectation.
    received: Vec<u8>,
}

/// What a raw client saw when it stopped reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// The server closed the connection (EOF or reset).
    Closed,
    /// No bytes arrived for [`QUIET_PERIOD`] and the connection is still up.
    Quiet,
}

impl RawClient {
    /// Opens a TCP connection without reading anything.
    pub async fn connect(address: SocketAddr) -> RawClient {
        let stream = within("raw TCP connect", TcpStream::connect(address))
            .await
            .unwrap_or_else(|error| panic!("raw connect to {address}: {error}"));
        stream.set_nodelay(true).expect("set TCP_NODELAY");
        RawClient {
            stream,
            received: Vec::new(),
        }
    }

    /// Opens a TCP connection from `local` (e.g. 127.0.0.2, for source-address rules).
    pub async fn connect_from(local: std::net::IpAddr, address: SocketAddr) -> RawClient {
        let socket = tokio::net::TcpSocket::new_v4().expect("TCP socket");
        socket
            .bind(SocketAddr::new(local, 0))
            .expect("bind the source address");
        RawClient::connect_socket(socket, address).await
    }

    /// Opens a TCP connection whose kernel receive buffer is about `receive_buffer_bytes`, so a
    /// client that stops reading backs the server up sooner.
    pub async fn connect_with_receive_buffer(
        address: SocketAddr,
        receive_buffer_bytes: u32,
    ) -> RawClient {
        let socket = tokio::net::TcpSocket::new_v4().expect("TCP socket");
        socket
            .set_recv_buffer_size(receive_buffer_bytes)
            .expect("set SO_RCVBUF");
        RawClient::connect_socket(socket, address).await
    }

    async fn connect_socket(socket: tokio::net::TcpSocket, address: SocketAddr) -> RawClient {
        let stream = within("raw TCP connect", socket.connect(address))
            .await
            .unwrap_or_else(|error| panic!("raw connect to {address}: {error}"));
        stream.set_nodelay(true).expect("set TCP_NODELAY");
        RawClient {
            stream,
            received: Vec::new(),
        }
    }

    /// Reads the INFO line the server sends on connect and returns its JSON text.
    pub async fn read_info(&mut self) -> String {
        let line = self.read_line().await;
        let text = String::from_utf8(line).expect("INFO line is UTF-8");
        let json = text
            .strip_prefix("INFO ")
            .unwrap_or_else(|| panic!("first line is not INFO: {text:?}"));
        // nats-server 2.9 puts one space between the JSON and CRLF; clients accept either.
        json.trim_end().to_string()
    }

    /// Reads one line including its CRLF.
    pub async fn read_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = self.received.windows(2).position(|pair| pair == b"\r\n") {
                return self.received.drain(..end + 2).collect();
            }
            if !self.fill("a CRLF-terminated line").await {
                panic!(
                    "connection closed before a full line; got {:?}",
                    String::from_utf8_lossy(&self.received)
                );
            }
        }
    }

    /// Writes `bytes` in one go.
    pub async fn send(&mut self, bytes: &[u8]) {
        within("raw write", self.stream.write_all(bytes))
            .await
            .unwrap_or_else(|error| panic!("raw write: {error}"));
    }

    /// Writes `bytes` one byte per write, pausing now and then so the server sees many small reads.
    /// Stops at the first failed write (the server may hang up on bad input part way through) and
    /// returns whether every byte was written.
    pub async fn send_bytewise(&mut self, bytes: &[u8]) -> bool {
        for (index, byte) in bytes.iter().enumerate() {
            let written = within(
                "raw write",
                self.stream.write_all(std::slice::from_ref(byte)),
            )
            .await;
            if written.is_err() {
                return false;
            }
            // Pause often near the start, where the verbs are, and rarely in long lines, so that
            // a 4 KiB line still goes through in well under nats-server's first PING (~2 s).
            let pause_every = if index < 512 { 8 } else { 128 };
            if index % pause_every == pause_every - 1 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        true
    }

    /// Reads exactly `expected.len()` bytes and asserts they equal `expected`.
    pub async fn expect(&mut self, expected: &[u8]) {
        while self.received.len() < expected.len() {
            if !self.fill("expected bytes").await {
                break;
            }
        }
        let length = expected.len().min(self.received.len());
        let got: Vec<u8> = self.received.drain(..length).collect();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "unexpected bytes from server"
        );
    }

    /// Reads until the server closes or goes quiet; returns the bytes and how it ended.
    pub async fn read_rest(&mut self) -> (Vec<u8>, Ending) {
        let ending = loop {
            match tokio::time::timeout(QUIET_PERIOD, self.read_some()).await {
                Err(_) => break Ending::Quiet,
                Ok(true) => continue,
                Ok(false) => break Ending::Closed,
            }
        };
        (std::mem::take(&mut self.received), ending)
    }

    /// Asserts the server closes the connection without sending anything more.
    pub async fn expect_closed(&mut self) {
        let rest = within("server closing the connection", async {
            loop {
                if !self.read_some().await {
                    break std::mem::take(&mut self.received);
                }
            }
        })
        .await;
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "",
            "unexpected bytes before close"
        );
    }

    /// Asserts the connection is still usable: a PING gets exactly a PONG back.
    pub async fn expect_open(&mut self) {
        self.send(b"PING\r\n").await;
        self.expect(b"PONG\r\n").await;
    }

    /// Reads until EOF or reset, discarding data; returns how many bytes were discarded.
    pub async fn drain_until_closed(&mut self) -> usize {
        let mut discarded = self.received.len();
        self.received.clear();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return discarded,
                Ok(count) => discarded += count,
            }
        }
    }

    /// Reads once into the buffer within [`STEP_TIMEOUT`]; false on EOF or reset.
    async fn fill(&mut self, what: &str) -> bool {
        within(what, self.read_some()).await
    }

    /// Reads once into the buffer; false on EOF or reset.
    async fn read_some(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk).await {
            Ok(0) => false,
            Ok(count) => {
                self.received.extend_from_slice(&chunk[..count]);
                true
            }
            // A reset after the server closed with our bytes still unread counts as a close.
            Err(_) => false,
        }
    }
}

/// A config file in the temporary directory, removed on drop.
pub struct ConfigFile(PathBuf);

impl ConfigFile {
    /// Writes `text` to a fresh file.
    pub fn new(text: &str) -> ConfigFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("natrium-test-{}-{n}.conf", std::process::id()));
        std::fs::write(&path, text).expect("write config");
        ConfigFile(path)
    }

    /// Replaces the file's text (for a reload).
    pub fn rewrite(&self, text: &str) {
        std::fs::write(&self.0, text).expect("rewrite config");
    }

    /// The path, as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
