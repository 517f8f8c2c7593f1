//! Subject transforms as nats-server's `subjectTransform` applies them for a stream's
//! `subject_transform` (2.10) and `republish`: a source filter whose `*` wildcards a
//! destination refers to by position (`$1`, `{{wildcard(1)}}`, or a bare `*` taking the next),
//! and a trailing `>` carried over whole.
//!
//! Only the wildcard functions are understood; `{{partition(..)}}`, `{{split(..)}}` and the
//! other 2.10 functions make [`Transform::new`] answer `None`, so the stream stores (or
//! republishes) without transforming rather than guessing.

/// One token of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Copied as written.
    Literal(String),
    /// The n-th (0-based) `*` of the source.
    Wildcard(usize),
    /// Whatever the source's trailing `>` matched.
    Rest,
}

/// A compiled source → destination mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    source: String,
    destination: Vec<Part>,
}

impl Transform {
    /// Compiles `source` → `destination`; an empty source means every subject (`>`). `None`
    /// when the destination refers to a wildcard the source lacks, or uses a function this
    /// module does not know.
    pub fn new(source: &str, destination: &str) -> Option<Transform> {
        let source = if source.is_empty() { ">" } else { source };
        let source_tokens: Vec<&str> = source.split('.').collect();
        let wildcards = source_tokens.iter().filter(|t| **t == "*").count();
        let source_has_rest = source_tokens.last() == Some(&">");
        let mut next_bare = 0;
        let mut parts = Vec::new();
        for token in destination.split('.') {
            let part = if token == ">" {
                Part::Rest
            } else if token == "*" {
                next_bare += 1;
                Part::Wildcard(next_bare - 1)
            } else if let Some(position) = wildcard_reference(token) {
                Part::Wildcard(position?.checked_sub(1)?)
            } else if token.contains("{{") {
                return None;
            } else {
                Part::Literal(token.to_string())
            };
            match part {
                Part::Wildcard(index) if index >= wildcards => return None,
                Part::Rest if !source_has_rest => return None,
                _ => {}
            }
            parts.push(part);
        }
        Some(Transform {
            source: source.to_string(),
            destination: parts,
        })
    }

    /// The transformed subject, or `None` when `subject` does not match the source.
    pub fn apply(&self, subject: &str) -> Option<String> {
        if !natrium_subject::matches(self.source.as_bytes(), subject.as_bytes()) {
            return None;
        }
        let mut captured = Vec::new();
        let mut rest = "";
        let mut remaining = subject;
        for token in self.source.split('.') {
            if token == ">" {
                rest = remaining;
                break;
            }
            let (head, tail) = remaining.split_once('.').unwrap_or((remaining, ""));
            if token == "*" {
                captured.push(head);
            }
            remaining = tail;
        }
        let mut out = String::with_capacity(subject.len() + 16);
        for (index, part) in self.destination.iter().enumerate() {
            if index > 0 {
                out.push('.');
            }
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Wildcard(position) => out.push_str(captured.get(*position)?),
                Part::Rest => out.push_str(rest),
            }
        }
        Some(out)
    }
}

/// The subject a message published on `subject` is stored under: its stream's
/// `subject_transform` applied, `None` when there is none or it does not match.
pub fn for_stream(config: &super::config::StreamConfig, subject: &str) -> Option<String> {
    let transform = config.subject_transform.as_ref()?;
    Transform::new(&transform.src, &transform.dest)?.apply(subject)
}

/// `Some(position)` for `$N` or `{{wildcard(N)}}` (any case, blanks allowed), with `None`
/// inside when N does not parse; `None` for any other token.
fn wildcard_reference(token: &str) -> Option<Option<usize>> {
    if let Some(number) = token.strip_prefix('$') {
        return Some(number.parse().ok());
    }
    let inner = token.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let (name, argument) = inner.split_once('(')?;
    if !name.trim().eq_ignore_ascii_case("wildcard") {
        return None;
    }
    Some(argument.strip_suffix(')')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::Transform;

    /// (source, destination, subject, expected): the cases of nats-server's
    /// `TestSubjectTransforms` that use wildcards only.
    const CASES: &[(&str, &str, &str, Option<&str>)] = &[
        ("foo.*.*", "bar.$2.$1", "foo.A.B", Some("bar.B.A")),
        (
            "foo.*.*",
            "bar.{{wildcard(2)}}.{{Wildcard(1)}}",
            "foo.A.B",
            Some("bar.B.A"),
        ),
        ("foo.*", "bar.*", "foo.A", Some("bar.A")),
        ("foo.>", "bar.>", "foo.A.B", Some("bar.A.B")),
        ("", "rp.>", "orders.1", Some("rp.orders.1")),
        (">", "all", "x.y", Some("all")),
        ("foo.*", "bar.$1", "baz.A", None),
        ("foo.*", "bar.$1", "foo.A.B", None),
    ];

    #[test]
    fn wildcards_map_by_position() {
        for &(source, destination, subject, expected) in CASES {
            let transform = Transform::new(source, destination).expect(destination);
            assert_eq!(
                transform.apply(subject).as_deref(),
                expected,
                "{source} -> {destination} on {subject}"
            );
        }
    }

    #[test]
    fn references_past_the_wildcards_or_unknown_functions_do_not_compile() {
        for (source, destination) in [
            ("foo.*", "bar.$2"),
            ("foo.*", "bar.$0"),
            ("foo.*", "bar.>"),
            ("foo.*", "bar.{{partition(3,1)}}"),
        ] {
            assert_eq!(Transform::new(source, destination), None, "{destination}");
        }
    }
}
