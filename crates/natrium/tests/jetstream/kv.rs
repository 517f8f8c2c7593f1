//! Key-value buckets through async-nats's `kv` module: put, get, create, update with a
//! revision, delete, purge, history, keys and watches.

use crate::common::within;
use crate::JsServer;
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, Store, UpdateErrorKind};
use futures::{StreamExt, TryStreamExt};

/// A bucket keeping `history` values per key.
async fn bucket(js: &JsServer, history: i64) -> Store {
    let (_client, context) = js.context().await;
    let config = kv::Config {
        bucket: "CONFIG".to_string(),
        history,
        ..Default::default()
    };
    within("create bucket", context.create_key_value(config))
        .await
        .unwrap()
}

/// The next `(key, operation, revision, value)` a watch delivers.
async fn next(watch: &mut kv::Watch) -> (String, Operation, u64, String) {
    let entry = within("watch entry", watch.next())
        .await
        .expect("the watch goes on")
        .unwrap();
    let value = String::from_utf8(entry.value.to_vec()).unwrap();
    (entry.key, entry.operation, entry.revision, value)
}

#[tokio::test]
async fn put_get_create_update_delete_and_purge() {
    let js = JsServer::start(&[]).await;
    let store = bucket(&js, 5).await;
    let first = within("put", store.put("color", "red".into()))
        .await
        .unwrap();
    assert_eq!(first, 1);
    let value = within("get", store.get("color")).await.unwrap();
    assert_eq!(value.as_deref(), Some(&b"red"[..]));
    assert_eq!(
        within("get missing", store.get("size")).await.unwrap(),
        None
    );

    let exists = within("create existing", store.create("color", "blue".into()))
        .await
        .unwrap_err();
    assert_eq!(exists.kind(), CreateErrorKind::AlreadyExists, "{exists}");
    let created = within("create", store.create("size", "L".into()))
        .await
        .unwrap();
    assert_eq!(created, 2);

    let updated = within("update", store.update("color", "green".into(), 1))
        .await
        .unwrap();
    assert_eq!(updated, 3);
    let stale = within("update stale", store.update("color", "pink".into(), 1))
        .await
        .unwrap_err();
    assert_eq!(stale.kind(), UpdateErrorKind::WrongLastRevision, "{stale}");
    let entry = within("entry", store.entry("color"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((entry.revision, &entry.value[..]), (3, &b"green"[..]));

    within("delete", store.delete("color")).await.unwrap();
    assert_eq!(
        within("get deleted", store.get("color")).await.unwrap(),
        None
    );
    // A deleted key can be created again.
    assert_eq!(
        within("re-create", store.create("color", "blue".into()))
            .await
            .unwrap(),
        5
    );

    within("purge", store.purge("size")).await.unwrap();
    assert_eq!(within("get purged", store.get("size")).await.unwrap(), None);
    let history: Vec<kv::Entry> = within("history", store.history("size"))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let operations: Vec<Operation> = history.iter().map(|entry| entry.operation).collect();
    assert_eq!(
        operations,
        [Operation::Purge],
        "a purge leaves only its marker"
    );
    let status = within("status", store.status()).await.unwrap();
    assert_eq!(status.history(), 5);
}

#[tokio::test]
async fn history_and_keys_read_through_consumers() {
    let js = JsServer::start(&[]).await;
    let store = bucket(&js, 3).await;
    for value in ["1", "2", "3", "4"] {
        within("put", store.put("a", value.into())).await.unwrap();
    }
    within("put", store.put("b", "x".into())).await.unwrap();
    within("put", store.put("c.d", "y".into())).await.unwrap();
    within("delete", store.delete("b")).await.unwrap();

    let history: Vec<kv::Entry> = within("history", store.history("a"))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let values: Vec<(u64, &[u8])> = history.iter().map(|e| (e.revision, &e.value[..])).collect();
    assert_eq!(
        values,
        [(2, &b"2"[..]), (3, b"3"), (4, b"4")],
        "history keeps 3"
    );

    let mut keys: Vec<String> = within("keys", store.keys())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["a", "c.d"], "a deleted key is not listed");
}

#[tokio::test]
async fn watches_deliver_updates_only_or_the_latest_values_first() {
    let js = JsServer::start(&[]).await;
    let store = bucket(&js, 5).await;
    within("put", store.put("a", "old".into())).await.unwrap();
    within("put", store.put("a", "current".into()))
        .await
        .unwrap();
    within("put", store.put("b", "kept".into())).await.unwrap();

    let mut updates = within("watch", store.watch("a")).await.unwrap();
    let mut with_history = within("watch history", store.watch_with_history(">"))
        .await
        .unwrap();
    let mut everything = within("watch all", store.watch_all_from_revision(1))
        .await
        .unwrap();
    // With history: the latest value of each key, then what follows.
    assert_eq!(
        next(&mut with_history).await,
        ("a".into(), Operation::Put, 2, "current".into())
    );
    assert_eq!(
        next(&mut with_history).await,
        ("b".into(), Operation::Put, 3, "kept".into())
    );
    for (revision, value) in [(1, "old"), (2, "current"), (3, "kept")] {
        let key = if revision == 3 { "b" } else { "a" };
        assert_eq!(
            next(&mut everything).await,
            (key.into(), Operation::Put, revision, value.into())
        );
    }

    within("put", store.put("a", "new".into())).await.unwrap();
    within("delete", store.delete("a")).await.unwrap();
    let new = ("a".to_string(), Operation::Put, 4, "new".to_string());
    let deleted = ("a".to_string(), Operation::Delete, 5, String::new());
    for watch in [&mut updates, &mut with_history, &mut everything] {
        assert_eq!(next(watch).await, new);
        assert_eq!(next(watch).await, deleted);
    }
}
