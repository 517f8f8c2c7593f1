//! Accounts from the config file, against the real binary: binding users to accounts,
//! isolation, per-account limits, monitoring per account, reload, JetStream in an account,
//! stream and service exports and imports, service latency tracking, and the config errors
//! of broken links.
//!
//! With `NATRIUM_TEST_SERVER=/usr/sbin/nats-server` the same tests check nats-server
//! 2.9.10, which is how their expectations were confirmed.

#[path = "../common/mod.rs"]
mod common;

mod binding;
mod imports;
mod latency;

use common::{within, TestServer};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A config file in a scratch directory, removed on drop.
pub struct Config(PathBuf);

impl Config {
    pub fn new(text: &str) -> Config {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("natrium-accounts-{}-{n}.conf", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, text).expect("write config");
        Config(path)
    }

    pub fn rewrite(&self, text: &str) {
        std::fs::write(&self.0, text).expect("rewrite config");
    }

    pub fn arg(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts a server on `config` with `extra_args`.
pub async fn start(config: &Config, extra_args: &[&str]) -> TestServer {
    let mut args = vec!["-c", config.arg()];
    args.extend_from_slice(extra_args);
    TestServer::start_with(&args).await
}

/// An async-nats client logged in as `user` (password = user name).
pub async fn login(server: &TestServer, user: &str) -> async_nats::Client {
    let options = async_nats::ConnectOptions::with_user_and_password(user.into(), user.into());
    server.connect_with(options).await
}

/// The JSON body of a monitoring endpoint.
pub async fn http_json(port: u16, path: &str) -> serde_json::Value {
    within(path, async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to the monitoring port");
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let text = String::from_utf8(raw).expect("UTF-8 answer");
        let (_, body) = text.split_once("\r\n\r\n").expect("header end");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    })
    .await
}

/// Sends SIGHUP to the server and waits for the reload to be in force.
pub async fn reload(server: &TestServer) {
    // SAFETY: signalling a child process this test started, by its id.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) }, 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}
