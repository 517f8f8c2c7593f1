//! Mirrors, sources, republish and subject transforms (nats-server's `TestJetStreamMirror*`,
//! `TestJetStreamSource*`, `TestJetStreamRePublish*` in spirit).

use super::*;

fn create(api: &mut JetStreamApi<MemoryStores>, config: Value) {
    let name = config["name"].as_str().unwrap().to_string();
    let mut config = config;
    config["storage"] = "memory".into();
    check(
        api,
        &[(
            &format!("$JS.API.STREAM.CREATE.{name}"),
            config,
            json!({"config": {"name": name}}),
        )],
    );
}

/// (seq, subject, header value) of every live message of `stream`.
fn messages(
    api: &mut JetStreamApi<MemoryStores>,
    stream: &str,
    header: &str,
) -> Vec<(u64, String, String)> {
    let store = api.stream_mut(stream).unwrap().store();
    let state = store.state();
    (state.first_seq..=state.last_seq)
        .filter_map(|seq| store.load(seq).ok())
        .map(|m| {
            let value = crate::headers::get_str(&m.headers, header).unwrap_or_default();
            (m.seq, m.subject.to_string(), value.to_string())
        })
        .collect()
}

fn owned(expected: &[(u64, &str, &str)]) -> Vec<(u64, String, String)> {
    expected
        .iter()
        .map(|(seq, subject, value)| (*seq, subject.to_string(), value.to_string()))
        .collect()
}

#[test]
fn a_mirror_keeps_origin_sequences_and_skips_what_the_origin_lost() {
    let mut api = api();
    create(&mut api, json!({"name": "O", "subjects": ["o.>"]}));
    for subject in ["o.a", "o.b", "o.a", "o.c"] {
        publish(&mut api, subject, &[("H", subject)], "x");
    }
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.MSG.DELETE.O",
            json!({"seq": 3}),
            json!({"success": true}),
        )],
    );
    create(&mut api, json!({"name": "M", "mirror": {"name": "O"}}));
    api.copy_sources(NOW);
    assert_eq!(
        messages(&mut api, "M", "H"),
        owned(&[(1, "o.a", "o.a"), (2, "o.b", "o.b"), (4, "o.c", "o.c")])
    );
    publish(&mut api, "o.d", &[], "y");
    api.copy_sources(NOW + 5);
    assert_eq!(messages(&mut api, "M", "H").last().unwrap().0, 5);
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.INFO.M",
            Value::Null,
            json!({"mirror": {"name": "O", "lag": 0, "active": 0}, "state": {"messages": 4}}),
        )],
    );
}

#[test]
fn a_mirror_honours_filter_and_start_sequence() {
    let mut api = api();
    create(&mut api, json!({"name": "O", "subjects": ["o.>"]}));
    for subject in ["o.a", "o.b", "o.a", "o.b", "o.a"] {
        publish(&mut api, subject, &[], "x");
    }
    create(
        &mut api,
        json!({"name": "M", "mirror": {"name": "O", "filter_subject": "o.a", "opt_start_seq": 2}}),
    );
    api.copy_sources(NOW);
    let seqs: Vec<u64> = messages(&mut api, "M", "").iter().map(|m| m.0).collect();
    assert_eq!(seqs, [3, 5]);
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.INFO.M",
            Value::Null,
            json!({"state": {"first_seq": 3, "last_seq": 5}}),
        )],
    );
}

#[test]
fn a_mirror_of_a_missing_origin_reports_no_activity_and_catches_up_later() {
    let mut api = api();
    create(&mut api, json!({"name": "M", "mirror": {"name": "O"}}));
    api.copy_sources(NOW);
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.INFO.M",
            Value::Null,
            json!({"mirror": {"name": "O", "active": -1}}),
        )],
    );
    create(&mut api, json!({"name": "O", "subjects": ["o.>"]}));
    publish(&mut api, "o.a", &[], "x");
    api.copy_sources(NOW);
    assert_eq!(messages(&mut api, "M", "").len(), 1);
}

#[test]
fn sources_merge_with_their_header_and_resume_from_it() {
    let mut api = api();
    create(&mut api, json!({"name": "A", "subjects": ["a.>"]}));
    create(&mut api, json!({"name": "B", "subjects": ["b.>"]}));
    publish(&mut api, "a.1", &[], "x");
    publish(&mut api, "b.1", &[], "x");
    publish(&mut api, "a.2", &[], "x");
    create(
        &mut api,
        json!({"name": "S", "subjects": ["s.>"], "sources": [{"name": "A"}, {"name": "B"}]}),
    );
    api.copy_sources(NOW);
    let source = crate::headers::STREAM_SOURCE;
    assert_eq!(
        messages(&mut api, "S", source),
        owned(&[(1, "a.1", "A 1"), (2, "a.2", "A 2"), (3, "b.1", "B 1")])
    );
    // A restart forgets progress: it is read back from the headers, so nothing is copied twice.
    api.sourcing.clear();
    publish(&mut api, "b.2", &[], "x");
    publish(&mut api, "s.own", &[], "x");
    api.copy_sources(NOW);
    assert_eq!(
        messages(&mut api, "S", source)[3..],
        owned(&[(4, "s.own", ""), (5, "b.2", "B 2")])
    );
    check(
        &mut api,
        &[(
            "$JS.API.STREAM.INFO.S",
            Value::Null,
            json!({"sources": [{"name": "A", "lag": 0, "active": 0}, {"name": "B", "lag": 0, "active": 0}]}),
        )],
    );
}

#[test]
fn republish_sends_a_copy_with_the_stored_position() {
    let mut api = api();
    create(
        &mut api,
        json!({"name": "R", "subjects": ["r.*"], "republish": {"src": "r.*", "dest": "rp.$1"}}),
    );
    publish(&mut api, "r.a", &[], "one");
    publish(&mut api, "r.a", &[], "two");
    let mut out = Vec::new();
    api.drain_outbox(crate::engine::account_name("ACC"), &mut out);
    let sent: Vec<(&str, Option<u64>, Option<u64>)> = out
        .iter()
        .map(|o| {
            let last = crate::headers::get_u64(&o.headers, crate::headers::LAST_SEQUENCE);
            let seq = crate::headers::get_u64(&o.headers, crate::headers::SEQUENCE);
            (&*o.deliver, seq, last)
        })
        .collect();
    assert_eq!(
        sent,
        [("rp.a", Some(1), Some(0)), ("rp.a", Some(2), Some(1))]
    );
    assert_eq!(&out[1].payload[..], b"two");
    assert!(out.iter().all(|o| &*o.account == "ACC"));
}

#[test]
fn a_subject_transform_changes_the_stored_subject() {
    let mut api = api();
    create(
        &mut api,
        json!({"name": "T", "subjects": ["in.>"], "subject_transform": {"src": "in.*.*", "dest": "out.$2.$1"}}),
    );
    assert_eq!(publish(&mut api, "in.a.b", &[], "x")["seq"], 1);
    publish(&mut api, "in.c", &[], "x");
    let subjects: Vec<String> = messages(&mut api, "T", "")
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(subjects, ["out.b.a", "in.c"]);
}
