//! A stream's `subject_transform` (2.10) and `republish` destinations, built with the
//! shared [`SubjectTransform`] as nats-server builds both with `NewSubjectTransform`.
//!
//! A transform that does not build leaves the subject as it is (the stream stores or
//! republishes without transforming rather than guessing); `checkStreamCfg`'s own checks,
//! in `check/`, decide which configurations are refused.

use natrium_subject::transform::SubjectTransform;

/// `source` → `destination` applied to `subject`; `None` when the transform does not build
/// or `subject` does not match its source. `random` feeds `{{random(n)}}`.
pub fn apply(source: &str, destination: &str, subject: &str, random: u32) -> Option<String> {
    let transform = SubjectTransform::new(source, destination).ok()?;
    let mut out = Vec::with_capacity(subject.len() + destination.len());
    if !transform.apply(subject.as_bytes(), random, &mut out) {
        return None;
    }
    // Functions cut tokens by bytes, as Go does; a cut inside a character is no subject.
    String::from_utf8(out).ok()
}

/// The subject a message published on `subject` is stored under: its stream's
/// `subject_transform` applied, `None` when there is none or it does not match.
pub fn for_stream(
    config: &super::config::StreamConfig,
    subject: &str,
    random: u32,
) -> Option<String> {
    let transform = config.subject_transform.as_ref()?;
    apply(&transform.src, &transform.dest, subject, random)
}

/// A number for `{{random(n)}}` drawn from the publish time, so the engine stays a pure
/// function of its inputs (it reads no clock and keeps no generator).
pub fn random_from(now: i64) -> u32 {
    // SplitMix64's finaliser: nearby times give unrelated numbers.
    let mut x = now as u64;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

#[cfg(test)]
mod tests {
    use super::apply;

    /// (source, destination, subject, expected): nats-server's `TestSubjectTransforms` cases
    /// as streams use them.
    const CASES: &[(&str, &str, &str, Option<&str>)] = &[
        ("foo.*.*", "bar.$2.$1", "foo.A.B", Some("bar.B.A")),
        (
            "foo.*.*",
            "bar.{{wildcard(2)}}.{{Wildcard(1)}}",
            "foo.A.B",
            Some("bar.B.A"),
        ),
        ("foo.>", "bar.>", "foo.A.B", Some("bar.A.B")),
        ("", "rp.>", "orders.1", Some("rp.orders.1")),
        ("in.*", "out.{{split(1,-)}}", "in.a-b", Some("out.a.b")),
        (
            "in.*",
            "out.{{partition(10,1)}}.$1",
            "in.ab",
            Some("out.6.ab"),
        ),
        ("foo.*", "bar.$1", "baz.A", None),
        ("foo.*", "bar.$1", "foo.A.B", None),
    ];

    #[test]
    fn transforms_apply_to_matching_subjects() {
        for &(source, destination, subject, expected) in CASES {
            assert_eq!(
                apply(source, destination, subject, 0).as_deref(),
                expected,
                "{source} -> {destination} on {subject}"
            );
        }
    }

    #[test]
    fn transforms_nats_server_refuses_leave_the_subject_alone() {
        for (source, destination) in [
            ("foo.*", "bar.$2"),
            ("foo.*", "bar.>"),
            ("foo.*", "bar.*"),
            (">", "all"),
            ("foo.*", "bar.{{nope(1)}}"),
            ("foo.*", ""),
        ] {
            assert_eq!(
                apply(source, destination, "foo.a", 0),
                None,
                "{destination}"
            );
        }
    }
}
