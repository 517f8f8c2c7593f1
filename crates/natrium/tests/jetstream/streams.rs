//! The stream API through async-nats and raw requests: create, update, delete, info, list,
//! names, purge, message get and delete, direct get; success and error paths.

use crate::common::{settle, within};
use crate::requests::{
    api, create_stream, expect_error, expect_ok, publish_ok, state, stream_config,
};
use crate::JsServer;
use async_nats::jetstream::stream::{self, StorageType};
use futures::{StreamExt, TryStreamExt};
use std::future::IntoFuture;

#[tokio::test]
async fn create_is_idempotent_and_a_different_recreate_is_refused() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let config = stream_config("ORDERS", &["orders.>"]);
    create_stream(&context, config.clone()).await;
    let again = create_stream(&context, config).await;
    assert_eq!(again.cached_info().config.subjects, ["orders.>"]);

    let same = api(
        &client,
        "STREAM.CREATE.ORDERS",
        r#"{"name":"ORDERS","subjects":["orders.>"]}"#,
    )
    .await;
    expect_ok(&same, "stream_create_response");
    let different = api(
        &client,
        "STREAM.CREATE.ORDERS",
        r#"{"name":"ORDERS","subjects":["other.>"]}"#,
    )
    .await;
    let text = expect_error(&different, 10058);
    assert_eq!(
        text,
        "stream name already in use with a different configuration"
    );
    let overlap = api(
        &client,
        "STREAM.CREATE.MORE",
        r#"{"name":"MORE","subjects":["orders.new"]}"#,
    )
    .await;
    assert_eq!(
        expect_error(&overlap, 10065),
        "subjects overlap with an existing stream"
    );
    let mismatch = api(&client, "STREAM.CREATE.ONE", r#"{"name":"TWO"}"#).await;
    assert_eq!(
        expect_error(&mismatch, 10056),
        "stream name in subject does not match request"
    );
}

#[tokio::test]
async fn update_applies_allowed_changes_and_refuses_the_others() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    create_stream(&context, stream_config("ORDERS", &["orders.>"])).await;

    let mut changed = stream_config("ORDERS", &["orders.>", "returns.>"]);
    changed.max_messages = 100;
    changed.description = Some("all orders".to_string());
    let info = within("update", context.update_stream(changed.clone()))
        .await
        .unwrap();
    assert_eq!(info.config.subjects, ["orders.>", "returns.>"]);
    assert_eq!(
        (info.config.max_messages, info.config.description.as_deref()),
        (100, Some("all orders"))
    );
    publish_ok(&client, "returns.1", &[], "ORDERS", 1).await;

    let refused = [
        (
            r#""storage":"memory""#,
            "stream configuration update can not change storage type",
        ),
        (
            r#""retention":"workqueue""#,
            "stream configuration update can not change retention policy",
        ),
        (
            r#""max_consumers":5"#,
            "stream configuration update can not change MaxConsumers",
        ),
    ];
    for (field, text) in refused {
        let body = format!(r#"{{"name":"ORDERS","subjects":["orders.>"],{field}}}"#);
        let answer = api(&client, "STREAM.UPDATE.ORDERS", body).await;
        assert_eq!(expect_error(&answer, 10052), text, "{field}");
    }
    let missing = api(
        &client,
        "STREAM.UPDATE.NONE",
        r#"{"name":"NONE","subjects":["none"]}"#,
    )
    .await;
    assert_eq!(expect_error(&missing, 10059), "stream not found");
    let kept = within("info", context.get_stream("ORDERS")).await.unwrap();
    assert_eq!(kept.cached_info().config.storage, StorageType::File);
    assert_eq!(kept.cached_info().config.max_messages, 100);
}

#[tokio::test]
async fn delete_removes_the_stream_and_a_second_delete_is_not_found() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    create_stream(&context, stream_config("ORDERS", &["orders.>"])).await;
    publish_ok(&client, "orders.1", &[], "ORDERS", 1).await;
    assert!(
        within("delete", context.delete_stream("ORDERS"))
            .await
            .unwrap()
            .success
    );

    let again = api(&client, "STREAM.DELETE.ORDERS", "").await;
    assert_eq!(expect_error(&again, 10059), "stream not found");
    let info = api(&client, "STREAM.INFO.ORDERS", "").await;
    expect_error(&info, 10059);
    // Its subjects are free again: nobody stores a publish to them.
    let error = within("publish", client.request("orders.1", "x".into()))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), async_nats::RequestErrorKind::NoResponders);
}

#[tokio::test]
async fn info_reports_subjects_by_filter_and_deleted_sequences() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ORDERS", &["orders.>"])).await;
    for (sequence, subject) in ["orders.a", "orders.b", "orders.a", "orders.c", "orders.a"]
        .iter()
        .enumerate()
    {
        publish_ok(&client, subject, &[], "ORDERS", sequence as u64 + 1).await;
    }
    assert!(within("delete", stream.delete_message(2)).await.unwrap());
    assert!(within("delete", stream.delete_message(4)).await.unwrap());

    let info = api(
        &client,
        "STREAM.INFO.ORDERS",
        r#"{"subjects_filter":"orders.>","deleted_details":true}"#,
    )
    .await;
    expect_ok(&info, "stream_info_response");
    let state = &info["state"];
    assert_eq!(state["subjects"], serde_json::json!({"orders.a": 3}));
    assert_eq!(state["deleted"], serde_json::json!([2, 4]));
    assert_eq!(
        (
            state["num_deleted"].as_u64(),
            state["num_subjects"].as_u64()
        ),
        (Some(2), Some(1))
    );

    let plain = api(&client, "STREAM.INFO.ORDERS", "").await;
    assert!(plain["state"].get("subjects").is_none(), "{plain}");
    assert!(plain["state"].get("deleted").is_none(), "{plain}");

    let through_client = within(
        "info",
        stream
            .info_builder()
            .with_deleted(true)
            .subjects("orders.a")
            .fetch(),
    )
    .await
    .unwrap();
    let subjects: Vec<(String, usize)> = through_client.try_collect().await.unwrap();
    assert_eq!(subjects, [("orders.a".to_string(), 3)]);
}

#[tokio::test]
async fn list_and_names_page_through_streams_and_filter_by_subject() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    for (name, subject) in [("A", "a.>"), ("B", "b.*"), ("C", "c")] {
        create_stream(&context, stream_config(name, &[subject])).await;
    }
    let names: Vec<String> = context.stream_names().try_collect().await.unwrap();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["A", "B", "C"]);
    assert_eq!(
        within("by subject", context.stream_by_subject("a.q.r"))
            .await
            .unwrap(),
        "A"
    );

    let filtered = api(&client, "STREAM.NAMES", r#"{"subject":"c"}"#).await;
    expect_ok(&filtered, "stream_names_response");
    assert_eq!(filtered["streams"], serde_json::json!(["C"]));
    let none = api(&client, "STREAM.NAMES", r#"{"subject":"zzz"}"#).await;
    assert_eq!(
        (none["total"].as_u64(), &none["streams"]),
        (Some(0), &serde_json::Value::Null)
    );

    let infos: Vec<stream::Info> = context.streams().try_collect().await.unwrap();
    assert_eq!(infos.len(), 3);
    let page = api(&client, "STREAM.LIST", r#"{"offset":2}"#).await;
    expect_ok(&page, "stream_list_response");
    assert_eq!(
        (page["total"].as_u64(), page["offset"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(page["streams"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn purge_by_filter_sequence_and_keep() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ORDERS", &["orders.*"])).await;
    for sequence in 1..=10 {
        let subject = if sequence % 2 == 0 {
            "orders.even"
        } else {
            "orders.odd"
        };
        publish_ok(&client, subject, &[], "ORDERS", sequence).await;
    }
    // Sequences 2, 4 (even) go: below 5 on the even subject.
    let below = within(
        "purge seq",
        stream
            .purge()
            .filter("orders.even")
            .sequence(5)
            .into_future(),
    )
    .await
    .unwrap();
    assert_eq!(below.purged, 2);
    // Of the odd subject (1, 3, 5, 7, 9), keep the last two.
    let kept = within(
        "purge keep",
        stream.purge().filter("orders.odd").keep(2).into_future(),
    )
    .await
    .unwrap();
    assert_eq!(kept.purged, 3);
    assert_eq!(state(&client, "ORDERS").await, (5, 6, 10));
    let subject = within(
        "purge subject",
        stream.purge().filter("orders.even").into_future(),
    )
    .await
    .unwrap();
    assert_eq!(subject.purged, 3);
    assert_eq!(state(&client, "ORDERS").await, (2, 7, 10));

    let both = api(&client, "STREAM.PURGE.ORDERS", r#"{"seq":3,"keep":1}"#).await;
    assert_eq!(expect_error(&both, 10003), "bad request");
    let all = api(&client, "STREAM.PURGE.ORDERS", "").await;
    expect_ok(&all, "stream_purge_response");
    assert_eq!(
        (all["success"].as_bool(), all["purged"].as_u64()),
        (Some(true), Some(2))
    );
    assert_eq!(state(&client, "ORDERS").await, (0, 11, 10));
    publish_ok(&client, "orders.odd", &[], "ORDERS", 11).await;
}

#[tokio::test]
async fn message_get_by_sequence_last_and_next_by_subject() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let stream = create_stream(&context, stream_config("ORDERS", &["orders.*"])).await;
    for (sequence, subject) in ["orders.a", "orders.b", "orders.a", "orders.b"]
        .iter()
        .enumerate()
    {
        publish_ok(
            &client,
            subject,
            &[("Tag", &sequence.to_string())],
            "ORDERS",
            sequence as u64 + 1,
        )
        .await;
    }
    let second = within("get", stream.get_raw_message(2)).await.unwrap();
    assert_eq!((second.subject.as_str(), second.sequence), ("orders.b", 2));
    assert_eq!(second.headers.get("Tag").map(|v| v.as_str()), Some("1"));
    let last = within("last", stream.get_last_raw_message_by_subject("orders.a"))
        .await
        .unwrap();
    assert_eq!(last.sequence, 3);
    let next = within(
        "next",
        stream
            .raw_message_builder()
            .sequence(3)
            .next_by_subject("orders.b")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(next.sequence, 4);

    let raw = api(
        &client,
        "STREAM.MSG.GET.ORDERS",
        r#"{"last_by_subj":"orders.b"}"#,
    )
    .await;
    expect_ok(&raw, "stream_msg_get_response");
    assert_eq!(
        (
            raw["message"]["seq"].as_u64(),
            raw["message"]["subject"].as_str()
        ),
        (Some(4), Some("orders.b"))
    );
    let missing = api(&client, "STREAM.MSG.GET.ORDERS", r#"{"seq":99}"#).await;
    assert_eq!(expect_error(&missing, 10037), "no message found");
    let no_subject = api(
        &client,
        "STREAM.MSG.GET.ORDERS",
        r#"{"last_by_subj":"orders.zzz"}"#,
    )
    .await;
    expect_error(&no_subject, 10037);
    let none = api(&client, "STREAM.MSG.GET.ORDERS", "{}").await;
    expect_error(&none, 10003);
    let no_stream = api(&client, "STREAM.MSG.GET.NONE", r#"{"seq":1}"#).await;
    expect_error(&no_stream, 10059);
}

#[tokio::test]
async fn message_delete_with_and_without_erase() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    create_stream(&context, stream_config("ORDERS", &["orders.*"])).await;
    for sequence in 1..=3 {
        publish_ok(&client, "orders.a", &[], "ORDERS", sequence).await;
    }
    let erased = api(&client, "STREAM.MSG.DELETE.ORDERS", r#"{"seq":1}"#).await;
    expect_ok(&erased, "stream_msg_delete_response");
    assert_eq!(erased["success"], true);
    let kept_bytes = api(
        &client,
        "STREAM.MSG.DELETE.ORDERS",
        r#"{"seq":2,"no_erase":true}"#,
    )
    .await;
    assert_eq!(kept_bytes["success"], true, "{kept_bytes}");
    assert_eq!(state(&client, "ORDERS").await, (1, 3, 3));
    let gone = api(&client, "STREAM.MSG.GET.ORDERS", r#"{"seq":2}"#).await;
    expect_error(&gone, 10037);
    // A file stream answers a missing message as nats-server's file store does.
    let again = api(&client, "STREAM.MSG.DELETE.ORDERS", r#"{"seq":2}"#).await;
    assert_eq!(expect_error(&again, 10057), "no message found");
}

#[tokio::test]
async fn direct_get_answers_only_with_allow_direct() {
    let js = JsServer::start(&[]).await;
    let (client, context) = js.context().await;
    let mut config = stream_config("DIRECT", &["d.*"]);
    config.allow_direct = true;
    let direct = create_stream(&context, config).await;
    let plain = create_stream(&context, stream_config("PLAIN", &["p.*"])).await;
    publish_ok(&client, "d.a", &[], "DIRECT", 1).await;
    publish_ok(&client, "d.b", &[], "DIRECT", 2).await;
    publish_ok(&client, "p.a", &[], "PLAIN", 1).await;

    let first = within("direct get", direct.direct_get(1)).await.unwrap();
    assert_eq!((first.subject.as_str(), first.sequence), ("d.a", 1));
    let last = within("direct last", direct.direct_get_last_for_subject("d.b"))
        .await
        .unwrap();
    assert_eq!(last.sequence, 2);
    let next = within(
        "direct next",
        direct.direct_get_next_for_subject("d.*", Some(2)),
    )
    .await
    .unwrap();
    assert_eq!(next.sequence, 2);
    let missing = within("direct missing", direct.direct_get(9))
        .await
        .unwrap_err();
    assert_eq!(
        missing.kind(),
        stream::DirectGetErrorKind::NotFound,
        "{missing}"
    );

    // The subject form: `$JS.API.DIRECT.GET.<stream>.<subject>` with an empty body.
    let reply = within(
        "direct by subject",
        client.request("$JS.API.DIRECT.GET.DIRECT.d.a", "".into()),
    )
    .await
    .unwrap();
    let headers = reply.headers.expect("direct get answers with headers");
    assert_eq!(headers.get("Nats-Sequence").map(|v| v.as_str()), Some("1"));
    assert_eq!(
        headers.get("Nats-Stream").map(|v| v.as_str()),
        Some("DIRECT")
    );

    // Without allow_direct nobody answers (the API subscription swallows the request): an
    // INFO sent after it comes back while the direct get's reply subject stays empty.
    let mut replies = client.subscribe("direct.reply").await.unwrap();
    client
        .publish_with_reply(
            "$JS.API.DIRECT.GET.PLAIN",
            "direct.reply",
            r#"{"seq":1}"#.into(),
        )
        .await
        .unwrap();
    state(&client, "PLAIN").await;
    settle(&client).await;
    assert!(futures::FutureExt::now_or_never(replies.next()).is_none());
    assert!(within("get", plain.get_raw_message(1)).await.is_ok());
}
