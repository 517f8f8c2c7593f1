//! File stores through a restart: what the API created and stored comes back identical, and
//! damaged or half-removed stream directories never come back wrong.

use super::*;
use crate::api::types::AccountLimits;
use crate::stream::check::ServerLimits;
use crate::JetStreamApi;
use serde_json::Value;

const NOW: i64 = 1_764_165_000_000_000_000;

fn api(dir: &Path) -> JetStreamApi<FileStores> {
    let stores = FileStores::new(dir, SyncPolicy::Always, None);
    let mut api = JetStreamApi::new(
        stores,
        AccountLimits::default(),
        ServerLimits::default(),
        None,
    );
    api.recover().unwrap();
    api
}

fn request(api: &mut JetStreamApi<FileStores>, subject: &str, body: &str) -> Value {
    let response = api.request(subject, body.as_bytes(), NOW).unwrap();
    serde_json::from_slice(&response).unwrap()
}

/// Everything a restart must keep of a stream: its info (config, created, state) and messages.
fn snapshot(api: &mut JetStreamApi<FileStores>, name: &str) -> (Value, Vec<(u64, String)>) {
    let mut info = request(api, &format!("$JS.API.STREAM.INFO.{name}"), "");
    if let Some(object) = info.as_object_mut() {
        object.remove("type");
    }
    let stream = api.stream_mut(name).unwrap();
    let last = stream.store().state().last_seq;
    let messages = (1..=last)
        .filter_map(|seq| stream.store().load(seq).ok())
        .map(|m| (m.seq, format!("{} {:?}", m.subject, m.payload)))
        .collect();
    (info, messages)
}

fn publish(api: &mut JetStreamApi<FileStores>, subject: &str, payload: &[u8]) {
    let ack = api.publish(subject, b"", payload, NOW).expect("captured");
    assert!(!String::from_utf8_lossy(&ack).contains("error"), "{ack:?}");
    let mut tickets = Vec::new();
    api.sync(&mut tickets);
    tickets.into_iter().for_each(|t| t.wait().unwrap());
}

#[test]
fn streams_survive_a_restart_with_config_and_contents() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = api(dir.path());
    for body in [
        r#"{"name":"ORDERS","subjects":["orders.>"],"max_msgs_per_subject":2}"#,
        r#"{"name":"ZIPPED","subjects":["zip"],"compression":"s2","description":"d"}"#,
        r#"{"name":"MEM","subjects":["mem"],"storage":"memory"}"#,
    ] {
        let name = serde_json::from_str::<Value>(body).unwrap()["name"].clone();
        let name = name.as_str().unwrap().to_string();
        let created = request(&mut first, &format!("$JS.API.STREAM.CREATE.{name}"), body);
        assert_eq!(created["did_create"], true, "{created}");
    }
    for (subject, payload) in [("orders.a", "1"), ("orders.a", "2"), ("orders.a", "3")] {
        publish(&mut first, subject, payload.as_bytes());
    }
    publish(&mut first, "orders.b", b"4");
    publish(&mut first, "zip", b"compressible compressible compressible");
    publish(&mut first, "mem", b"gone after a restart");
    let orders = snapshot(&mut first, "ORDERS");
    let zipped = snapshot(&mut first, "ZIPPED");
    assert_eq!(orders.1.len(), 3, "the per-subject limit removed one");
    drop(first);

    let stream_dir = dir.path().join("streams").join("ORDERS");
    for file in ["meta.inf", "meta.sum", "msgs"] {
        assert!(stream_dir.join(file).exists(), "{file}");
    }
    assert!(!dir.path().join("streams").join("MEM").exists());
    let meta: Value = serde_json::from_slice(&fs::read(stream_dir.join("meta.inf")).unwrap())
        .expect("meta.inf is JSON");
    assert_eq!(meta["Created"], "2025-11-26T13:50:00Z");
    assert_eq!(meta["name"], "ORDERS");

    let mut second = api(dir.path());
    assert_eq!(snapshot(&mut second, "ORDERS"), orders);
    assert_eq!(snapshot(&mut second, "ZIPPED"), zipped);
    assert!(
        second.stream_mut("MEM").is_none(),
        "memory streams are not recovered"
    );
    assert_eq!(second.stream_count(), 2);
    // The recovered stream keeps taking messages where it left off.
    publish(&mut second, "orders.c", b"5");
    assert_eq!(
        second
            .stream_mut("ORDERS")
            .unwrap()
            .store()
            .state()
            .last_seq,
        5
    );
}

#[test]
fn deleted_streams_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = api(dir.path());
    request(
        &mut first,
        "$JS.API.STREAM.CREATE.GONE",
        r#"{"name":"GONE"}"#,
    );
    publish(&mut first, "GONE", b"x");
    let deleted = request(&mut first, "$JS.API.STREAM.DELETE.GONE", "");
    assert_eq!(deleted["success"], true);
    assert!(!dir.path().join("streams").join("GONE").exists());
    drop(first);
    assert_eq!(api(dir.path()).stream_count(), 0);
}

#[test]
fn damaged_configurations_are_skipped_and_reported_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = api(dir.path());
    for name in ["A", "B", "C"] {
        let body = format!(r#"{{"name":"{name}"}}"#);
        request(&mut first, &format!("$JS.API.STREAM.CREATE.{name}"), &body);
        publish(&mut first, name, b"x");
    }
    drop(first);
    let streams = dir.path().join("streams");
    // A: a flipped byte in meta.inf. B: half removed (meta.inf gone first, as remove does).
    let meta_a = streams.join("A").join("meta.inf");
    let mut bytes = fs::read(&meta_a).unwrap();
    bytes[2] ^= 1;
    fs::write(&meta_a, bytes).unwrap();
    fs::remove_file(streams.join("B").join("meta.inf")).unwrap();

    let mut second = api(dir.path());
    assert_eq!(second.stream_count(), 1);
    let skipped: Vec<String> = second
        .provider()
        .skipped()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.dir.file_name().unwrap().to_string_lossy(),
                s.reason
            )
        })
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped[0].starts_with("A: meta.inf does not match"),
        "{skipped:?}"
    );
    assert!(skipped[1].starts_with("B: reading meta.inf"), "{skipped:?}");
    // Creating a skipped stream again must not write over what its directory still holds.
    let refused = request(&mut second, "$JS.API.STREAM.CREATE.A", r#"{"name":"A"}"#);
    assert!(refused["error"].is_object(), "{refused}");
    assert!(streams.join("A").join("msgs").exists());
}

#[test]
fn a_crash_between_the_two_renames_rolls_the_checksum_forward() {
    let dir = tempfile::tempdir().unwrap();
    let config: StreamConfig = serde_json::from_str(r#"{"name":"S","subjects":["s"]}"#).unwrap();
    meta::write(dir.path(), &config, NOW).unwrap();
    let mut updated = config.clone();
    updated.description = "after".into();
    meta::write(dir.path(), &updated, NOW).unwrap();
    // Put back the old sum as if the second rename had not happened, with the new one pending.
    let sum = fs::read(dir.path().join("meta.sum")).unwrap();
    fs::write(dir.path().join("meta.sum.tmp"), &sum).unwrap();
    fs::write(dir.path().join("meta.sum"), b"00000000").unwrap();
    let (read, created) = meta::read(dir.path()).unwrap();
    assert_eq!((read, created), (updated, NOW));
    assert_eq!(fs::read(dir.path().join("meta.sum")).unwrap(), sum);
}

#[test]
fn account_directories_follow_nats_server_and_stay_inside_the_store() {
    let root = Path::new("/data");
    assert_eq!(
        FileStores::account_dir(root, "$G").unwrap(),
        Path::new("/data/jetstream/$G")
    );
    for bad in ["", "..", "a/b", "a\\b"] {
        assert!(FileStores::account_dir(root, bad).is_err(), "{bad}");
    }
}

#[test]
fn s2_compression_asks_the_file_store_for_lz4_blocks() {
    let stores = FileStores::new("/unused", SyncPolicy::Always, None);
    let mut config: StreamConfig = serde_json::from_str(r#"{"name":"S"}"#).unwrap();
    assert_eq!(
        stores.file_config(&config).compression,
        natrium_store::Compression::None
    );
    config.compression = Compression::S2;
    assert_eq!(
        stores.file_config(&config).compression,
        natrium_store::Compression::Lz4
    );
}

#[test]
fn transfers_stage_in_files_that_a_restart_clears() {
    let dir = tempfile::tempdir().unwrap();
    let staging_dir = dir.path().join(STAGING_DIR);
    let mut stores = FileStores::new(dir.path(), SyncPolicy::Always, None);
    let mut staging = stores.staging().unwrap();
    staging.append(b"archive bytes").unwrap();
    assert_eq!(fs::read_dir(&staging_dir).unwrap().count(), 1);
    // A crash leaves the file behind; the next start removes it.
    std::mem::forget(staging);
    stores.recover().unwrap();
    assert!(!staging_dir.exists());
    // With encryption at rest, archives (plain text) never reach the disk.
    let key = natrium_store::EncryptionKey::from_passphrase("secret");
    let mut encrypted = FileStores::new(dir.path(), SyncPolicy::Always, Some(key));
    encrypted.staging().unwrap().append(b"plain").unwrap();
    assert!(!staging_dir.exists());
}
