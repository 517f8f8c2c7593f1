//! HTTP monitoring against the real binary: exact counters after known traffic, `/connz`
//! sorting, paging and close reasons, `/subsz?test=`, nats-server's field names on every
//! endpoint, and `/metrics` in the Prometheus text format.
//!
//! With `NATRIUM_TEST_SERVER=/usr/sbin/nats-server` the same tests (except `/metrics`,
//! which nats-server lacks) check nats-server 2.9.10 itself, which is how the expectations
//! here were confirmed. The field lists (`fields.rs`, and inline for the small endpoints)
//! are written from nats-server's `server/monitor.go` types.

#[path = "../common/mod.rs"]
mod common;
mod fields;
mod jetstream;

use common::{free_port, within, TestServer, STEP_TIMEOUT};
use fields::*;
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How often a poll for a counter re-reads an endpoint.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A server with HTTP monitoring on a free port.
struct Monitored {
    server: TestServer,
    http_port: u16,
}

impl Monitored {
    async fn start() -> Monitored {
        Monitored::start_with(&[]).await
    }

    /// Starts with `extra_args` after the monitoring port.
    async fn start_with(extra_args: &[&str]) -> Monitored {
        let http_port = free_port();
        let port_text = http_port.to_string();
        let mut args = vec!["-m", port_text.as_str()];
        args.extend_from_slice(extra_args);
        let server = TestServer::start_with(&args).await;
        within("monitor port accepts", async {
            while TcpStream::connect(("127.0.0.1", http_port)).await.is_err() {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        })
        .await;
        Monitored { server, http_port }
    }

    async fn get(&self, path: &str) -> HttpReply {
        within(path, http_get(self.http_port, path)).await
    }

    /// GETs `path`, which must answer 200 with JSON.
    async fn json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.content_type, "application/json", "{path}");
        serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", reply.body))
    }

    /// Re-reads `path` until `ready` holds for its JSON.
    async fn json_when(&self, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let value = self.json(path).await;
            if ready(&value) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} never got ready: {value:#}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

fn testing_nats_server() -> bool {
    std::env::var_os("NATRIUM_TEST_SERVER").is_some()
}

struct HttpReply {
    status: u16,
    content_type: String,
    body: String,
}

/// A one-shot HTTP/1.1 GET (chunked bodies decoded: nats-server streams large answers).
async fn http_get(port: u16, path: &str) -> HttpReply {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let header = |name: &str| {
        head.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_string())
    };
    let body = if header("transfer-encoding").as_deref() == Some("chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    HttpReply {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            return body;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

/// A raw client past INFO and CONNECT (named `name`) that has sent `ops` and seen them
/// processed (its PING answered).
async fn raw_client(server: &TestServer, name: &str, ops: &str) -> common::RawClient {
    let mut client = server.raw().await;
    let connect = format!("CONNECT {{\"verbose\":false,\"name\":\"{name}\"}}\r\n{ops}PING\r\n");
    client.send(connect.as_bytes()).await;
    client.expect(b"PONG\r\n").await;
    client
}

fn find_connection<'a>(connz: &'a Value, name: &str) -> &'a Value {
    connz["connections"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no connection named {name}: {connz:#}"))
}

fn cids(connz: &Value) -> Vec<u64> {
    connz["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| c["cid"].as_u64().expect("cid"))
        .collect()
}

#[tokio::test]
async fn varz_and_connz_count_known_traffic_exactly() {
    let monitored = Monitored::start().await;
    // The harness's readiness probe is a connection too; wait until it is counted.
    let before = monitored
        .json_when("/varz", |v| v["total_connections"] == 1)
        .await;
    let baseline = before["subscriptions"].as_u64().expect("subs");
    let connections_before = before["total_connections"].as_u64().expect("total");

    let subscriber = monitored
        .server
        .connect_with(async_nats::ConnectOptions::new().name("subscriber"))
        .await;
    let mut traffic = subscriber.subscribe("traffic").await.expect("subscribe");
    let _other = subscriber
        .queue_subscribe("other", "workers".into())
        .await
        .expect("queue subscribe");
    subscriber.flush().await.expect("flush");
    monitored
        .json_when("/varz", |v| v["subscriptions"] == baseline + 2)
        .await;

    let publisher = monitored
        .server
        .connect_with(async_nats::ConnectOptions::new().name("publisher"))
        .await;
    for _ in 0..10 {
        publisher
            .publish("traffic", "hello".into())
            .await
            .expect("publish");
    }
    for _ in 0..3 {
        publisher
            .publish("nobody", "7 bytes".into())
            .await
            .expect("publish");
    }
    publisher.flush().await.expect("flush");
    for _ in 0..10 {
        within("delivery", traffic.next()).await.expect("message");
    }

    let varz = monitored
        .json_when("/varz", |v| v["in_msgs"] == 13 && v["out_msgs"] == 10)
        .await;
    assert_eq!(varz["in_bytes"], 10 * 5 + 3 * 7);
    assert_eq!(varz["out_bytes"], 10 * 5);
    assert_eq!(varz["connections"], 2);
    assert_eq!(varz["total_connections"], connections_before + 2);
    assert_eq!(varz["subscriptions"], baseline + 2);
    assert_eq!(varz["slow_consumers"], 0);

    let connz = monitored.json("/connz?subs=detail").await;
    assert_eq!(
        (&connz["total"], &connz["num_connections"]),
        (&2.into(), &2.into())
    );
    let publisher_info = find_connection(&connz, "publisher");
    for (field, want) in [
        ("in_msgs", 13),
        ("in_bytes", 71),
        ("out_msgs", 0),
        ("subscriptions", 0),
    ] {
        assert_eq!(publisher_info[field], want, "publisher {field}");
    }
    let subscriber_info = find_connection(&connz, "subscriber");
    for (field, want) in [
        ("in_msgs", 0),
        ("out_msgs", 10),
        ("out_bytes", 50),
        ("subscriptions", 2),
    ] {
        assert_eq!(subscriber_info[field], want, "subscriber {field}");
    }
    assert_eq!(subscriber_info["lang"], "rust");
    assert_ne!(
        subscriber_info["rtt"], "0s",
        "estimated at CONNECT, then measured"
    );
    let details = subscriber_info["subscriptions_list_detail"]
        .as_array()
        .expect("detail");
    let traffic_detail = details
        .iter()
        .find(|d| d["subject"] == "traffic")
        .expect("traffic sub");
    assert_eq!(traffic_detail["msgs"], 10);
    let other_detail = details
        .iter()
        .find(|d| d["subject"] == "other")
        .expect("other sub");
    assert_eq!(other_detail["qgroup"], "workers");

    let connz = monitored.json("/connz?subs=1").await;
    let subjects: BTreeSet<&str> = find_connection(&connz, "subscriber")["subscriptions_list"]
        .as_array()
        .expect("subscriptions_list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(subjects, BTreeSet::from(["other", "traffic"]));
}

#[tokio::test]
async fn connz_sorts_and_pages() {
    let monitored = Monitored::start().await;
    // Client i publishes i messages of i bytes, so "from" orders are the reverse of cids.
    let mut clients = Vec::new();
    for i in 1..=4usize {
        let payload = "x".repeat(i);
        let ops: String = (0..i)
            .map(|_| format!("PUB load {i}\r\n{payload}\r\n"))
            .collect();
        clients.push(raw_client(&monitored.server, &format!("client{i}"), &ops).await);
    }
    // The harness's readiness probe may still be closing on a busy machine: wait for it.
    let by_cid = cids(
        &monitored
            .json_when("/connz?sort=cid", |connz| connz["num_connections"] == 4)
            .await,
    );
    assert_eq!(by_cid.len(), 4);
    let reversed: Vec<u64> = by_cid.iter().rev().copied().collect();
    for sort in ["msgs_from", "bytes_from"] {
        let connz = monitored.json(&format!("/connz?sort={sort}")).await;
        assert_eq!(cids(&connz), reversed, "sort={sort}");
    }
    let page = monitored.json("/connz?limit=2").await;
    assert_eq!(
        (cids(&page), &page["total"], &page["limit"]),
        (by_cid[..2].to_vec(), &4.into(), &2.into())
    );
    let page = monitored.json("/connz?offset=2&limit=2").await;
    assert_eq!(
        (cids(&page), &page["offset"]),
        (by_cid[2..].to_vec(), &2.into())
    );
    let page = monitored
        .json("/connz?sort=msgs_from&offset=1&limit=2")
        .await;
    assert_eq!(cids(&page), reversed[1..3].to_vec());
    let one = monitored.json(&format!("/connz?cid={}", by_cid[1])).await;
    assert_eq!(cids(&one), vec![by_cid[1]]);
    drop(clients);
}

#[tokio::test]
async fn closed_connections_keep_their_reason() {
    let monitored = Monitored::start().await;
    let stays = raw_client(&monitored.server, "stays", "").await;
    let leaver = raw_client(&monitored.server, "leaver", "SUB gone 1\r\n").await;
    // Nothing unread is left, so dropping the socket is a clean close (EOF), not a reset.
    drop(leaver);
    let mut violator = raw_client(&monitored.server, "violator", "").await;
    violator.send(b"BOGUS\r\n").await;
    violator
        .expect(b"-ERR 'Unknown Protocol Operation'\r\n")
        .await;
    violator.expect_closed().await;

    // The harness's readiness probe is in the closed list too.
    let has = |connz: &Value, name: &str| {
        connz["connections"]
            .as_array()
            .is_some_and(|list| list.iter().any(|c| c["name"] == name))
    };
    let closed = monitored
        .json_when("/connz?state=closed&subs=detail", |v| {
            has(v, "leaver") && has(v, "violator")
        })
        .await;
    let leaver = find_connection(&closed, "leaver");
    assert_eq!(leaver["reason"], "Client Closed");
    assert!(
        leaver["stop"].is_string(),
        "closed connections have a stop time"
    );
    assert_eq!(leaver["subscriptions_list_detail"][0]["subject"], "gone");
    assert_eq!(
        find_connection(&closed, "violator")["reason"],
        "Protocol Violation"
    );

    let by_reason = monitored.json("/connz?state=closed&sort=reason").await;
    let reasons: Vec<&str> = by_reason["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["reason"].as_str())
        .collect();
    assert!(
        reasons.windows(2).all(|pair| pair[0] <= pair[1]),
        "{reasons:?}"
    );
    let any = monitored.json("/connz?state=any").await;
    assert_eq!(any["total"], closed["total"].as_u64().expect("total") + 1);
    let open = monitored.json("/connz").await;
    assert_eq!(cids(&open).len(), 1);
    assert!(monitored.json("/connz?state=closed&sort=stop").await["connections"].is_array());
    drop(stays);
}

#[tokio::test]
async fn subsz_test_subject_counts_matches() {
    let monitored = Monitored::start().await;
    let baseline = monitored.json("/subsz").await["num_subscriptions"]
        .as_u64()
        .expect("count");
    let subs =
        "SUB foo.bar 1\r\nSUB foo.* 2\r\nSUB foo.> 3\r\nSUB *.bar 4\r\nSUB baz 5\r\nSUB foo 6\r\n";
    let _client = raw_client(&monitored.server, "subscriber", subs).await;

    let stats = monitored.json("/subsz").await;
    check_fields("/subsz", &stats, SUBLIST_STATS, &["server_id", "now"]);
    assert_eq!(stats["num_subscriptions"], baseline + 6);

    let subsz = monitored.json("/subsz?subs=1&test=foo.bar").await;
    let subjects: BTreeSet<&str> = subsz["subscriptions_list"]
        .as_array()
        .expect("subscriptions_list")
        .iter()
        .filter_map(|s| s["subject"].as_str())
        .collect();
    assert_eq!(
        subjects,
        BTreeSet::from(["*.bar", "foo.*", "foo.>", "foo.bar"])
    );
    assert_eq!(subsz["total"], 4);
    let page = monitored.json("/subsz?subs=1&test=foo.bar&limit=2").await;
    assert_eq!(page["subscriptions_list"].as_array().map(Vec::len), Some(2));
    // An empty page gets the statistics alone, as in nats-server 2.9.
    let none = monitored.json("/subsz?subs=1&test=nothing.here").await;
    check_fields("empty /subsz page", &none, SUBLIST_STATS, &[]);

    let bad = monitored.get("/subsz?subs=1&test=foo.*").await;
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (
            400,
            "invalid test subject, must be valid publish subject: foo.*"
        )
    );
}

#[tokio::test]
async fn every_endpoint_has_nats_server_fields() {
    let monitored = Monitored::start().await;
    let _client = raw_client(&monitored.server, "fields", "SUB a 1\r\nSUB b q 2\r\n").await;

    let varz = monitored.json("/varz").await;
    check_fields("/varz", &varz, VARZ_ALWAYS, VARZ_OPTIONAL);
    assert_eq!(varz["http_port"], monitored.http_port);
    assert_eq!(varz["ping_interval"], 120_000_000_000u64, "nanoseconds");
    assert_eq!(varz["write_deadline"], 10_000_000_000u64, "nanoseconds");
    assert_eq!(varz["auth_timeout"], 2.0, "seconds");
    assert_eq!(varz["max_pending"], 64 * 1024 * 1024);
    assert_eq!(varz["http_req_stats"]["/varz"], 1);
    // Go writes whole floats without a fraction, and indents with two spaces.
    let raw = monitored.get("/varz").await.body;
    assert!(raw.contains("\n  \"auth_timeout\": 2,\n"), "{raw}");

    for path in [
        "/connz",
        "/connz?subs=1",
        "/connz?subs=detail&auth=1",
        "/connz?state=any",
    ] {
        let connz = monitored.json(path).await;
        check_fields(path, &connz, LIST_ALWAYS, &[]);
        for connection in connz["connections"].as_array().expect("connections") {
            check_fields(path, connection, CONN_ALWAYS, CONN_OPTIONAL);
            for sub in connection["subscriptions_list_detail"]
                .as_array()
                .into_iter()
                .flatten()
            {
                check_fields(path, sub, SUB_ALWAYS, SUB_OPTIONAL);
            }
        }
    }

    let subsz = monitored.json("/subsz?subs=1").await;
    let subsz_always: Vec<(&str, Kind)> = [
        ("server_id", Str),
        ("now", Str),
        ("total", Num),
        ("offset", Num),
        ("limit", Num),
    ]
    .into_iter()
    .chain(SUBLIST_STATS.iter().copied())
    .collect();
    check_fields(
        "/subsz?subs=1",
        &subsz,
        &subsz_always,
        &["subscriptions_list"],
    );
    for sub in subsz["subscriptions_list"].as_array().expect("list") {
        check_fields("/subsz?subs=1", sub, SUB_ALWAYS, SUB_OPTIONAL);
    }

    let routez = monitored.json("/routez").await;
    check_fields(
        "/routez",
        &routez,
        &[
            ("server_id", Str),
            ("now", Str),
            ("num_routes", Num),
            ("routes", Arr),
        ],
        &["import", "export"],
    );
    let gatewayz = monitored.json("/gatewayz").await;
    check_fields(
        "/gatewayz",
        &gatewayz,
        &[
            ("server_id", Str),
            ("now", Str),
            ("outbound_gateways", Obj),
            ("inbound_gateways", Obj),
        ],
        &["name", "host", "port"],
    );
    let leafz = monitored.json("/leafz").await;
    check_fields(
        "/leafz",
        &leafz,
        &[
            ("server_id", Str),
            ("now", Str),
            ("leafnodes", Num),
            ("leafs", ArrOrNull),
        ],
        &[],
    );
    let accountz = monitored.json("/accountz").await;
    check_fields(
        "/accountz",
        &accountz,
        &[("server_id", Str), ("now", Str), ("accounts", Arr)],
        &["system_account"],
    );
    assert!(accountz["accounts"]
        .as_array()
        .expect("accounts")
        .contains(&"$G".into()));
    let detail = monitored.json("/accountz?acc=$G").await;
    check_fields(
        "/accountz?acc=$G",
        &detail,
        &[("server_id", Str), ("now", Str), ("account_detail", Obj)],
        &["system_account"],
    );
    check_fields(
        "account_detail",
        &detail["account_detail"],
        &[
            ("account_name", Str),
            ("expired", Bool),
            ("complete", Bool),
            ("jetstream_enabled", Bool),
            ("leafnode_connections", Num),
            ("client_connections", Num),
            ("subscriptions", Num),
        ],
        &[
            "update_time",
            "is_system",
            "mappings",
            "exports",
            "imports",
            "jwt",
            "issuer_key",
            "name_tag",
            "tags",
            "decoded_jwt",
            "validation_result_jwt",
            "revoked_user",
            "sublist_stats",
            "responses",
        ],
    );
    assert_eq!(detail["account_detail"]["client_connections"], 1);
    let accstatz = monitored.json("/accstatz").await;
    check_fields(
        "/accstatz",
        &accstatz,
        &[("server_id", Str), ("now", Str), ("account_statz", Arr)],
        &[],
    );
    for stat in accstatz["account_statz"].as_array().expect("account_statz") {
        check_fields(
            "account_statz",
            stat,
            &[
                ("acc", Str),
                ("conns", Num),
                ("leafnodes", Num),
                ("total_conns", Num),
                ("sent", Obj),
                ("received", Obj),
                ("slow_consumers", Num),
            ],
            &[],
        );
        check_fields("sent", &stat["sent"], &[("msgs", Num), ("bytes", Num)], &[]);
    }
    let jsz = monitored.json("/jsz").await;
    check_fields(
        "/jsz",
        &jsz,
        &[
            ("server_id", Str),
            ("now", Str),
            ("config", Obj),
            ("memory", Num),
            ("storage", Num),
            ("reserved_memory", Num),
            ("reserved_storage", Num),
            ("accounts", Num),
            ("ha_assets", Num),
            ("api", Obj),
            ("streams", Num),
            ("consumers", Num),
            ("messages", Num),
            ("bytes", Num),
        ],
        &["disabled", "meta_cluster", "account_details"],
    );
    assert_eq!(jsz["disabled"], true, "JetStream is off");
    for path in [
        "/healthz",
        "/healthz?js-enabled-only=true",
        "/healthz?js-server-only=1",
    ] {
        let health = monitored.get(path).await;
        assert_eq!(
            (health.status, health.body.as_str()),
            (200, "{\"status\":\"ok\"}"),
            "{path}"
        );
    }

    let root = monitored.get("/").await;
    assert_eq!(root.status, 200);
    assert!(root.content_type.starts_with("text/html"));
    for endpoint in [
        "varz", "connz", "subsz", "routez", "gatewayz", "leafz", "accountz", "accstatz", "jsz",
        "healthz",
    ] {
        assert!(
            root.body.contains(&format!("./{endpoint}")),
            "/ links {endpoint}"
        );
    }
    assert_eq!(monitored.get("/nothing").await.status, 404);
    assert_eq!(monitored.get("/varz/").await.status, 404);
}

#[tokio::test]
async fn bad_parameters_get_nats_server_errors() {
    let monitored = Monitored::start().await;
    for (path, want) in [
        ("/connz?sort=bogus", "invalid sorting option: bogus"),
        ("/connz?sort=stop", "sort by stop only valid on closed connections"),
        ("/connz?sort=reason&state=open", "sort by reason only valid on closed connections"),
        ("/connz?limit=x", "Error decoding int for 'limit': strconv.Atoi: parsing \"x\": invalid syntax"),
        ("/connz?state=half", "Error decoding state for half"),
        ("/connz?auth=maybe", "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"maybe\": invalid syntax"),
        ("/healthz?js-enabled-only=x", "Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing \"x\": invalid syntax"),
        ("/accountz?acc=NOPE", "Account NOPE does not exist"),
    ] {
        let reply = monitored.get(path).await;
        assert_eq!((reply.status, reply.body.as_str()), (400, want), "{path}");
    }
    let jsonp = monitored.get("/healthz?callback=show").await;
    assert_eq!(jsonp.content_type, "application/javascript");
    assert_eq!(jsonp.body, "show({\"status\":\"ok\"})");
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_agree_with_varz() {
    if testing_nats_server() {
        return; // nats-server has no /metrics.
    }
    let monitored = Monitored::start().await;
    let _receiver = raw_client(&monitored.server, "receiver", "SUB m 1\r\n").await;
    let _sender = raw_client(
        &monitored.server,
        "sender",
        "PUB m 3\r\nabc\r\nPUB m 2\r\nde\r\n",
    )
    .await;
    let varz = monitored
        .json_when("/varz", |v| v["out_msgs"] == 2 && v["in_msgs"] == 2)
        .await;

    let reply = monitored.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let lines = reply.body.lines().map(|line| Ok(line.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    let sample = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .unwrap_or_else(|| panic!("no sample {name}"))
    };
    let counter = |name: &str| match sample(name).value {
        prometheus_parse::Value::Counter(value) => value,
        ref other => panic!("{name} is not a counter: {other:?}"),
    };
    let gauge = |name: &str| match sample(name).value {
        prometheus_parse::Value::Gauge(value) => value,
        ref other => panic!("{name} is not a gauge: {other:?}"),
    };
    let as_f64 = |field: &str| varz[field].as_f64().expect(field);
    assert_eq!(
        counter("natrium_server_in_messages_total"),
        as_f64("in_msgs")
    );
    assert_eq!(counter("natrium_server_in_bytes_total"), 5.0);
    assert_eq!(
        counter("natrium_server_out_messages_total"),
        as_f64("out_msgs")
    );
    assert_eq!(
        counter("natrium_server_out_bytes_total"),
        as_f64("out_bytes")
    );
    assert_eq!(
        counter("natrium_server_connections_total"),
        as_f64("total_connections")
    );
    assert_eq!(counter("natrium_server_slow_consumers_total"), 0.0);
    assert_eq!(gauge("natrium_server_connections"), 2.0);
    // The system account's internal subscriptions count too, as in nats-server's /varz.
    assert_eq!(
        gauge("natrium_server_subscriptions"),
        as_f64("subscriptions")
    );
    assert!(gauge("process_resident_memory_bytes") > 0.0);
    assert!(counter("process_cpu_seconds_total") >= 0.0);
    assert_eq!(gauge("natrium_server_info"), 1.0);
    assert_eq!(
        sample("natrium_server_info").labels.get("server_id"),
        varz["server_id"].as_str()
    );
    let account = sample("natrium_account_in_messages_total");
    assert_eq!(account.labels.get("account"), Some("$G"));
    assert_eq!(counter("natrium_account_out_bytes_total"), 5.0);
    assert_eq!(gauge("natrium_account_connections"), 2.0);
    assert_eq!(gauge("natrium_jetstream_enabled"), 0.0);
    for sample in &scrape.samples {
        assert!(sample.metric.starts_with("natrium_") || sample.metric.starts_with("process_"));
    }
}
