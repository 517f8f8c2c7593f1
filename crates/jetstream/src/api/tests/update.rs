//! STREAM.UPDATE: the changes nats-server allows take effect at once (limits trim, subjects
//! move, seals lock), the others are refused with its errors, and each update is announced.

use super::*;

fn create(api: &mut JetStreamApi<MemoryStores>, body: Value) {
    let name = body["name"].as_str().unwrap().to_string();
    let response = api
        .request(
            &format!("$JS.API.STREAM.CREATE.{name}"),
            &serde_json::to_vec(&body).unwrap(),
            NOW,
        )
        .unwrap();
    let response: Value = serde_json::from_slice(&response).unwrap();
    assert_eq!(response["did_create"], true, "{response}");
}

#[test]
fn allowed_changes_apply_at_once() {
    let mut api = api();
    create(&mut api, json!({"name": "S", "subjects": ["s.*"]}));
    create(&mut api, json!({"name": "T", "subjects": ["t"]}));
    for n in 0..5 {
        publish(&mut api, "s.a", &[], &n.to_string());
    }
    let generation = api.interest_generation();
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "subjects": ["s.*", "u"], "max_msgs": 2, "description": "now"}),
                json!({
                    "type": "io.nats.jetstream.api.v1.stream_update_response",
                    "config": {"max_msgs": 2, "subjects": ["s.*", "u"], "description": "now"},
                    "state": {"messages": 2, "first_seq": 4},
                    "did_create": null,
                }),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "subjects": ["s.*", "t"]}),
                json!({"error": {"code": 400, "err_code": 10065, "description": "subjects overlap with an existing stream"}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "storage": "memory"}),
                json!({"error": {"code": 500, "err_code": 10052, "description": "stream configuration update can not change storage type"}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "mirror": {"name": "T"}}),
                json!({"error": {"err_code": 10055}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "OTHER"}),
                json!({"error": {"err_code": 10056}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.NOPE",
                json!({"name": "NOPE"}),
                json!({"error": {"code": 404, "err_code": 10059}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "num_replicas": 3}),
                json!({"error": {"err_code": 10074}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.S",
                json!({"name": "S", "subjects": ["s.*", "u"], "max_msgs": 2, "sealed": true}),
                json!({"config": {"sealed": true, "deny_delete": true, "deny_purge": true, "discard": "new"}}),
            ),
            (
                "$JS.API.STREAM.PURGE.S",
                Value::Null,
                json!({"error": {"code": 400, "err_code": 10109, "description": "invalid operation on sealed stream"}}),
            ),
            (
                "$JS.API.STREAM.MSG.DELETE.S",
                json!({"seq": 4}),
                json!({"error": {"err_code": 10109}}),
            ),
        ],
    );
    assert_ne!(api.interest_generation(), generation, "subject u was added");
    let refused = publish(&mut api, "u", &[], "x");
    assert_eq!(refused["error"]["err_code"], 10109);
}

#[test]
fn updates_are_saved_and_announced() {
    let mut api = api();
    create(&mut api, json!({"name": "S"}));
    let mut out = Vec::new();
    let message = Inbound {
        account: crate::engine::account_name("A"),
        subject: "$JS.API.STREAM.UPDATE.S",
        reply: Some("r"),
        headers: b"",
        payload: br#"{"name":"S","max_bytes":1024}"#,
    };
    api.handle(message, NOW, &mut out);
    let sent: Vec<&str> = out.iter().map(|o| &*o.deliver).collect();
    assert_eq!(
        sent,
        [
            "r",
            "$JS.EVENT.ADVISORY.STREAM.UPDATED.S",
            "$JS.EVENT.ADVISORY.API"
        ]
    );
    let action: Value = serde_json::from_slice(&out[1].payload).unwrap();
    assert_eq!(action["action"], "modify");
    assert_eq!(action["stream"], "S");
    let audit: Value = serde_json::from_slice(&out[2].payload).unwrap();
    assert_eq!(audit["subject"], "$JS.API.STREAM.UPDATE.S");
    assert_eq!(audit["request"], r#"{"name":"S","max_bytes":1024}"#);
    assert_eq!(audit["server"], "natrium");
    let response: Value = serde_json::from_slice(&out[0].payload).unwrap();
    assert_eq!(
        audit["response"],
        String::from_utf8_lossy(&out[0].payload).as_ref()
    );
    assert_eq!(response["config"]["max_bytes"], 1024);
}
