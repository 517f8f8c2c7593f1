use super::*;

fn to(subject: &str, weight: u8) -> MapDestination {
    MapDestination {
        subject: subject.to_string(),
        weight,
        cluster: String::new(),
    }
}

fn in_cluster(subject: &str, weight: u8, cluster: &str) -> MapDestination {
    MapDestination {
        cluster: cluster.to_string(),
        ..to(subject, weight)
    }
}

fn build(mappings: &[(&str, &[MapDestination])]) -> Mappings {
    let mut table = Mappings::new();
    for (source, destinations) in mappings {
        table.add(Mapping::new(source, destinations).unwrap());
    }
    table
}

/// A `random` whose low half draws `draw` (0..100).
fn drawing(draw: u64) -> u64 {
    // The smallest 32-bit value whose multiply-shift lands on `draw`.
    (draw << 32).div_ceil(100)
}

/// Where each draw from 0 to 99 sends `subject`: counts per outcome, `None` for dropped.
fn shares(
    table: &Mappings,
    subject: &str,
    cluster: &str,
) -> std::collections::BTreeMap<Option<String>, u32> {
    let mut counts = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for draw in 0..100 {
        let outcome = match table.map(subject.as_bytes(), cluster, drawing(draw), &mut out) {
            Mapped::To => Some(String::from_utf8(out.clone()).unwrap()),
            Mapped::Dropped => None,
            Mapped::Unmapped => Some(subject.to_string()),
        };
        *counts.entry(outcome).or_default() += 1;
    }
    counts
}

fn expect(pairs: &[(Option<&str>, u32)]) -> std::collections::BTreeMap<Option<String>, u32> {
    pairs
        .iter()
        .map(|(subject, count)| (subject.map(str::to_string), *count))
        .collect()
}

#[test]
fn draws_cover_every_share_exactly() {
    for draw in 0..100 {
        let low = drawing(draw) & u64::from(u32::MAX);
        assert_eq!((low * 100) >> 32, draw);
    }
}

#[test]
fn weights_split_the_draws() {
    let table = build(&[("foo", &[to("a", 80), to("b", 20)])]);
    assert_eq!(
        shares(&table, "foo", ""),
        expect(&[(Some("a"), 80), (Some("b"), 20)])
    );
}

#[test]
fn what_weights_leave_goes_to_the_source_unless_it_is_listed() {
    // nats-server 2.9.10 sends half of `foo` to `a` and half on as `foo`...
    let table = build(&[("foo", &[to("a", 50)])]);
    assert_eq!(
        shares(&table, "foo", ""),
        expect(&[(Some("a"), 50), (Some("foo"), 50)])
    );
    // ...and drops half of `bar` mapped to itself at 50%.
    let table = build(&[("bar", &[to("bar", 50)])]);
    assert_eq!(
        shares(&table, "bar", ""),
        expect(&[(Some("bar"), 50), (None, 50)])
    );
    // The source keeps its wildcards' tokens.
    let table = table_with_wildcards();
    assert_eq!(
        shares(&table, "orders.eu.7", ""),
        expect(&[(Some("new.7.eu"), 30), (Some("orders.eu.7"), 70)])
    );
}

fn table_with_wildcards() -> Mappings {
    build(&[("orders.*.*", &[to("new.$2.$1", 30)])])
}

#[test]
fn cluster_scoped_destinations_apply_only_in_their_cluster() {
    let table = build(&[(
        "foo",
        &[
            to("a", 100),
            in_cluster("east", 60, "c1"),
            in_cluster("west", 100, "c2"),
        ],
    )]);
    assert_eq!(shares(&table, "foo", ""), expect(&[(Some("a"), 100)]));
    assert_eq!(shares(&table, "foo", "other"), expect(&[(Some("a"), 100)]));
    assert_eq!(
        shares(&table, "foo", "c1"),
        expect(&[(Some("east"), 60), (Some("foo"), 40)])
    );
    assert_eq!(shares(&table, "foo", "c2"), expect(&[(Some("west"), 100)]));
    // Outside its cluster, a mapping with only scoped destinations leaves subjects alone.
    let table = build(&[("bar", &[in_cluster("x", 100, "c1")])]);
    assert_eq!(shares(&table, "bar", ""), expect(&[(Some("bar"), 100)]));
}

#[test]
fn the_first_matching_mapping_wins() {
    let table = build(&[
        ("foo.*", &[MapDestination::always("wild.$1")]),
        ("foo.bar", &[MapDestination::always("literal")]),
        ("baz", &[MapDestination::always("z")]),
    ]);
    let mut out = Vec::new();
    assert_eq!(table.map(b"foo.bar", "", 0, &mut out), Mapped::To);
    assert_eq!(out, b"wild.bar");
    assert_eq!(table.map(b"baz", "", 0, &mut out), Mapped::To);
    assert_eq!(out, b"z");
    assert_eq!(table.map(b"qux", "", 0, &mut out), Mapped::Unmapped);
}

#[test]
fn adding_a_source_again_replaces_it_in_place() {
    let mut table = build(&[
        ("foo", &[MapDestination::always("a")]),
        ("bar", &[MapDestination::always("b")]),
    ]);
    table.add(Mapping::new("foo", &[MapDestination::always("c")]).unwrap());
    let sources: Vec<&str> = table.iter().map(Mapping::source).collect();
    assert_eq!(sources, ["foo", "bar"]);
    let mut out = Vec::new();
    table.map(b"foo", "", 0, &mut out);
    assert_eq!(out, b"c");
}

#[test]
fn bad_mappings_are_refused_with_nats_server_errors() {
    let cases: &[(&str, Vec<MapDestination>, &str)] = &[
        (
            "foo",
            vec![to("a", 80), to("b", 30)],
            "total weight needs to be <= 100",
        ),
        (
            "foo",
            vec![to("a", 101)],
            "individual weights need to be <= 100",
        ),
        (
            "foo",
            vec![to("a", 50), to("a", 10)],
            "duplicate entry for \"a\"",
        ),
        ("foo bar", vec![to("a", 100)], "invalid subject"),
        (
            "foo.*",
            vec![to("a.$2", 100)],
            "invalid mapping destination: wildcard index out of range in $2: [2]",
        ),
    ];
    for (source, destinations, text) in cases {
        let error = Mapping::new(source, destinations).unwrap_err();
        assert_eq!(error.to_string(), *text, "{source}");
    }
    // Totals are per cluster in the newest nats-server.
    assert!(Mapping::new("foo", &[to("a", 80), in_cluster("b", 80, "c1")]).is_ok());
    assert_eq!(
        Mapping::new(
            "foo",
            &[in_cluster("a", 80, "c1"), in_cluster("b", 30, "c1")]
        ),
        Err(MappingError::TotalWeightOver100)
    );
}

#[test]
fn random_destinations_take_the_high_half() {
    let table = build(&[("foo", &[MapDestination::always("bar.{{random(10)}}")])]);
    let mut out = Vec::new();
    table.map(b"foo", "", 7 << 32, &mut out);
    assert_eq!(out, b"bar.7");
}
