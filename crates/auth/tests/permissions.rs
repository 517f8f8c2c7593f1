//! Authorization as data: a `permissions` block, then (operation, expected) rows.
//! Pins nats-server's `pubAllowed`, `canSubscribe`/`queueMatches` and `checkDenySub`
//! (client.go), with the fixes noted in README.md.

use natrium_auth::{
    parse_authorization, CompiledPermissions, DeliveryFilter, PublishCheck, PublishVerdict,
    ResponsePermission, ResponseTracker,
};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

enum Op {
    /// Publish to a subject.
    Pub(&'static str),
    /// Subscribe to a subject, optionally in a queue.
    Sub(&'static str, Option<&'static str>),
    /// Deliver a message on a subject to a subscription (queue) after the given SUBs.
    Deliver(&'static str, Option<&'static str>),
}
use Op::*;

fn compile(permissions: &str) -> Arc<CompiledPermissions> {
    let text = format!(
        "authorization {{ users: [ {{user: u, password: p, permissions: {permissions}}} ] }}"
    );
    let root = natrium_config::parse_str(&text, Path::new("p.conf")).unwrap();
    let block = root.as_map().unwrap().get("authorization").unwrap().clone();
    let config = parse_authorization(&block).unwrap_or_else(|e| panic!("{permissions}: {e:?}"));
    let permissions = config.users[0].permissions.as_ref().unwrap();
    Arc::new(CompiledPermissions::new(permissions))
}

/// Runs the rows in order against one connection: SUBs that succeed may switch on the
/// delivery filter, as on a real connection.
fn check(permissions: &str, rows: &[(Op, bool)]) {
    let compiled = compile(permissions);
    let mut publish = PublishCheck::new(compiled.clone());
    let mut delivery = DeliveryFilter::new(compiled.clone());
    for (op, expected) in rows {
        let (what, got) = match *op {
            Pub(subject) => {
                // Twice: the second answer comes from the cache and must agree.
                let first = publish.check(subject.as_bytes()) == PublishVerdict::Allowed;
                let second = publish.check(subject.as_bytes()) == PublishVerdict::Allowed;
                assert_eq!(first, second, "cache changed the answer for {subject}");
                (format!("PUB {subject}"), first)
            }
            Sub(subject, queue) => {
                let (s, q) = (subject.as_bytes(), queue.map(str::as_bytes));
                let allowed = compiled.subscribe_allowed(s, q);
                if allowed && compiled.needs_delivery_filter(s, q) {
                    delivery.activate();
                }
                (format!("SUB {subject} {queue:?}"), allowed)
            }
            Deliver(subject, queue) => {
                let delivered = !delivery.denies(subject.as_bytes(), queue.map(str::as_bytes));
                (format!("deliver {subject} to queue {queue:?}"), delivered)
            }
        };
        assert_eq!(got, *expected, "{permissions}: {what}");
    }
}

#[test]
fn publish_allow_and_deny_with_wildcards() {
    check(
        "{publish: {allow: [\"foo.*\", \"bar.>\"], deny: [\"foo.secret\", \"bar.*.private\"]}}",
        &[
            (Pub("foo.a"), true),
            (Pub("foo.secret"), false),
            (Pub("foo"), false),
            (Pub("foo.a.b"), false),
            (Pub("bar.x.y"), true),
            (Pub("bar.x.private"), false),
            (Pub("bar"), false),
            (Pub("baz"), false),
            (Pub("foo."), false),
        ],
    );
    check(
        "{publish: {deny: \">\"}}",
        &[(Pub("anything"), false), (Pub("a.b"), false)],
    );
    check(
        "{publish: \"only.this\"}",
        &[(Pub("only.this"), true), (Pub("only.that"), false)],
    );
    // An empty list is Go's nil slice: no restriction at all.
    check("{publish: []}", &[(Pub("x"), true)]);
}

#[test]
fn subscribe_allow_and_deny_with_wildcards() {
    check(
        "{subscribe: {allow: [\"foo.*\", \"bar.>\"], deny: \"bar.secret.>\"}}",
        &[
            (Sub("foo.a", None), true),
            (Sub("foo.*", None), true),
            (Sub("foo.a.b", None), false),
            // nats-server would allow this (its Match lets `*` match a `>` token); we refuse
            // a subscription broader than the allow entry.
            (Sub("foo.>", None), false),
            (Sub("bar.x", None), true),
            (Sub("bar.>", None), true),
            (Sub("bar.secret.x", None), false),
            (Sub("baz", None), false),
        ],
    );
}

#[test]
fn queue_permissions_as_nats_server() {
    // allow = ["foo"]: any queue.
    check(
        "{subscribe: {allow: \"foo\"}}",
        &[(Sub("foo", None), true), (Sub("foo", Some("any")), true)],
    );
    // allow = ["foo v1"]: only that queue, no plain subscription.
    check(
        "{subscribe: {allow: \"foo v1\"}}",
        &[
            (Sub("foo", None), false),
            (Sub("foo", Some("v1")), true),
            (Sub("foo", Some("v2")), false),
        ],
    );
    // allow = ["foo", "foo v1"]: plain foo, but queue only v1.
    check(
        "{subscribe: {allow: [\"foo\", \"foo v1\"]}}",
        &[
            (Sub("foo", None), true),
            (Sub("foo", Some("v1")), true),
            (Sub("foo", Some("v2")), false),
        ],
    );
    // Wildcard queue names.
    check(
        "{subscribe: {allow: \"foo.* v1.*\"}}",
        &[
            (Sub("foo.bar", Some("v1.a")), true),
            (Sub("foo.bar", Some("v1.*")), true),
            (Sub("foo.bar", Some("v2.a")), false),
            (Sub("foo.bar", Some("v1")), false),
        ],
    );
    // Deny a queue: other queues and plain subscriptions stay allowed.
    check(
        "{subscribe: {deny: \"foo q1\"}}",
        &[
            (Sub("foo", Some("q1")), false),
            (Sub("foo", Some("q2")), true),
            (Sub("foo", None), true),
        ],
    );
    // A plain deny is not bypassed by a queue (nats-server main's fix of 2.9).
    check(
        "{subscribe: {deny: [\"foo\", \"foo q1\"]}}",
        &[(Sub("foo", Some("q2")), false), (Sub("foo", None), false)],
    );
    // The reserved system queue group is never a client's.
    check("{subscribe: \">\"}", &[(Sub("foo", Some("_sys_")), false)]);
}

#[test]
fn deny_at_delivery_for_wildcard_subscriptions() {
    check(
        "{subscribe: {deny: [\"foo.secret\", \"bar.* q1\"]}}",
        &[
            (Deliver("foo.secret", None), true), // filter off: no wildcard SUB yet
            (Sub("foo.secret", None), false),
            (Sub("foo.*", None), true), // allowed, and switches the filter on
            (Deliver("foo.public", None), true),
            (Deliver("foo.secret", None), false),
            (Deliver("foo.secret", None), false), // cached
            (Sub("bar.>", Some("q1")), false),    // "bar.*" matches the ">" token literally
            (Sub("*.x", Some("q1")), true),
            (Deliver("bar.x", Some("q1")), false),
            (Deliver("bar.x", Some("q2")), true),
            (Deliver("bar.x", None), true),
        ],
    );
    // Deny "foo.*" refuses SUB "foo.>" outright, as nats-server's Match does.
    check(
        "{subscribe: {deny: \"foo.*\"}}",
        &[(Sub("foo.>", None), false), (Sub("foo.a.>", None), true)],
    );
}

#[test]
fn allow_responses_turns_publish_into_deny_by_default() {
    let compiled = compile("{allow_responses: true}");
    let mut publish = PublishCheck::new(compiled.clone());
    assert_eq!(publish.check(b"anything"), PublishVerdict::CheckResponses);
    let compiled = compile("{publish: \"ok.>\", allow_responses: {max: 2, expires: \"1s\"}}");
    assert_eq!(
        compiled.response(),
        Some(ResponsePermission {
            max_msgs: Some(2),
            expires: Some(Duration::from_secs(1))
        })
    );
    let mut publish = PublishCheck::new(compiled);
    assert_eq!(publish.check(b"ok.x"), PublishVerdict::Allowed);
    assert_eq!(publish.check(b"_INBOX.1"), PublishVerdict::CheckResponses);
}

enum Step {
    Receive(&'static str, u64),
    Respond(&'static str, u64, bool),
}
use Step::*;

/// Reply permission rows: (ms since start, event, expected for responses).
fn check_responses(permission: ResponsePermission, steps: &[Step]) {
    let start = Instant::now();
    let at = |ms: u64| start + Duration::from_millis(ms);
    let mut tracker = ResponseTracker::new(permission);
    for step in steps {
        match *step {
            Receive(reply, ms) => tracker.record(reply.as_bytes(), at(ms)),
            Respond(subject, ms, expected) => assert_eq!(
                tracker.try_respond(subject.as_bytes(), at(ms)),
                expected,
                "respond to {subject} at {ms} ms with {permission:?}"
            ),
        }
    }
}

#[test]
fn responses_once_and_expiry_with_injected_time() {
    check_responses(
        ResponsePermission::default(),
        &[
            Respond("_INBOX.a", 0, false),
            Receive("_INBOX.a", 0),
            Respond("_INBOX.a", 10, true),
            Respond("_INBOX.a", 20, false), // only once
            Respond("_INBOX.a", 30, false),
            Receive("_INBOX.b", 0),
            Respond("_INBOX.b", 120_000, true), // exactly 2 minutes: not yet expired
            Receive("_INBOX.c", 0),
            Respond("_INBOX.c", 120_001, false), // expired
        ],
    );
    check_responses(
        ResponsePermission {
            max_msgs: Some(3),
            expires: Some(Duration::from_secs(1)),
        },
        &[
            Receive("r", 0),
            Respond("r", 1, true),
            Respond("r", 2, true),
            Respond("r", 3, true),
            Respond("r", 4, false),
            Receive("r", 5), // received again: count and clock restart
            Respond("r", 1_005, true),
            Respond("r", 1_006, false), // expired now
        ],
    );
    check_responses(
        ResponsePermission {
            max_msgs: None,
            expires: None,
        },
        &[
            Receive("r", 0),
            Respond("r", 1, true),
            Respond("r", 10_000_000, true),
            Respond("r", 20_000_000, true),
        ],
    );
}

#[test]
fn tracked_replies_stay_bounded() {
    let start = Instant::now();
    let mut tracker = ResponseTracker::new(ResponsePermission {
        max_msgs: None,
        expires: None,
    });
    for i in 0..3 * natrium_auth::TRACKED_REPLIES_MAX {
        let reply = format!("_INBOX.{i}");
        tracker.record(reply.as_bytes(), start + Duration::from_micros(i as u64));
        assert!(tracker.len() <= natrium_auth::TRACKED_REPLIES_MAX);
    }
    // The newest survive.
    let newest = format!("_INBOX.{}", 3 * natrium_auth::TRACKED_REPLIES_MAX - 1);
    assert!(tracker.try_respond(newest.as_bytes(), start));
    // One `now` for every delivery (a whole read batch) must not defeat the bound.
    let mut tracker = ResponseTracker::new(ResponsePermission::default());
    for i in 0..2 * natrium_auth::TRACKED_REPLIES_MAX {
        tracker.record(format!("_INBOX.{i}").as_bytes(), start);
        assert!(tracker.len() <= natrium_auth::TRACKED_REPLIES_MAX);
    }
}

#[test]
fn publish_cache_stays_bounded_and_correct() {
    let compiled = compile("{publish: {allow: \"a.*\", deny: \"a.9\"}}");
    let mut publish = PublishCheck::new(compiled);
    for round in 0..3 {
        for i in 0..1000 {
            let subject = format!("a.{i}");
            let expected = if i == 9 {
                PublishVerdict::Denied
            } else {
                PublishVerdict::Allowed
            };
            assert_eq!(
                publish.check(subject.as_bytes()),
                expected,
                "round {round} {subject}"
            );
        }
    }
}
