//! Encryption at rest with the key from the configuration file: nothing published is
//! readable in the store directory, and a restart with the same key reads it back.

use crate::common::{within, TestServer};
use async_nats::jetstream::stream;
use std::future::IntoFuture;
use std::path::Path;

/// A payload easy to look for in raw files.
const MARKER: &str = "PLAINTEXT-MARKER-7f3a";

fn files_contain(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            files_contain(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|bytes| bytes.windows(needle.len()).any(|window| window == needle))
                .unwrap_or(false)
        }
    })
}

#[tokio::test]
async fn stores_are_encrypted_with_the_configured_key_and_read_back_after_a_restart() {
    let store = tempfile::tempdir().unwrap();
    let config = store.path().join("server.conf");
    let dir = store.path().join("data");
    std::fs::write(
        &config,
        format!(
            "jetstream {{\n  store_dir: {:?}\n  key: \"correct horse battery staple\"\n}}\n",
            dir.display().to_string()
        ),
    )
    .unwrap();
    let mut server = TestServer::start_with(&["-c", config.to_str().unwrap()]).await;
    let context = async_nats::jetstream::new(server.connect().await);
    let created = context.create_stream(stream::Config {
        name: "SECRETS".to_string(),
        subjects: vec!["secrets.>".to_string()],
        ..Default::default()
    });
    within("create", created).await.unwrap();
    for _ in 0..3 {
        let ack = within("publish", context.publish("secrets.a", MARKER.into()))
            .await
            .unwrap();
        within("ack", ack.into_future()).await.unwrap();
    }
    // Acknowledged means written: the bytes are in the files now, encrypted.
    assert!(files_contain(&dir, b"secrets.a") || files_contain(&dir, b"SECRETS"));
    assert!(
        !files_contain(&dir, MARKER.as_bytes()),
        "a payload in plain text"
    );

    server.restart().await;
    let context = async_nats::jetstream::new(server.connect().await);
    let stream = within("get stream", context.get_stream("SECRETS"))
        .await
        .unwrap();
    let message = within("get", stream.get_raw_message(3)).await.unwrap();
    assert_eq!(message.payload.as_ref(), MARKER.as_bytes());
    assert_eq!(message.subject.as_str(), "secrets.a");
}
