//! One consumer over a memory store, without the engine: purge and the rate limit.

use super::*;
use crate::consumer::advisory::IdGenerator;
use crate::consumer::config::ConsumerConfig;
use crate::consumer::storage::MemoryConsumerStorage;
use crate::consumer::{Consumer, Context, Start};
use crate::stream::config::RetentionPolicy;
use natrium_store::{MemoryStore, MessageStore, PurgeRequest, StoreConfig};

fn consumer(config: Value, store: &MemoryStore) -> Consumer {
    let mut config: ConsumerConfig = serde_json::from_value(config).unwrap();
    crate::consumer::check::set_defaults(&mut config, &Default::default());
    let start = Start {
        name: "C".into(),
        config,
        created: NOW,
        state: None,
        storage: Box::<MemoryConsumerStorage>::default(),
    };
    Consumer::new(start, "S", RetentionPolicy::Limits, store, Some(NOW))
}

fn tick(consumer: &mut Consumer, store: &MemoryStore, now: i64) -> Vec<Outbound> {
    let mut ids = IdGenerator::default();
    let mut out = Vec::new();
    let mut ctx = Context::new(now, None, &mut ids, &mut out);
    consumer.tick(store, &|_| true, &mut ctx);
    out
}

#[test]
fn a_purge_drops_pending_and_moves_the_floor() {
    let mut store = MemoryStore::new(StoreConfig::default()).unwrap();
    for i in 0..4 {
        store
            .store("s", b"", format!("m{i}").as_bytes(), NOW)
            .unwrap();
    }
    let mut c = consumer(
        json!({"deliver_subject": "d", "ack_policy": "explicit"}),
        &store,
    );
    assert_eq!(payloads(&tick(&mut c, &store, NOW)).len(), 4);
    store.purge(&PurgeRequest::default()).unwrap();
    c.purged(store.state().first_seq, &store);
    let info = c.info(&store);
    assert_eq!((info.num_ack_pending, info.ack_floor.stream_seq), (0, 4));
    assert_eq!(c.next_deadline(), None, "nothing left to redeliver");
}

#[test]
fn the_rate_limit_spaces_deliveries_and_says_when() {
    let mut store = MemoryStore::new(StoreConfig::default()).unwrap();
    for _ in 0..3 {
        store.store("s", b"", &[0; 100], NOW).unwrap();
    }
    // 8 000 bits per second is 1 000 bytes per second: a ~150-byte delivery costs ~150 ms.
    let mut c = consumer(
        json!({"deliver_subject": "d", "rate_limit_bps": 8000}),
        &store,
    );
    assert_eq!(payloads(&tick(&mut c, &store, NOW)).len(), 1);
    let due = c.next_deadline().expect("the next message's time");
    assert!(due > NOW && due < NOW + SECOND, "{due}");
    assert!(payloads(&tick(&mut c, &store, due - 1)).is_empty());
    assert_eq!(payloads(&tick(&mut c, &store, due)).len(), 1);
    let after = tick(&mut c, &store, due + SECOND);
    assert_eq!(payloads(&after).len(), 1);
    assert!(
        c.next_deadline().is_none_or(|next| next > due + SECOND),
        "never in the past"
    );
}
