//! Replication readiness: the same `Command` log applied to two stores (one memory, one file,
//! the file one recovered midway) yields the same outcomes and the same state, because every
//! input, timestamps included, travels inside the commands.

use bytes::Bytes;
use natrium_store::{
    Command, FileStore, FileStoreConfig, MemoryStore, MessageStore, Outcome, PurgeRequest,
    StoreConfig,
};

fn log() -> Vec<Command> {
    let store = |subject: &str, payload: &'static [u8], timestamp| Command::Store {
        subject: subject.into(),
        headers: Bytes::new(),
        payload: Bytes::from_static(payload),
        timestamp,
    };
    vec![
        store("kv.a", b"1", 10),
        store("kv.b", b"2", 20),
        store("kv.a", b"3", 30),
        Command::Remove {
            seq: 2,
            erase: true,
        },
        store("kv.c", b"4", 40),
        Command::Purge(PurgeRequest {
            filter: Some("kv.a".into()),
            keep: Some(1),
            up_to_seq: None,
        }),
        Command::Expire { now: 35 },
        store("kv.d", b"5", 50),
        Command::Compact { seq: 5 },
        store("kv.e", b"6", 60),
    ]
}

#[test]
fn commands_replay_identically() {
    let limits = StoreConfig {
        max_age_nanos: Some(30),
        ..StoreConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = FileStoreConfig {
        limits: limits.clone(),
        ..FileStoreConfig::default()
    };
    let mut memory = MemoryStore::new(limits).unwrap();
    let mut file = FileStore::open(dir.path(), config.clone()).unwrap();
    let mut outcomes = Vec::new();
    for (i, command) in log().iter().enumerate() {
        let expected = command.apply(&mut memory).unwrap();
        assert_eq!(
            command.apply(&mut file).unwrap(),
            expected,
            "command {i}: {command:?}"
        );
        outcomes.push(expected);
        if i == 5 {
            drop(file);
            file = FileStore::open(dir.path(), config.clone()).unwrap();
        }
    }
    assert_eq!(outcomes[0], Outcome::Stored(1));
    assert_eq!(memory.state(), file.state());
    assert_eq!(memory.load_last(">").unwrap(), file.load_last(">").unwrap());
}
