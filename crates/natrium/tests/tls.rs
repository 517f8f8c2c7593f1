//! TLS on the client port: INFO advertises it and the client upgrades after INFO (or first,
//! with `handshake_first`), client certificates are verified and pinned, bad handshakes are
//! logged and closed while the server keeps serving, the `--tls*` flags, and HTTPS monitoring.
//!
//! Certificates are made in each test with rcgen. `handshake_first` is nats-server 2.10;
//! the other tests also pass against nats-server 2.9.10 (`NATRIUM_TEST_SERVER`).

mod common;

use common::certs::{CertFiles, Pki, Validity};
use common::{free_port, within, Ending, Greeting, RawClient, TestServer};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server whose config file is `tls { cert_file, key_file, ca_file, <extra> }`, with
/// `top` (other top-level keys) before it.
async fn start(pki: &Pki, server: &CertFiles, extra: &str, top: &str) -> TestServer {
    let greeting = if extra.contains("handshake_first: true") {
        Greeting::Silent
    } else {
        Greeting::Info
    };
    let config = write_config(pki, server, extra, top);
    TestServer::start_greeting(&["-c", config.to_str().expect("utf-8 path")], greeting).await
}

fn write_config(pki: &Pki, server: &CertFiles, extra: &str, top: &str) -> PathBuf {
    let text = format!(
        "{top}\ntls {{\n  cert_file: {:?}\n  key_file: {:?}\n  ca_file: {:?}\n  {extra}\n}}\n",
        server.cert, server.key, pki.ca_file
    );
    let path = pki.dir().join("server.conf");
    std::fs::write(&path, text).expect("write config");
    path
}

/// async-nats trusting `pki`'s CA, presenting `cert` if given.
fn client_options(pki: &Pki, cert: Option<&CertFiles>) -> async_nats::ConnectOptions {
    let options = async_nats::ConnectOptions::new()
        .add_root_certificates(pki.ca_file.clone())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(3));
    match cert {
        Some(cert) => options.add_client_certificate(cert.cert.clone(), cert.key.clone()),
        None => options,
    }
}

/// Whether a client with `options` connects; if it does, a message must make a round trip.
async fn connects(server: &TestServer, options: async_nats::ConnectOptions) -> bool {
    let Ok(client) = within("TLS connect", options.connect(server.url())).await else {
        return false;
    };
    let mut subscriber = client.subscribe("tls.echo").await.expect("subscribe");
    client
        .publish("tls.echo", "secret".into())
        .await
        .expect("publish");
    let message = within("message over TLS", subscriber.next())
        .await
        .expect("a message");
    assert_eq!(&message.payload[..], b"secret");
    true
}

/// Asserts that each client (by name) connects or not, as listed.
async fn check(server: &TestServer, clients: Vec<(&str, async_nats::ConnectOptions, bool)>) {
    for (name, options, expected) in clients {
        assert_eq!(connects(server, options).await, expected, "client {name}");
    }
}

#[tokio::test]
async fn info_advertises_tls_and_the_client_upgrades_after_it() {
    let pki = Pki::new("upgrade");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "", "").await;
    let mut raw = RawClient::connect(server.address()).await;
    let info: serde_json::Value = serde_json::from_str(&raw.read_info().await).expect("INFO JSON");
    assert_eq!(info["tls_required"], true);
    assert_eq!(info.get("tls_verify"), None);
    assert_eq!(info.get("tls_available"), None);
    let untrusted = Pki::new("untrusted");
    check(
        &server,
        vec![
            ("trusting the CA", client_options(&pki, None), true),
            (
                "trusting another CA",
                client_options(&untrusted, None),
                false,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn verify_requires_a_client_certificate_from_the_ca() {
    let pki = Pki::new("verify");
    let other = Pki::new("verify-other");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "verify: true", "").await;
    let mut raw = RawClient::connect(server.address()).await;
    let info: serde_json::Value = serde_json::from_str(&raw.read_info().await).expect("INFO JSON");
    assert_eq!(
        (&info["tls_required"], &info["tls_verify"]),
        (&true.into(), &true.into())
    );
    let good = pki.client("alice", "alice", Validity::Current);
    let expired = pki.client("old", "old", Validity::Expired);
    let foreign = other.client("mallory", "mallory", Validity::Current);
    check(
        &server,
        vec![
            (
                "with a certificate",
                client_options(&pki, Some(&good)),
                true,
            ),
            ("without a certificate", client_options(&pki, None), false),
            (
                "with an expired certificate",
                client_options(&pki, Some(&expired)),
                false,
            ),
            (
                "from another CA",
                client_options(&pki, Some(&foreign)),
                false,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn verify_and_map_names_the_user_from_the_certificate() {
    let pki = Pki::new("map");
    let server_cert = pki.server("server", Validity::Current);
    let top = r#"authorization { users: [
  {user: "alice@natrium.test", permissions: {publish: "tls.echo", subscribe: "tls.echo"}}
  {user: "CN=bob"}
] }"#;
    let server = start(&pki, &server_cert, "verify_and_map: true", top).await;
    let alice = pki.client("alice", "alice", Validity::Current);
    let bob = pki.client_dn_only("bob", "bob");
    let carol = pki.client("carol", "carol", Validity::Current);
    check(
        &server,
        vec![
            ("email SAN", client_options(&pki, Some(&alice)), true),
            ("subject DN", client_options(&pki, Some(&bob)), true),
            ("no such user", client_options(&pki, Some(&carol)), false),
            ("no certificate", client_options(&pki, None), false),
        ],
    )
    .await;
}

#[tokio::test]
async fn an_expired_server_certificate_is_refused_by_the_client() {
    let pki = Pki::new("expired");
    let server_cert = pki.server("server", Validity::Expired);
    let server = start(&pki, &server_cert, "", "").await;
    check(&server, vec![("any", client_options(&pki, None), false)]).await;
}

#[tokio::test]
async fn pinned_certs_admit_only_the_listed_keys() {
    let pki = Pki::new("pinned");
    let server_cert = pki.server("server", Validity::Current);
    let pinned = pki.client("pinned", "pinned", Validity::Current);
    let other = pki.client("other", "other", Validity::Current);
    // Upper case is accepted: nats-server lower-cases the entries.
    let extra = format!(
        "verify: true\n  pinned_certs: [\"{}\"]",
        pinned.spki_sha256.to_uppercase()
    );
    let server = start(&pki, &server_cert, &extra, "").await;
    check(
        &server,
        vec![
            ("pinned", client_options(&pki, Some(&pinned)), true),
            ("not pinned", client_options(&pki, Some(&other)), false),
        ],
    )
    .await;
}

#[tokio::test]
async fn handshake_first_sends_info_inside_tls() {
    let pki = Pki::new("first");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "handshake_first: true", "").await;
    // Nothing in plain text: the server waits for the client's handshake.
    let mut raw = RawClient::connect(server.address()).await;
    let (bytes, ending) = raw.read_rest().await;
    assert_eq!((bytes.as_slice(), ending), (&b""[..], Ending::Quiet));
    check(
        &server,
        vec![
            ("TLS first", client_options(&pki, None).tls_first(), true),
            ("waiting for INFO", client_options(&pki, None), false),
        ],
    )
    .await;
}

#[tokio::test]
async fn handshake_first_auto_serves_both_kinds_of_client() {
    let pki = Pki::new("auto");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "handshake_first: auto", "").await;
    check(
        &server,
        vec![
            ("TLS first", client_options(&pki, None).tls_first(), true),
            ("waiting for INFO", client_options(&pki, None), true),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_plain_text_client_is_closed_and_the_server_keeps_serving() {
    let pki = Pki::new("garbage");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "", "").await;
    for garbage in [
        &b"CONNECT {}\r\nPING\r\n"[..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2][..],
    ] {
        let mut raw = RawClient::connect(server.address()).await;
        raw.read_info().await;
        raw.send(garbage).await;
        // Whatever TLS alert the server sends, it hangs up.
        let (_, ending) = within("server hangs up", raw.read_rest()).await;
        assert_eq!(ending, Ending::Closed, "after {garbage:?}");
    }
    check(
        &server,
        vec![("legitimate", client_options(&pki, None), true)],
    )
    .await;
}

#[tokio::test]
async fn a_client_that_never_completes_the_handshake_times_out() {
    let pki = Pki::new("timeout");
    let server_cert = pki.server("server", Validity::Current);
    let server = start(&pki, &server_cert, "timeout: 0.5", "").await;
    let mut raw = RawClient::connect(server.address()).await;
    raw.read_info().await;
    let started = tokio::time::Instant::now();
    let closed = within("handshake timeout", async {
        loop {
            if raw.read_rest().await.1 == Ending::Closed {
                break;
            }
        }
    });
    closed.await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tls_flags_configure_tls_without_a_config_file() {
    let pki = Pki::new("flags");
    let server_cert = pki.server("server", Validity::Current);
    let client_cert = pki.client("bob", "bob", Validity::Current);
    let cert = server_cert.cert.to_str().expect("path");
    let key = server_cert.key.to_str().expect("path");
    let ca = pki.ca_file.to_str().expect("path");
    let server = TestServer::start_with(&["--tlscert", cert, "--tlskey", key]).await;
    check(
        &server,
        vec![("no cert needed", client_options(&pki, None), true)],
    )
    .await;
    let verifying = TestServer::start_with(&[
        "--tlsverify",
        "--tlscert",
        cert,
        "--tlskey",
        key,
        "--tlscacert",
        ca,
    ])
    .await;
    check(
        &verifying,
        vec![
            (
                "with a certificate",
                client_options(&pki, Some(&client_cert)),
                true,
            ),
            ("without", client_options(&pki, None), false),
        ],
    )
    .await;
}

#[test]
fn tls_flags_without_a_certificate_are_refused() {
    for (args, message) in [
        (
            &["--tls"][..],
            "TLS Server certificate must be present and valid",
        ),
        (
            &["--tlscert", "x.pem"][..],
            "TLS Server private key must be present and valid",
        ),
    ] {
        let output = std::process::Command::new(common::server_binary())
            .args(["-a", "127.0.0.1", "-p", &free_port().to_string()])
            .args(args)
            .output()
            .expect("run server");
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn https_monitoring_uses_the_tls_certificate() {
    let pki = Pki::new("https");
    let server_cert = pki.server("server", Validity::Current);
    let monitor_port = free_port();
    // Client certificates are not asked for on the monitoring port, even with verify.
    let top = format!("https_port: {monitor_port}");
    let _server = start(&pki, &server_cert, "verify: true", &top).await;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    let ca = std::fs::read(&pki.ca_file).expect("read CA");
    let ca = rustls_pki_types::pem::PemObject::from_pem_slice(&ca).expect("CA PEM");
    roots.add(ca).expect("add CA");
    let config = tokio_rustls::rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let response = within("GET /varz over HTTPS", async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", monitor_port))
            .await
            .expect("connect monitoring port");
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let mut tls = connector
            .connect(name, tcp)
            .await
            .expect("TLS to monitoring");
        tls.write_all(b"GET /varz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .expect("request");
        let mut response = Vec::new();
        let _ = tls.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response).to_string()
    })
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.contains(&format!("\"https_port\": {monitor_port}")),
        "{response}"
    );
}
