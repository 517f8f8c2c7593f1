//! Account limits on create and update, request parsing as Go does it, and the API counters.

use super::*;

fn limited(limits: AccountLimits) -> JetStreamApi<MemoryStores> {
    JetStreamApi::new(MemoryStores, limits, ServerLimits::default(), None)
}

#[test]
fn streams_must_fit_the_account() {
    let mut api = limited(AccountLimits {
        max_memory: 1000,
        max_storage: 0,
        max_consumers: 10,
        memory_max_stream_bytes: 800,
        ..AccountLimits::default()
    });
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.CREATE.F",
                json!({"name": "F"}),
                json!({"error": {"code": 500, "err_code": 10047, "description": "insufficient storage resources available"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.C",
                json!({"name": "C", "storage": "memory", "max_bytes": 900}),
                json!({"error": {"code": 400, "err_code": 10122, "description": "stream max bytes exceeds account limit max stream bytes"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.A",
                json!({"name": "A", "storage": "memory", "max_bytes": 600}),
                json!({"did_create": true}),
            ),
            (
                "$JS.API.STREAM.CREATE.B",
                json!({"name": "B", "storage": "memory", "max_bytes": 500}),
                json!({"error": {"code": 500, "err_code": 10028}}),
            ),
            (
                "$JS.API.STREAM.CREATE.D",
                json!({"name": "D", "storage": "memory", "max_consumers": 11}),
                json!({"error": {"code": 400, "err_code": 10026}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.A",
                json!({"name": "A", "storage": "memory", "max_bytes": 1001}),
                json!({"error": {"err_code": 10122}}),
            ),
            (
                "$JS.API.STREAM.UPDATE.A",
                json!({"name": "A", "storage": "memory", "max_bytes": 800}),
                json!({"config": {"max_bytes": 800}}),
            ),
            (
                "$JS.API.STREAM.CREATE.E",
                json!({"name": "E", "storage": "memory", "max_bytes": 200}),
                json!({"did_create": true}),
            ),
            // Growing E by one byte passes the account's memory, now all reserved.
            (
                "$JS.API.STREAM.UPDATE.E",
                json!({"name": "E", "storage": "memory", "max_bytes": 201}),
                json!({"error": {"err_code": 10028}}),
            ),
        ],
    );
    let mut required = limited(AccountLimits {
        max_bytes_required: true,
        ..AccountLimits::default()
    });
    check(
        &mut required,
        &[
            (
                "$JS.API.STREAM.CREATE.A",
                json!({"name": "A"}),
                json!({"error": {"code": 400, "err_code": 10113, "description": "account requires a stream config to have max bytes set"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.A",
                json!({"name": "A", "max_bytes": 1}),
                json!({"did_create": true}),
            ),
        ],
    );
}

#[test]
fn the_server_storage_bounds_reservations() {
    let server = ServerLimits {
        max_memory_bytes: Some(100),
        ..ServerLimits::default()
    };
    let mut api = JetStreamApi::new(MemoryStores, AccountLimits::default(), server, None);
    check(
        &mut api,
        &[
            (
                "$JS.API.STREAM.CREATE.A",
                json!({"name": "A", "storage": "memory", "max_bytes": 100}),
                json!({"did_create": true}),
            ),
            (
                "$JS.API.STREAM.CREATE.B",
                json!({"name": "B", "storage": "memory"}),
                json!({"error": {"err_code": 10028}}),
            ),
        ],
    );
}

#[test]
fn request_bodies_read_as_go_reads_them() {
    let mut api = api();
    check(
        &mut api,
        &[
            // Unknown fields are ignored and nulls read as absent, as encoding/json does.
            (
                "$JS.API.STREAM.CREATE.S",
                json!({"name": "S", "future_field": {"x": 1}, "subjects": null, "max_msg_size": 104857600}),
                json!({"did_create": true, "config": {"subjects": ["S"], "max_msg_size": 104857600}}),
            ),
            // max_msg_size is an int32 in nats-server: past it the JSON does not fit.
            (
                "$JS.API.STREAM.CREATE.T",
                json!({"name": "T", "max_msg_size": 3_000_000_000u64}),
                json!({"error": {"code": 400, "err_code": 10025, "description": "invalid JSON"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.T",
                json!({"name": "T", "max_msgs": "ten"}),
                json!({"error": {"err_code": 10025}}),
            ),
            (
                "$JS.API.STREAM.CREATE.a.b",
                json!({"name": "a.b"}),
                Value::Null,
            ),
            (
                "$JS.API.STREAM.CREATE.T",
                json!({"name": "T", "subjects": ["a.b", "a.>"]}),
                json!({"error": {"err_code": 10052, "description": "subject \"a.b\" overlaps with \"a.>\""}}),
            ),
            (
                "$JS.API.STREAM.CREATE.M",
                json!({"name": "M", "mirror": {"name": "S", "external": {"api": "$JS.API"}}}),
                json!({"error": {"code": 400, "err_code": 10021, "description": "stream external api prefix $JS.API must not overlap with $JS.API"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.M",
                json!({"name": "M", "sources": [{"name": "S", "external": {"api": "$JS.hub.API", "deliver": "x.*"}}]}),
                json!({"error": {"code": 400, "err_code": 10024}}),
            ),
            (
                "$JS.API.STREAM.CREATE.M",
                json!({"name": "M", "mirror": {"name": "S", "filter_subject": "other"}}),
                json!({"error": {"description": "mirror 'S' filter subject 'other' does not overlap with any origin stream subject"}}),
            ),
            (
                "$JS.API.STREAM.CREATE.M",
                json!({"name": "M", "mirror": {"name": "S"}}),
                json!({"did_create": true}),
            ),
            (
                "$JS.API.STREAM.CREATE.N",
                json!({"name": "N", "sources": [{"name": "M"}, {"name": "N"}]}),
                json!({"error": {"description": "detected cycle"}}),
            ),
        ],
    );
}

#[test]
fn templates_are_refused_as_a_current_nats_server_refuses_them() {
    let mut api = api();
    for subject in [
        "$JS.API.STREAM.TEMPLATE.CREATE.T",
        "$JS.API.STREAM.TEMPLATE.NAMES",
        "$JS.API.STREAM.TEMPLATE.INFO.T",
        "$JS.API.STREAM.TEMPLATE.DELETE.T",
    ] {
        assert!(
            api.request(subject, br#"{"name":"T"}"#, NOW).is_none(),
            "{subject}"
        );
    }
}

#[test]
fn api_counters_follow_nats_server() {
    let mut api = api();
    api.request(
        "$JS.API.STREAM.CREATE.S",
        br#"{"name":"S","subjects":["s"]}"#,
        NOW,
    );
    publish(&mut api, "s", &[], "x");
    // A found message is sent without being counted; a missing one counts as an error.
    api.request("$JS.API.STREAM.MSG.GET.S", br#"{"seq":1}"#, NOW);
    api.request("$JS.API.STREAM.MSG.GET.S", br#"{"seq":2}"#, NOW);
    // A delete that finds nothing is still an answered request.
    api.request("$JS.API.STREAM.MSG.DELETE.S", br#"{"seq":2}"#, NOW);
    check(
        &mut api,
        &[(
            "$JS.API.INFO",
            Value::Null,
            // INFO reports the counters from before itself.
            json!({"streams": 1, "memory": 0, "storage": 18, "api": {"total": 3, "errors": 1}}),
        )],
    );
}
