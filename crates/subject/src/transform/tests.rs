use super::{DestinationError, SubjectTransform, TransformError};

/// Applies `source` → `destination` to each subject and compares with what nats-server
/// answers.
fn check(source: &str, destination: &str, cases: &[(&str, &str)]) {
    let transform = SubjectTransform::for_mapping(source, destination)
        .unwrap_or_else(|e| panic!("{source} -> {destination}: {e}"));
    for &(subject, expected) in cases {
        let mut out = Vec::new();
        assert!(
            transform.apply(subject.as_bytes(), 0, &mut out),
            "{source} does not match {subject}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            expected,
            "{source} -> {destination} on {subject}"
        );
    }
}

/// Outputs recorded from nats-server 2.9.10 (`mappings {}` in a config, a client
/// subscribed to `>` publishing each subject).
#[test]
fn partition_hashes_as_nats_server_does() {
    check(
        "p.*.*",
        "part.{{partition(10,1,2)}}.$1.$2",
        &[
            ("p.a.b", "part.6.a.b"),
            ("p.b.a", "part.8.b.a"),
            ("p.foo.bar", "part.0.foo.bar"),
            ("p.1.2", "part.0.1.2"),
            ("p.x.y", "part.2.x.y"),
            ("p.hello.world", "part.7.hello.world"),
            ("p.order.42", "part.3.order.42"),
        ],
    );
    check(
        "q.*",
        "q2.{{partition(5,1)}}.$1",
        &[
            ("q.a", "q2.0.a"),
            ("q.b", "q2.2.b"),
            ("q.c", "q2.3.c"),
            ("q.foo", "q2.3.foo"),
            ("q.bar", "q2.2.bar"),
            ("q.12345", "q2.4.12345"),
        ],
    );
}

#[test]
fn partition_without_positions_hashes_the_whole_subject() {
    // nats-server 2.9.10 needs a position, so these follow the newest source: FNV-1a of the
    // dotted subject ("q.a" hashes to 0x0294ff35, "orders" to 0x325e96ec).
    check("q.*", "{{partition(1000)}}", &[("q.a", "93")]);
    check("orders", "o.{{partition(7)}}", &[("orders", "o.3")]);
    // Positions are ignored when the source has no wildcards.
    check("orders", "o.{{partition(7,1)}}", &[("orders", "o.3")]);
    check("q.*", "{{partition(0)}}.$1", &[("q.a", "0.a")]);
}

#[test]
fn split_functions_match_nats_server() {
    check(
        "s.*",
        "s2.{{split(1,-)}}",
        &[
            ("s.-a--b-c-", "s2.a.b.c"),
            ("s.abc", "s2.abc"),
            ("s.-abc", "s2.abc"),
            ("s.abc-", "s2.abc"),
            // nats-server's separator rule leaves an empty token here.
            ("s.--abc", "s2..abc"),
        ],
    );
    check("s.*", "{{split(1,)}}", &[("s.abc", "a.b.c")]);
    check("s.*", "{{split(1,ab)}}", &[("s.xabyabz", "x.y.z")]);
    check(
        "sfl.*",
        "sfl2.{{splitFromLeft(1,3)}}",
        &[
            ("sfl.abcdef", "sfl2.abc.def"),
            ("sfl.ab", "sfl2.ab"),
            ("sfl.abc", "sfl2.abc"),
        ],
    );
    check(
        "sfr.*",
        "sfr2.{{splitFromRight(1,3)}}",
        &[("sfr.abcdef", "sfr2.abc.def"), ("sfr.abcd", "sfr2.a.bcd")],
    );
    check("x.*", "{{SplitFromLeft(1,0)}}", &[("x.abc", "abc")]);
    check("x.*", "{{splitFromLeft(1,-2)}}", &[("x.abc", "abc")]);
}

#[test]
fn slice_functions_match_nats_server() {
    check(
        "sll.*",
        "sll2.{{sliceFromLeft(1,3)}}",
        &[
            ("sll.abcdefgh", "sll2.abc.def.gh"),
            ("sll.abcdef", "sll2.abc.def"),
            ("sll.ab", "sll2.ab"),
        ],
    );
    check(
        "slr.*",
        "slr2.{{sliceFromRight(1,3)}}",
        &[
            ("slr.abcdefgh", "slr2.ab.cde.fgh"),
            ("slr.abcdef", "slr2.abc.def"),
            ("slr.ab", "slr2.ab"),
        ],
    );
}

#[test]
fn wildcards_and_rest_reorder_tokens() {
    check("w.*.*", "w2.$2.{{wildcard(1)}}", &[("w.a.b", "w2.b.a")]);
    check("foo.*.*", "bar.$2.$1", &[("foo.A.B", "bar.B.A")]);
    check(
        "foo.*.*",
        "bar.{{ Wildcard( 2 ) }}.{{wildcard(1)}}",
        &[("foo.A.B", "bar.B.A")],
    );
    check(
        "r.*.>",
        "r2.$1.>",
        &[("r.x.y.z", "r2.x.y.z"), ("r.x.y", "r2.x.y")],
    );
    check(">", ">", &[("a.b", "a.b")]);
    check("a.>", ">", &[("a.b.c", "b.c")]);
    check("foo", "bar.baz", &[("foo", "bar.baz")]);
    // A `$` not followed by a number is a literal token.
    check("foo.*", "$x.$1", &[("foo.a", "$x.a")]);
    // `$0` finds no wildcard in nats-server's table and takes the first token.
    check("foo.*", "$0.$1", &[("foo.a", "foo.a")]);
    // Not in `ValidateMapping`'s list, but stream transforms know them.
    let left = SubjectTransform::new("x.*", "{{left(1,2)}}.{{right(1,2)}}").unwrap();
    let mut out = Vec::new();
    left.transform(b"x.abcd", 0, &mut out);
    assert_eq!(out, b"ab.cd");
}

#[test]
fn random_takes_the_number_passed_in() {
    let transform = SubjectTransform::for_mapping("foo", "bar.{{random(10)}}").unwrap();
    for (random, expected) in [(0u32, "bar.0"), (13, "bar.3"), (u32::MAX, "bar.7")] {
        let mut out = Vec::new();
        transform.transform(b"foo", random, &mut out);
        assert_eq!(String::from_utf8_lossy(&out), expected, "{random}");
    }
}

#[test]
fn no_match_leaves_the_buffer_alone() {
    let transform = SubjectTransform::new("foo.*", "bar.$1").unwrap();
    let mut out = Vec::new();
    assert!(!transform.apply(b"baz.a", 0, &mut out));
    assert!(!transform.apply(b"foo.a.b", 0, &mut out));
    assert!(out.is_empty());
}

fn destination(kind: DestinationError, token: &str) -> TransformError {
    TransformError::Destination {
        kind,
        token: token.to_string(),
    }
}

/// Bad destinations and nats-server's errors for them (texts as `nats-server -t` prints
/// them after "Error adding mapping for ...").
#[test]
fn bad_destinations_are_refused_with_nats_server_errors() {
    use DestinationError::*;
    let cases: &[(&str, &str, TransformError, &str)] = &[
        (
            "foo.*",
            "bar.$2",
            destination(IndexOutOfRange, "$2: [2]"),
            "invalid mapping destination: wildcard index out of range in $2: [2]",
        ),
        (
            "foo",
            "bar.$1",
            destination(IndexOutOfRange, "$1"),
            "invalid mapping destination: wildcard index out of range in $1",
        ),
        (
            "foo",
            "{{split(1,-)}}",
            destination(IndexOutOfRange, "{{split(1,-)}}"),
            "invalid mapping destination: wildcard index out of range in {{split(1,-)}}",
        ),
        (
            "foo.*",
            "bar.{{nope(1)}}",
            destination(UnknownFunction, "{{nope(1)}}"),
            "invalid mapping destination: unknown function in {{nope(1)}}",
        ),
        (
            "foo.*",
            "{{left(1,2)}}",
            destination(UnknownFunction, "{{left(1,2)}}"),
            "invalid mapping destination: unknown function in {{left(1,2)}}",
        ),
        (
            "foo.*",
            "bar.{{split(1)}}",
            destination(NotEnoughArguments, "{{split(1)}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{split(1)}}",
        ),
        (
            "foo.*",
            "{{wildcard()}}",
            destination(NotEnoughArguments, "{{wildcard()}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}",
        ),
        (
            "foo.*",
            "{{wildcard(1,2)}}",
            destination(TooManyArguments, "{{wildcard(1,2)}}"),
            "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}",
        ),
        (
            "foo.*",
            "{{sliceFromLeft(1,2,3)}}",
            destination(TooManyArguments, "{{sliceFromLeft(1,2,3)}}"),
            "invalid mapping destination: too many arguments passed to the function in {{sliceFromLeft(1,2,3)}}",
        ),
        (
            "foo.*",
            "{{partition(a,1)}}",
            destination(InvalidArgument, "{{partition(a,1)}}"),
            "invalid mapping destination: function argument is invalid or in the wrong format in {{partition(a,1)}}",
        ),
        (
            "foo.*",
            "{{splitFromRight(1,x)}}",
            destination(InvalidArgument, "{{splitFromRight(1,x)}}"),
            "invalid mapping destination: function argument is invalid or in the wrong format in {{splitFromRight(1,x)}}",
        ),
        (
            "foo.*",
            "{{split(1,a b)}}",
            destination(InvalidArgument, "{{split(1,a b)}}"),
            "invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,a b)}}",
        ),
        (
            "foo.*",
            "{{random(1,2)}}",
            destination(NotEnoughArguments, "{{random(1,2)}}"),
            "invalid mapping destination: not enough arguments passed to the function in {{random(1,2)}}",
        ),
        (
            "foo.*",
            "bar..x",
            destination(InvalidSubject, ""),
            "invalid mapping destination: invalid transform",
        ),
        (
            "foo.*",
            "bar x",
            destination(InvalidSubject, ""),
            "invalid mapping destination: invalid transform",
        ),
        (
            "foo",
            "",
            destination(InvalidSubject, ""),
            "invalid mapping destination: invalid transform",
        ),
        ("foo.*", "bar.*", TransformError::BadSubject, "invalid subject"),
        ("foo.>", "bar", TransformError::BadSubject, "invalid subject"),
        ("foo", "bar.>", TransformError::BadSubject, "invalid subject"),
        ("foo..x", "bar", TransformError::BadSubject, "invalid subject"),
    ];
    for (source, dest, error, text) in cases {
        let got = SubjectTransform::for_mapping(source, dest);
        assert_eq!(got.as_ref().err(), Some(error), "{source} -> {dest}");
        assert_eq!(error.to_string(), *text);
    }
}

#[test]
fn an_empty_source_is_every_subject() {
    let transform = SubjectTransform::new("", "rp.>").unwrap();
    assert_eq!(transform.source(), ">");
    let mut out = Vec::new();
    assert!(transform.apply(b"orders.1", 0, &mut out));
    assert_eq!(out, b"rp.orders.1");
}
