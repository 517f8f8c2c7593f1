//! A real browser: headless chromium loads a page that uses the `nats.ws` npm client against
//! Natrium's websocket listener, and reports what it saw back over NATS.
//!
//! Needs `chromium` (Debian's package) and `crates/natrium/tests/browser/node_modules`
//! (`npm ci` there); the README's test command installs both where they are missing. Without
//! them this test fails and says what is missing: it never skips silently.

mod common;

use async_nats::Client;
use common::{free_port, within_for, TestServer};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long the page gets to load, connect and report.
const PAGE_TIME_MAX: Duration = Duration::from_secs(45);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The chromium binary: `NATRIUM_CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    let path = std::env::var_os("NATRIUM_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: install Debian's chromium (the README's test command does)",
        path.display()
    );
    path
}

/// Serves the test page and the nats.ws bundle until the task is dropped.
async fn serve_page(listener: TcpListener) {
    let page = std::fs::read(browser_dir().join("page.html")).expect("page.html");
    let bundle_path = browser_dir().join("node_modules/nats.ws/esm/nats.js");
    let bundle = std::fs::read(&bundle_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `npm ci` in {} (the README's test command does)",
            bundle_path.display(),
            browser_dir().display()
        )
    });
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let (page, bundle) = (page.clone(), bundle.clone());
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let n = socket.read(&mut request).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, kind, body) = if path.starts_with("/nats.js") {
                ("200 OK", "text/javascript", bundle)
            } else if path == "/" || path.starts_with("/?") {
                ("200 OK", "text/html; charset=utf-8", page)
            } else {
                ("404 Not Found", "text/plain", b"not found".to_vec())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
        });
    }
}

/// Chromium, killed when dropped; its throwaway profile goes with it.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(url: &str) -> Browser {
    let profile = tempfile::tempdir().expect("profile dir");
    let child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg("--disable-dev-shm-usage")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    Browser {
        child,
        _profile: profile,
    }
}

/// Answers `browser.service` requests with "pong".
async fn responder(client: &Client) {
    let mut requests = client.subscribe("browser.service").await.unwrap();
    let client = client.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            if let Some(reply) = request.reply {
                let _ = client.publish(reply, "pong".into()).await;
            }
        }
    });
}

/// One chromium at a time: the machines these run on are small.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Loads the page against a server whose websocket block has `ws_extra`; returns its report
/// after checking what every scenario must see.
async fn run_page(ws_extra: &str) -> serde_json::Value {
    let _one = ONE_BROWSER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let ws_port = free_port();
    let config = dir.path().join("ws.conf");
    std::fs::write(
        &config,
        format!(
            "websocket {{\n  host: 127.0.0.1\n  port: {ws_port}\n  no_tls: true\n  {ws_extra}\n}}\n"
        ),
    )
    .unwrap();
    let server = TestServer::start_with(&["-c", config.to_str().unwrap()]).await;
    let client = server.connect().await;
    let mut results = client.subscribe("browser.results").await.unwrap();
    responder(&client).await;
    client.flush().await.unwrap();

    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = http.local_addr().unwrap().port();
    let pages = tokio::spawn(serve_page(http));
    let url = format!("http://127.0.0.1:{http_port}/?ws=ws://127.0.0.1:{ws_port}");
    let _browser = launch(&url);

    let report = within_for(PAGE_TIME_MAX, "the page's report", results.next())
        .await
        .expect("results subscription open");
    pages.abort();
    let report: serde_json::Value = serde_json::from_slice(&report.payload).unwrap();
    assert_eq!(report["headers_supported"], true, "{report}");
    assert_eq!(report["echo"]["data"], "hello from chromium", "{report}");
    assert_eq!(report["echo"]["header"], "chromium", "{report}");
    assert_eq!(report["request"], "pong", "{report}");
    assert_eq!(report["no_responders"], "503", "{report}");
    assert_eq!(report["big"]["same"], true, "{report}");
    report
}

#[tokio::test]
async fn nats_ws_in_chromium_publishes_subscribes_and_requests() {
    let report = run_page("").await;
    // Chromium offers permessage-deflate; with the option off, none is accepted.
    assert_eq!(report["extensions"], serde_json::json!([""]), "{report}");
}

#[tokio::test]
async fn nats_ws_in_chromium_with_compression() {
    let report = run_page("compression: true").await;
    assert_eq!(
        report["extensions"],
        serde_json::json!([
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        ]),
        "{report}"
    );
}
