//! The config file from the binary's side: `-t`, reload on SIGHUP (limits and log level
//! change under a connected client; a bad file changes nothing), `--signal`, and lame duck
//! mode (clients told, new connections refused, the server exits).

mod common;

use common::{settle, within, TestServer};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A scratch directory for one test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("natrium-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn send_signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a child process we started; no memory is shared.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0, "kill");
}

/// Waits until the file at `path` contains `needle` (bounded).
async fn wait_for_log(path: &Path, needle: &str) {
    let found = within("log line", async {
        loop {
            if std::fs::read_to_string(path).is_ok_and(|log| log.contains(needle)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(found);
}

#[test]
fn check_flag_exits_0_for_a_good_file_and_1_for_a_bad_one() {
    let scratch = Scratch::new("check");
    let good = scratch.write(
        "good.conf",
        "port: 4222\nmax_payload: 2MB\nmax_pending: 64MB\n",
    );
    let bad = scratch.write("bad.conf", "port: 4222\nmax_payloda: 1MB\n");
    let run = |file: &Path| {
        Command::new(common::server_binary())
            .args(["-t", "-c"])
            .arg(file)
            .output()
            .expect("run natrium -t")
    };
    let ok = run(&good);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("is valid"));
    let refused = run(&bad);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("bad.conf:2:1: unknown field \"max_payloda\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn sighup_reloads_limits_and_log_level_without_dropping_clients() {
    let scratch = Scratch::new("reload");
    let log = scratch.path("natrium.log");
    let config = |payload: usize, debug: bool| {
        format!(
            "max_payload: {payload}\ndebug: {debug}\nlogfile: \"{}\"\n",
            log.display()
        )
    };
    let file = scratch.write("server.conf", &config(1024, false));
    let server = TestServer::start_with(&["-c", file.to_str().unwrap()]).await;
    let client = server.connect().await;
    assert_eq!(client.server_info().max_payload, 1024);
    let mut subscription = within("subscribe", client.subscribe("big")).await.unwrap();
    settle(&client).await;

    scratch.write("server.conf", &config(4096, true));
    send_signal(server.pid(), libc::SIGHUP);
    wait_for_log(&log, "Reloaded server configuration").await;
    // The connected client keeps working; a new connection gets the new limit and can use
    // it (async-nats ignores INFO updates on a live connection, so it keeps the old check).
    within("publish", client.publish("big", "still here".into()))
        .await
        .unwrap();
    assert_eq!(
        within("receive", subscription.next())
            .await
            .unwrap()
            .payload,
        "still here"
    );
    let second = server.connect().await;
    assert_eq!(second.server_info().max_payload, 4096);
    within("publish", second.publish("big", vec![b'x'; 3000].into()))
        .await
        .unwrap();
    let message = within("receive", subscription.next()).await.unwrap();
    assert_eq!(message.payload.len(), 3000);
    // Debug logging is now on: the new connection was logged at [DBG].
    wait_for_log(&log, "[DBG]").await;

    // A file that does not parse changes nothing.
    scratch.write("server.conf", "max_payload: {{{\n");
    send_signal(server.pid(), libc::SIGHUP);
    wait_for_log(&log, "Failed to reload server configuration").await;
    let third = server.connect().await;
    assert_eq!(third.server_info().max_payload, 4096);
    within("publish", second.publish("big", vec![b'y'; 3000].into()))
        .await
        .unwrap();
    assert_eq!(
        within("receive", subscription.next())
            .await
            .unwrap()
            .payload
            .len(),
        3000
    );

    // Options that cannot change live are refused by name, and the old ones stay.
    scratch.write(
        "server.conf",
        &format!("{}server_name: renamed\n", config(4096, true)),
    );
    send_signal(server.pid(), libc::SIGHUP);
    wait_for_log(&log, "config reload not supported for ServerName").await;
}

#[tokio::test]
async fn signal_flag_finds_the_server_through_its_pid_file() {
    let scratch = Scratch::new("signal");
    let log = scratch.path("natrium.log");
    let pid_file = scratch.path("natrium.pid");
    let file = scratch.write(
        "server.conf",
        &format!(
            "pid_file: \"{}\"\nlogfile: \"{}\"\n",
            pid_file.display(),
            log.display()
        ),
    );
    let mut server = TestServer::start_with(&["-c", file.to_str().unwrap()]).await;
    let reload = Command::new(common::server_binary())
        .args(["--signal", "reload", "-c"])
        .arg(&file)
        .output()
        .expect("natrium --signal");
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    wait_for_log(&log, "Reloaded server configuration").await;

    let quit = Command::new(common::server_binary())
        .arg(format!("--signal=quit={}", pid_file.display()))
        .output()
        .expect("natrium --signal quit");
    assert!(
        quit.status.success(),
        "{}",
        String::from_utf8_lossy(&quit.stderr)
    );
    assert!(
        server.wait_for_exit(Duration::from_secs(10)).await,
        "server did not exit"
    );
    assert!(!pid_file.exists(), "pid file removed at exit");
}

#[tokio::test]
async fn lame_duck_mode_warns_clients_refuses_new_ones_and_exits() {
    let scratch = Scratch::new("ldm");
    let file = scratch.write(
        "server.conf",
        "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n",
    );
    let mut server = TestServer::start_with(&["-c", file.to_str().unwrap()]).await;
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let options = async_nats::ConnectOptions::new().event_callback(move |event| {
        let events_tx = events_tx.clone();
        async move {
            let _ = events_tx.send(event.to_string());
        }
    });
    let client = server.connect_with(options).await;
    settle(&client).await;

    send_signal(server.pid(), libc::SIGUSR2);
    let lame_duck = within("lame duck event", async {
        while let Some(event) = events.recv().await {
            if event.contains("lame duck") {
                return true;
            }
        }
        false
    })
    .await;
    assert!(lame_duck, "client saw the lame duck INFO");
    assert!(
        tokio::net::TcpStream::connect(server.address())
            .await
            .is_err(),
        "new connections are refused"
    );
    // Grace period (1 s), then one client closed, then exit.
    assert!(
        server.wait_for_exit(Duration::from_secs(10)).await,
        "server exited"
    );
}

#[tokio::test]
async fn log_file_rotates_at_its_size_limit_and_reopens_on_sigusr1() {
    let scratch = Scratch::new("logs");
    let log = scratch.path("natrium.log");
    let file = scratch.write(
        "server.conf",
        &format!(
            "logfile: \"{}\"\nlogfile_size_limit: 2KB\ndebug: true\n",
            log.display()
        ),
    );
    let server = TestServer::start_with(&["-c", file.to_str().unwrap()]).await;
    // Each connection logs a few debug lines; enough of them pass 2 KB.
    for _ in 0..20 {
        let client = server.connect().await;
        settle(&client).await;
    }
    let rotated = within("rotation", async {
        loop {
            let backups = std::fs::read_dir(&scratch.0)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("natrium.log."))
                .count();
            if backups > 0 {
                return backups;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(rotated >= 1);
    assert!(std::fs::metadata(&log).unwrap().len() <= 2048);

    // An outside tool moves the log away; SIGUSR1 makes the server write a new one.
    let moved = scratch.path("moved.log");
    std::fs::rename(&log, &moved).unwrap();
    send_signal(server.pid(), libc::SIGUSR1);
    within("reopen", async {
        loop {
            let _client = server.connect().await;
            if log.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}
