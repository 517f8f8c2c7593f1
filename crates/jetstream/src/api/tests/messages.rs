//! Message endpoints and publish-side controls: PURGE, MSG.GET, MSG.DELETE, DIRECT.GET,
//! INFO's subject and deleted details, and `Nats-Rollup`.

use super::*;

/// A stream `S` on `s.>` holding s.a=1, s.b=2, s.a=3, s.c=4 (sequences 1 to 4).
fn stream(extra: Value) -> JetStreamApi<MemoryStores> {
    let mut api = api();
    let mut config = json!({"name": "S", "subjects": ["s.>"], "storage": "memory"});
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let body = serde_json::to_vec(&config).unwrap();
    api.request("$JS.API.STREAM.CREATE.S", &body, NOW).unwrap();
    for (subject, payload) in [("s.a", "1"), ("s.b", "2"), ("s.a", "3"), ("s.c", "4")] {
        publish(&mut api, subject, &[("K", "v")], payload);
    }
    api
}

#[test]
fn purge_by_filter_sequence_and_keep() {
    let mut api = stream(json!({}));
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.PURGE.S",
                json!({"filter": "s.a", "keep": 1}),
                json!({"type": "io.nats.jetstream.api.v1.stream_purge_response", "success": true, "purged": 1}),
            ),
            (
                "$JS.API.STREAM.PURGE.S",
                json!({"seq": 4}),
                json!({"success": true, "purged": 2}),
            ),
            (
                "$JS.API.STREAM.PURGE.S",
                json!({"seq": 4, "keep": 1}),
                json!({"error": {"code": 400, "err_code": 10003}}),
            ),
            (
                "$JS.API.STREAM.PURGE.S",
                json!({"filter": "s..a"}),
                json!({"error": {"code": 500, "err_code": 10051}, "success": null}),
            ),
            (
                "$JS.API.STREAM.PURGE.S",
                Value::Null,
                json!({"success": true, "purged": 1}),
            ),
            (
                "$JS.API.STREAM.INFO.S",
                Value::Null,
                json!({"state": {"messages": 0, "first_seq": 5, "last_seq": 4}}),
            ),
            (
                "$JS.API.STREAM.PURGE.X",
                Value::Null,
                json!({"error": {"err_code": 10059}}),
            ),
        ],
    );
    let mut denied = stream(json!({"deny_purge": true}));
    check(
        &mut denied,
        &[(
            "$JS.API.STREAM.PURGE.S",
            Value::Null,
            json!({"error": {"code": 500, "err_code": 10110, "description": "stream purge not permitted"}}),
        )],
    );
}

#[test]
fn message_get_and_delete() {
    let mut api = stream(json!({}));
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!({"seq": 2}),
                json!({
                    "type": "io.nats.jetstream.api.v1.stream_msg_get_response",
                    "message": {"subject": "s.b", "seq": 2, "data": "Mg==", "hdrs": "TkFUUy8xLjANCks6IHYNCg0K", "time": "2025-11-26T13:50:00Z"},
                }),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!({"last_by_subj": "s.a"}),
                json!({"message": {"seq": 3}}),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!({"next_by_subj": "s.a", "seq": 2}),
                json!({"message": {"seq": 3}}),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!({"seq": 9}),
                json!({"error": {"code": 404, "err_code": 10037, "description": "no message found"}}),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!({"seq": 1, "last_by_subj": "s.a"}),
                json!({"error": {"err_code": 10003}}),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                Value::Null,
                json!({"error": {"err_code": 10003}}),
            ),
            (
                "$JS.API.STREAM.MSG.GET.S",
                json!("x"),
                json!({"error": {"err_code": 10025}}),
            ),
            (
                "$JS.API.STREAM.MSG.DELETE.S",
                json!({"seq": 1, "no_erase": true}),
                json!({"type": "io.nats.jetstream.api.v1.stream_msg_delete_response", "success": true}),
            ),
            (
                "$JS.API.STREAM.MSG.DELETE.S",
                json!({"seq": 1}),
                json!({"error": {"code": 400, "err_code": 10043, "description": "sequence 1 not found"}}),
            ),
            (
                "$JS.API.STREAM.INFO.S",
                json!({"deleted_details": true, "subjects_filter": ">"}),
                json!({
                    "state": {"messages": 3, "num_deleted": null, "deleted": null, "subjects": {"s.a": 1, "s.b": 1, "s.c": 1}},
                    "total": 3, "offset": 0, "limit": 100000,
                }),
            ),
            (
                "$JS.API.STREAM.INFO.S",
                json!({"subjects_filter": "s.*", "offset": 2}),
                json!({"state": {"subjects": {"s.c": 1}}, "total": 3, "offset": 2}),
            ),
            (
                "$JS.API.STREAM.INFO.S",
                json!({"subjects_filter": "nothing"}),
                json!({"state": {"subjects": null}, "total": 0, "limit": 0}),
            ),
        ],
    );
    // An interior delete shows in the deleted details.
    api.request("$JS.API.STREAM.MSG.DELETE.S", br#"{"seq":3}"#, NOW);
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.INFO.S",
            json!({"deleted_details": true}),
            json!({"state": {"num_deleted": 1, "deleted": [3]}}),
        )],
    );
    let mut denied = stream(json!({"deny_delete": true}));
    check(
        &mut denied,
        &[(
            "$JS.API.STREAM.MSG.DELETE.S",
            json!({"seq": 1}),
            json!({"error": {"code": 500, "err_code": 10057, "description": "message delete not permitted"}}),
        )],
    );
}

/// Sends a direct get and returns (headers, payload) of the answer, or `None` for silence.
fn direct(
    api: &mut JetStreamApi<MemoryStores>,
    subject: &str,
    body: &str,
) -> Option<(String, String)> {
    let mut out = Vec::new();
    let message = Inbound {
        account: crate::engine::account_name("A"),
        subject,
        reply: Some("r"),
        headers: b"",
        payload: body.as_bytes(),
    };
    api.handle(message, NOW, &mut out);
    assert!(
        out.len() <= 1,
        "direct gets are neither counted nor audited: {out:?}"
    );
    out.pop().map(|answer| {
        (
            String::from_utf8(answer.headers.to_vec()).unwrap(),
            String::from_utf8(answer.payload.to_vec()).unwrap(),
        )
    })
}

#[test]
fn direct_get_answers_with_the_message_and_its_stream_headers() {
    let mut api = stream(json!({"allow_direct": true}));
    let (headers, payload) = direct(&mut api, "$JS.API.DIRECT.GET.S", r#"{"seq":2}"#).unwrap();
    assert_eq!(payload, "2");
    assert_eq!(
        headers,
        "NATS/1.0\r\nK: v\r\nNats-Stream: S\r\nNats-Subject: s.b\r\nNats-Sequence: 2\r\nNats-Time-Stamp: 2025-11-26T13:50:00Z\r\n\r\n"
    );
    let (headers, payload) = direct(&mut api, "$JS.API.DIRECT.GET.S.s.a", "").unwrap();
    assert_eq!(payload, "3");
    assert!(headers.contains("Nats-Sequence: 3\r\n"), "{headers}");
    let statuses = [
        (
            "$JS.API.DIRECT.GET.S",
            r#"{"seq":9}"#,
            "NATS/1.0 404 Message Not Found\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S.s.none",
            "",
            "NATS/1.0 404 Message Not Found\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S",
            "",
            "NATS/1.0 408 Empty Request\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S",
            "{}",
            "NATS/1.0 408 Empty Request\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S",
            "{",
            "NATS/1.0 408 Malformed Request\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S",
            r#"{"seq":1,"last_by_subj":"s.a"}"#,
            "NATS/1.0 408 Bad Request\r\n\r\n",
        ),
        (
            "$JS.API.DIRECT.GET.S.s.a",
            r#"{"seq":1}"#,
            "NATS/1.0 408 Bad Request\r\n\r\n",
        ),
    ];
    for (subject, body, status) in statuses {
        assert_eq!(
            direct(&mut api, subject, body),
            Some((status.to_string(), String::new())),
            "{subject} {body}"
        );
    }
    assert_eq!(
        direct(&mut api, "$JS.API.DIRECT.GET.NOPE", r#"{"seq":1}"#),
        None
    );
    let mut plain = stream(json!({}));
    assert_eq!(
        direct(&mut plain, "$JS.API.DIRECT.GET.S", r#"{"seq":1}"#),
        None
    );
}

#[test]
fn rollups_keep_only_the_newest_message() {
    let mut api = stream(json!({"allow_rollup_hdrs": true}));
    let ack = publish(&mut api, "s.a", &[("Nats-Rollup", "sub")], "5");
    assert_eq!(ack["seq"], 5);
    let state =
        &serde_json::from_slice::<Value>(&api.request("$JS.API.STREAM.INFO.S", b"", NOW).unwrap())
            .unwrap()["state"];
    assert_eq!(state["messages"], 3, "s.a keeps only sequence 5: {state}");
    publish(&mut api, "s.b", &[("Nats-Rollup", "all")], "6");
    let state =
        &serde_json::from_slice::<Value>(&api.request("$JS.API.STREAM.INFO.S", b"", NOW).unwrap())
            .unwrap()["state"];
    assert_eq!(
        (state["messages"].as_u64(), state["first_seq"].as_u64()),
        (Some(1), Some(6))
    );
    let invalid = publish(&mut api, "s.b", &[("Nats-Rollup", "most")], "7");
    assert_eq!(invalid["error"]["err_code"], 10111);
    assert_eq!(
        invalid["error"]["description"],
        r#"rollup value invalid: "most""#
    );

    let mut refused = stream(json!({}));
    let ack = publish(&mut refused, "s.a", &[("Nats-Rollup", "sub")], "5");
    assert_eq!(
        ack["error"],
        json!({"code": 500, "err_code": 10111, "description": "rollup not permitted"})
    );
}
