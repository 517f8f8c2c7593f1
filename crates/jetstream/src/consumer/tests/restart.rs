//! At-least-once across restarts: a durable's delivered sequence, ack floor and pending
//! deliveries come back from its files, unacked messages are redelivered, acked ones never.

use super::*;
use crate::api::{RecoveredStream, StoreProvider};
use crate::consumer::config::ConsumerConfig;
use crate::consumer::storage::{ConsumerStorage, FileConsumerStorage, RecoveredConsumer};
use crate::stream::config::StreamConfig;
use crate::stream::{store_config, BoxedStore};
use natrium_store::{FileStore, FileStoreConfig, StoreError};
use serde_json::json;
use std::fs;
use std::path::PathBuf;

/// Streams as file stores under `root/<stream>/msgs`, configurations in `stream.json`,
/// durables under `root/<stream>/obs` (the layout a file provider would use).
struct FileProvider {
    root: PathBuf,
}

impl FileProvider {
    fn open_store(&self, config: &StreamConfig) -> Result<BoxedStore, StoreError> {
        let store_config = FileStoreConfig {
            limits: store_config(config),
            ..FileStoreConfig::default()
        };
        Ok(Box::new(FileStore::open(
            self.root.join(&config.name).join("msgs"),
            store_config,
        )?))
    }
}

impl StoreProvider for FileProvider {
    fn open(&mut self, config: &StreamConfig, created: i64) -> Result<BoxedStore, StoreError> {
        self.save_config(config, created)?;
        self.open_store(config)
    }

    fn save_config(&mut self, config: &StreamConfig, created: i64) -> Result<(), StoreError> {
        let dir = self.root.join(&config.name);
        fs::create_dir_all(&dir).unwrap();
        let body = serde_json::to_vec(&json!({"config": config, "created": created})).unwrap();
        fs::write(dir.join("stream.json"), body).unwrap();
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<(), StoreError> {
        let _ = fs::remove_dir_all(self.root.join(name));
        Ok(())
    }

    fn recover(&mut self) -> Result<Vec<RecoveredStream>, StoreError> {
        let mut streams = Vec::new();
        for entry in fs::read_dir(&self.root).unwrap().flatten() {
            let saved: Value =
                serde_json::from_slice(&fs::read(entry.path().join("stream.json")).unwrap())
                    .unwrap();
            let config: StreamConfig = serde_json::from_value(saved["config"].clone()).unwrap();
            let store = self.open_store(&config)?;
            let created = saved["created"].as_i64().unwrap();
            streams.push(RecoveredStream {
                config,
                created,
                store,
            });
        }
        Ok(streams)
    }

    fn open_consumer(
        &mut self,
        stream: &StreamConfig,
        name: &str,
        _config: &ConsumerConfig,
        _created: i64,
    ) -> Result<Box<dyn ConsumerStorage>, StoreError> {
        Ok(Box::new(FileConsumerStorage::open(
            &self.root.join(&stream.name),
            name,
        )?))
    }

    fn recover_consumers(
        &mut self,
        stream: &StreamConfig,
    ) -> Result<Vec<RecoveredConsumer>, StoreError> {
        FileConsumerStorage::recover_all(&self.root.join(&stream.name))
    }
}

fn start(root: &std::path::Path, now: i64) -> Harness<FileProvider> {
    let root = root.to_path_buf();
    let factory = move |_: &str| Ok(FileProvider { root: root.clone() });
    let mut engine = JetStream::new(EngineConfig::default(), Box::new(factory));
    engine.enable_account("$G").unwrap();
    Harness {
        engine,
        now,
        listening: BTreeSet::new(),
    }
}

#[test]
fn a_restart_resumes_durables_and_redelivers_only_unacked() {
    let root = std::env::temp_dir().join(format!("natrium-restart-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    let mut h = start(&root, NOW);
    h.stream(json!({"name": "ORDERS", "subjects": ["orders.>"]}));
    for i in 1..=10 {
        h.publish(&format!("orders.{i}"), &format!("m{i}"));
    }
    h.create(
        "ORDERS",
        "D",
        json!({"durable_name": "D", "ack_policy": "explicit"}),
    );
    h.api(
        "$JS.API.CONSUMER.CREATE.ORDERS",
        json!({"stream_name": "ORDERS", "config": {"ack_policy": "explicit"}}),
    );
    let out = h.pull("ORDERS", "D", "_INBOX.r", json!({"batch": 5}));
    let got: Vec<Outbound> = deliveries(&out).into_iter().cloned().collect();
    assert_eq!(got.len(), 5);
    for delivery in &got[..3] {
        let confirm = h.ack(delivery, "+ACK", Some("_INBOX.ok"));
        assert_eq!(
            confirm.len(),
            1,
            "confirmed only after the state is durable"
        );
    }
    drop(h);

    let mut h = start(&root, NOW + 60 * SECOND);
    let info = h.info("ORDERS", "D");
    assert_eq!(
        info["delivered"],
        json!({"consumer_seq": 5, "stream_seq": 5})
    );
    assert_eq!(
        info["ack_floor"],
        json!({"consumer_seq": 3, "stream_seq": 3})
    );
    assert_eq!(info["num_ack_pending"], 2);
    assert_eq!(info["num_pending"], 5);
    let (names, _) = h.api("$JS.API.CONSUMER.NAMES.ORDERS", Value::Null);
    assert_eq!(
        names["consumers"],
        json!(["D"]),
        "ephemerals do not survive"
    );

    // New messages go at once; the pending ones once their check (soon after recovery)
    // finds their ack wait long past.
    let out = h.pull(
        "ORDERS",
        "D",
        "_INBOX.again",
        json!({"batch": 10, "expires": 30 * SECOND}),
    );
    assert_eq!(payloads(&out), vec!["m6", "m7", "m8", "m9", "m10"]);
    let out = h.advance(SECOND);
    assert_eq!(payloads(&out), vec!["m4", "m5"]);
    let redelivered = deliveries(&out)[0].reply.clone().unwrap();
    assert!(
        redelivered.starts_with("$JS.ACK.ORDERS.D.2.4.11."),
        "{redelivered}"
    );
    let _ = fs::remove_dir_all(&root);
}
