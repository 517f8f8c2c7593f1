//! Object stores through async-nats's `object_store` module: a 10 MiB object in chunks,
//! list, delete, links and metadata.

use crate::common::within;
use crate::JsServer;
use async_nats::jetstream::object_store::{self, ObjectMetadata, UpdateMetadata};
use futures::TryStreamExt;
use std::collections::HashMap;
use tokio::io::AsyncReadExt;

/// 10 MiB of bytes that differ from chunk to chunk, so a misplaced chunk is caught.
fn ten_mebibytes() -> Vec<u8> {
    (0..10 * 1024 * 1024u32)
        .map(|index| (index.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

/// The names of the bucket's objects, in listing order.
async fn object_names(bucket: &object_store::ObjectStore) -> Vec<String> {
    let list = within("list", bucket.list()).await.unwrap();
    within("list entries", list.map_ok(|info| info.name).try_collect())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_ten_mebibyte_object_round_trips_and_is_listed_linked_and_deleted() {
    let js = JsServer::start(&[]).await;
    let (_client, context) = js.context().await;
    let bucket = within(
        "create object store",
        context.create_object_store(object_store::Config {
            bucket: "FILES".to_string(),
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    let data = ten_mebibytes();
    let metadata = ObjectMetadata {
        name: "big.bin".to_string(),
        description: Some("ten mebibytes".to_string()),
        metadata: HashMap::from([("owner".to_string(), "tests".to_string())]),
        ..Default::default()
    };
    let info = within("put", bucket.put(metadata, &mut data.as_slice()))
        .await
        .unwrap();
    assert_eq!((info.size, info.chunks > 1), (data.len(), true));
    within("put small", bucket.put("small.txt", &mut &b"hello"[..]))
        .await
        .unwrap();

    let mut object = within("get", bucket.get("big.bin")).await.unwrap();
    let mut read = Vec::with_capacity(data.len());
    within("read", object.read_to_end(&mut read)).await.unwrap();
    assert!(
        read == data,
        "10 MiB read back differ ({} bytes)",
        read.len()
    );

    let info = within("info", bucket.info("big.bin")).await.unwrap();
    assert_eq!(info.description.as_deref(), Some("ten mebibytes"));
    assert_eq!(
        info.metadata.get("owner").map(String::as_str),
        Some("tests")
    );
    let renamed = UpdateMetadata {
        name: "renamed.bin".to_string(),
        description: Some("moved".to_string()),
        ..Default::default()
    };
    within(
        "update metadata",
        bucket.update_metadata("big.bin", renamed),
    )
    .await
    .unwrap();
    let info = within("info renamed", bucket.info("renamed.bin"))
        .await
        .unwrap();
    assert_eq!(
        (info.description.as_deref(), info.size),
        (Some("moved"), data.len())
    );

    let small = within("small info", bucket.info("small.txt"))
        .await
        .unwrap();
    let link = within("link", bucket.add_link("link.txt", &small))
        .await
        .unwrap();
    assert_eq!(
        link.options.and_then(|o| o.link).map(|l| l.name),
        Some(Some("small.txt".to_string()))
    );
    let mut linked = within("get link", bucket.get("link.txt")).await.unwrap();
    let mut text = String::new();
    within("read link", linked.read_to_string(&mut text))
        .await
        .unwrap();
    assert_eq!(text, "hello");

    let mut names = object_names(&bucket).await;
    names.sort();
    assert_eq!(names, ["link.txt", "renamed.bin", "small.txt"]);

    within("delete", bucket.delete("renamed.bin"))
        .await
        .unwrap();
    let gone = within("get deleted", bucket.get("renamed.bin")).await;
    assert!(gone.is_err(), "a deleted object is not found");
    let names = object_names(&bucket).await;
    assert_eq!(names.len(), 2, "{names:?}");
    // The deleted object's chunks are purged from the stream.
    let mut stream = within("stream", context.get_stream("OBJ_FILES"))
        .await
        .unwrap();
    let state = within("stream info", stream.info())
        .await
        .unwrap()
        .state
        .clone();
    assert!(state.bytes < 1024 * 1024, "chunks left: {state:?}");
}
