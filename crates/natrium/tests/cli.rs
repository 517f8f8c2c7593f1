//! The binary's flags end to end: a pid file that lives as long as the server, a log file in
//! nats-server's line format with and without timestamps, and `-p -1` picking a free port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// Every wait in these tests gives up after this long.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("natrium-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start(args: &[&str]) -> Child {
    Command::new(common::server_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn natrium")
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + WAIT_LIMIT;
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "server ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn pid_and_log_files_follow_the_flags() {
    let dir = scratch("files");
    let pid_file = dir.join("natrium.pid");
    let log_file = dir.join("natrium.log");
    let child = start(&[
        "-a",
        "127.0.0.1",
        "-p",
        "-1",
        "-P",
        pid_file.to_str().unwrap(),
        "-l",
        log_file.to_str().unwrap(),
    ]);
    let pid = child.id();
    wait_until("pid file", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|text| text.trim() == pid.to_string())
    });
    wait_until("ready line", || {
        std::fs::read_to_string(&log_file).is_ok_and(|log| log.contains("Server is ready"))
    });
    let log = std::fs::read_to_string(&log_file).unwrap();
    // `[pid] 2006/01/02 15:04:05.000000 [INF] Listening for client connections on 127.0.0.1:<port>`
    let line = log
        .lines()
        .find(|line| line.contains("Listening for client connections on 127.0.0.1:"))
        .expect("listen line");
    let prefix = format!("[{pid}] ");
    assert!(line.starts_with(&prefix), "{line}");
    let stamp = &line[prefix.len()..prefix.len() + 26];
    assert!(
        stamp.as_bytes()[4] == b'/' && stamp.as_bytes()[10] == b' ' && stamp.as_bytes()[19] == b'.',
        "{stamp}"
    );
    assert!(line[prefix.len() + 27..].starts_with("[INF] "), "{line}");
    let port: u16 = line.rsplit(':').next().unwrap().parse().expect("a port");
    assert_ne!(port, 0);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "random port serves"
    );
    stop(child);
    assert!(!pid_file.exists(), "pid file removed on shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn logtime_false_drops_the_timestamp() {
    let mut child = start(&["-a", "127.0.0.1", "-p", "-1", "-T=false"]);
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("a log line").expect("utf-8");
    assert_eq!(first, format!("[{}] [INF] Starting natrium", child.id()));
    stop(child);
}
