//! A stream update's new limits trim both stores at once, identically, and the file store's
//! trimmed state survives a reopen.

use natrium_store::{
    DiscardPolicy, FileStore, FileStoreConfig, MemoryStore, MessageStore, StoreConfig,
};

fn fill(store: &mut dyn MessageStore) {
    for (index, subject) in ["a", "b", "a", "a", "b", "c"].iter().enumerate() {
        store.store(subject, b"", b"payload", index as i64).unwrap();
    }
}

fn live(store: &dyn MessageStore) -> Vec<(u64, String)> {
    let last = store.state().last_seq;
    (1..=last)
        .filter_map(|seq| store.load(seq).ok())
        .map(|m| (m.seq, m.subject.to_string()))
        .collect()
}

#[test]
fn tighter_limits_trim_at_once_whatever_the_discard_policy() {
    let limits = StoreConfig {
        max_msgs_per_subject: Some(1),
        max_msgs: Some(2),
        discard: DiscardPolicy::New,
        ..StoreConfig::default()
    };
    let expected = vec![(5, "b".to_string()), (6, "c".to_string())];

    let mut memory = MemoryStore::new(StoreConfig::default()).unwrap();
    fill(&mut memory);
    assert_eq!(memory.update_limits(limits.clone()).unwrap(), 4);
    assert_eq!(live(&memory), expected);
    // The new limits hold for later stores too: discard new now refuses.
    assert!(memory.store("d", b"", b"x", 9).is_err());

    let dir = tempfile::tempdir().unwrap();
    let mut file = FileStore::open(dir.path(), FileStoreConfig::default()).unwrap();
    fill(&mut file);
    assert_eq!(file.update_limits(limits.clone()).unwrap(), 4);
    assert_eq!(live(&file), expected);
    file.sync().unwrap().wait().unwrap();
    drop(file);
    let file = FileStore::open(
        dir.path(),
        FileStoreConfig {
            limits,
            ..FileStoreConfig::default()
        },
    )
    .unwrap();
    assert_eq!(live(&file), expected);
    assert_eq!(file.state(), memory.state());

    let invalid = StoreConfig {
        max_msgs: Some(0),
        ..StoreConfig::default()
    };
    assert!(memory.update_limits(invalid).is_err());
}
