//! Advisories on `$JS.EVENT.ADVISORY.>`: stream created, updated and deleted, and the API
//! audit of each request, with their schema types.

use crate::common::{settle, within};
use crate::requests::{api, expect_ok};
use crate::JsServer;
use async_nats::Subscriber;
use futures::StreamExt;
use serde_json::Value;

/// The next advisory: its subject and body.
async fn next(advisories: &mut Subscriber) -> (String, Value) {
    let message = within("advisory", advisories.next())
        .await
        .expect("subscribed");
    let body = serde_json::from_slice(&message.payload).unwrap();
    (message.subject.to_string(), body)
}

#[tokio::test]
async fn stream_actions_and_api_audits_are_advised() {
    let js = JsServer::start(&[]).await;
    let (client, _context) = js.context().await;
    let mut advisories = client.subscribe("$JS.EVENT.ADVISORY.>").await.unwrap();
    settle(&client).await;
    let requests = [
        (
            "STREAM.CREATE.S",
            r#"{"name":"S","subjects":["s"]}"#,
            "stream_create_response",
            ("CREATED", "create"),
        ),
        (
            "STREAM.UPDATE.S",
            r#"{"name":"S","subjects":["s","t"]}"#,
            "stream_update_response",
            ("UPDATED", "modify"),
        ),
        (
            "STREAM.DELETE.S",
            "",
            "stream_delete_response",
            ("DELETED", "delete"),
        ),
    ];
    for (endpoint, body, response, (event, action)) in requests {
        expect_ok(&api(&client, endpoint, body).await, response);
        // nats-server sends the action advisory and the audit in either order.
        let mut seen = [next(&mut advisories).await, next(&mut advisories).await];
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        let [(audit_subject, audit), (action_subject, advisory)] = seen;

        assert_eq!(audit_subject, "$JS.EVENT.ADVISORY.API");
        assert_eq!(
            audit["type"], "io.nats.jetstream.advisory.v1.api_audit",
            "{audit}"
        );
        assert_eq!(audit["subject"], format!("$JS.API.{endpoint}"), "{audit}");
        // An empty request is left out (omitempty).
        assert_eq!(audit["request"].as_str().unwrap_or(""), body, "{audit}");
        let answered: Value = serde_json::from_str(audit["response"].as_str().unwrap()).unwrap();
        assert_eq!(
            answered["type"],
            format!("io.nats.jetstream.api.v1.{response}")
        );

        assert_eq!(
            action_subject,
            format!("$JS.EVENT.ADVISORY.STREAM.{event}.S")
        );
        assert_eq!(
            advisory["type"], "io.nats.jetstream.advisory.v1.stream_action",
            "{advisory}"
        );
        assert_eq!(
            (advisory["stream"].as_str(), advisory["action"].as_str()),
            (Some("S"), Some(action))
        );
        assert!(
            advisory["id"].as_str().is_some_and(|id| !id.is_empty()),
            "{advisory}"
        );
    }
}
