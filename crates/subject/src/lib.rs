//! NATS subjects: validation, tokens and wildcard matching, shared by routing and storage.
//!
//! A subject is a sequence of non-empty tokens separated by `.`. As a subscription
//! filter, a token that is exactly `*` matches any one token and a final token that
//! is exactly `>` matches one or more trailing tokens. A `*` or `>` inside a longer
//! token is an ordinary character, as in nats-server.

pub mod hash;
pub mod mapping;
pub mod transform;

/// Separates the tokens of a subject.
pub const TOKEN_SEPARATOR: u8 = b'.';
/// The single-token wildcard.
pub const PARTIAL_WILDCARD: u8 = b'*';
/// The trailing multi-token wildcard.
pub const FULL_WILDCARD: u8 = b'>';

/// Iterates over the tokens of a subject (empty tokens included, so callers can reject them).
pub fn tokens(subject: &[u8]) -> Tokens<'_> {
    subject.split(is_token_separator)
}

/// The iterator [`tokens`] returns; cloneable, so a walk can fork at wildcards.
pub type Tokens<'a> = std::slice::Split<'a, u8, fn(&u8) -> bool>;

fn is_token_separator(b: &u8) -> bool {
    *b == TOKEN_SEPARATOR
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// True if `subject` is valid as a subscription filter: non-empty tokens, no
/// whitespace, and `>` only as the last token.
pub fn is_valid_subject(subject: &[u8]) -> bool {
    if subject.is_empty() {
        return false;
    }
    let mut after_full_wildcard = false;
    for token in tokens(subject) {
        if token.is_empty() || after_full_wildcard {
            return false;
        }
        if token.iter().any(|&b| is_whitespace(b)) {
            return false;
        }
        if token == [FULL_WILDCARD] {
            after_full_wildcard = true;
        }
    }
    true
}

/// True if `subject` is a valid subject with no wildcard tokens, as a publish needs.
pub fn is_valid_literal_subject(subject: &[u8]) -> bool {
    is_valid_subject(subject) && !has_wildcard(subject)
}

/// True if any token of `subject` is exactly `*` or `>`.
pub fn has_wildcard(subject: &[u8]) -> bool {
    tokens(subject).any(is_wildcard_token)
}

/// True if `token` is exactly `*` or `>`.
pub fn is_wildcard_token(token: &[u8]) -> bool {
    token == [PARTIAL_WILDCARD] || token == [FULL_WILDCARD]
}

/// True if the literal `subject` is matched by the subscription `filter`.
pub fn matches(filter: &[u8], subject: &[u8]) -> bool {
    let mut subject_tokens = tokens(subject);
    for filter_token in tokens(filter) {
        if filter_token == [FULL_WILDCARD] {
            return subject_tokens.next().is_some();
        }
        match subject_tokens.next() {
            Some(token) if filter_token == [PARTIAL_WILDCARD] || filter_token == token => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// True if some literal subject could be matched by both filters (they overlap).
pub fn filters_overlap(a: &[u8], b: &[u8]) -> bool {
    let mut a_tokens = tokens(a);
    let mut b_tokens = tokens(b);
    loop {
        match (a_tokens.next(), b_tokens.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) => {
                if x == [FULL_WILDCARD] || y == [FULL_WILDCARD] {
                    return true;
                }
                if x != [PARTIAL_WILDCARD] && y != [PARTIAL_WILDCARD] && x != y {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// True if every subject matched by `inner` is also matched by `outer`.
pub fn is_subset_of(inner: &[u8], outer: &[u8]) -> bool {
    let mut inner_tokens = tokens(inner);
    for outer_token in tokens(outer) {
        if outer_token == [FULL_WILDCARD] {
            return inner_tokens.next().is_some();
        }
        match inner_tokens.next() {
            Some(token) if token == [FULL_WILDCARD] => return false,
            Some(token) if outer_token == [PARTIAL_WILDCARD] || outer_token == token => {}
            _ => return false,
        }
    }
    inner_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_valid(cases: &[(&str, bool, bool)]) {
        for &(subject, valid, literal) in cases {
            assert_eq!(
                is_valid_subject(subject.as_bytes()),
                valid,
                "valid {subject:?}"
            );
            assert_eq!(
                is_valid_literal_subject(subject.as_bytes()),
                literal,
                "literal {subject:?}"
            );
        }
    }

    #[test]
    fn validation_follows_nats_server() {
        check_valid(&[
            ("foo", true, true),
            ("foo.bar", true, true),
            ("foo.*", true, false),
            ("foo.>", true, false),
            (">", true, false),
            ("*", true, false),
            ("foo*.bar", true, true),
            ("foo.>bar", true, true),
            ("", false, false),
            (".foo", false, false),
            ("foo.", false, false),
            ("foo..bar", false, false),
            ("foo.>.bar", false, false),
            ("foo bar", false, false),
            ("foo\tbar", false, false),
        ]);
    }

    fn check_match(cases: &[(&str, &str, bool)]) {
        for &(filter, subject, expected) in cases {
            assert_eq!(
                matches(filter.as_bytes(), subject.as_bytes()),
                expected,
                "{filter} ~ {subject}"
            );
        }
    }

    #[test]
    fn wildcard_matching() {
        check_match(&[
            ("foo", "foo", true),
            ("foo", "foo.bar", false),
            ("foo.*", "foo.bar", true),
            ("foo.*", "foo", false),
            ("foo.*", "foo.bar.baz", false),
            ("foo.>", "foo.bar.baz", true),
            ("foo.>", "foo", false),
            (">", "a.b.c", true),
            ("*.b.*", "a.b.c", true),
            ("*.b.*", "a.x.c", false),
        ]);
    }

    #[test]
    fn overlap_and_subset() {
        assert!(filters_overlap(b"foo.*", b"*.bar"));
        assert!(filters_overlap(b"foo.>", b"foo.bar.baz"));
        assert!(!filters_overlap(b"foo.*", b"bar.*"));
        assert!(!filters_overlap(b"foo.*", b"foo.*.baz"));
        assert!(is_subset_of(b"foo.bar", b"foo.*"));
        assert!(is_subset_of(b"foo.*.baz", b"foo.>"));
        assert!(!is_subset_of(b"foo.>", b"foo.*"));
        assert!(!is_subset_of(b"foo.*", b"foo.bar"));
    }
}
