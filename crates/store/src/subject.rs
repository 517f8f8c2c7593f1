//! Private NATS subject matcher: literal validation and filter matching with `*` and `>`.
//!
//! The shared `natrium-subject` crate is being written at the same time; this stays private so the
//! store can switch to it without an API change.

/// True if `subject` is a valid literal subject: non-empty tokens separated by `.`, no wildcards,
/// no whitespace. Every publish and every read asks, so it is one pass over the bytes.
pub(crate) fn is_valid_literal(subject: &str) -> bool {
    scan(subject).is_some_and(|scan| !scan.wildcard)
}

/// True if `filter` is a valid filter: like a literal, but a token may be `*`, and the last token
/// may be `>`.
pub(crate) fn is_valid_filter(filter: &str) -> bool {
    scan(filter).is_some()
}

/// What one pass over a subject found.
struct Scan {
    /// A token is `*` or `>`.
    wildcard: bool,
}

/// Checks the token structure in one pass: `None` for an empty token, whitespace, or a `>`
/// that is not the last token.
fn scan(subject: &str) -> Option<Scan> {
    let bytes = subject.as_bytes();
    let mut wildcard = false;
    let mut token_start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte == b'.' {
            let token = &bytes[token_start..i];
            match token {
                [] | [b'>'] => return None,
                [b'*'] => wildcard = true,
                _ => {}
            }
            token_start = i + 1;
        } else if byte.is_ascii_whitespace() {
            return None;
        }
    }
    match &bytes[token_start..] {
        [] => None,
        [b'*'] | [b'>'] => Some(Scan { wildcard: true }),
        _ => Some(Scan { wildcard }),
    }
}

/// Fails with [`StoreError::InvalidSubject`](crate::StoreError) unless `filter` is a valid filter.
pub(crate) fn check_filter(filter: &str) -> Result<(), crate::StoreError> {
    if is_valid_filter(filter) {
        Ok(())
    } else {
        Err(crate::StoreError::InvalidSubject)
    }
}

/// True if `filter` contains a wildcard token.
pub(crate) fn has_wildcard(filter: &str) -> bool {
    let bytes = filter.as_bytes();
    bytes.iter().enumerate().any(|(i, &byte)| {
        (byte == b'*' || byte == b'>')
            && (i == 0 || bytes[i - 1] == b'.')
            && bytes.get(i + 1).is_none_or(|&next| next == b'.')
    })
}

/// True if the literal `subject` matches `filter` under NATS rules: `*` matches exactly one token,
/// a trailing `>` matches one or more tokens. Walks both strings once without allocating.
pub(crate) fn matches(filter: &str, subject: &str) -> bool {
    let mut filter_tokens = filter.split('.');
    let mut subject_tokens = subject.split('.');
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (None, None) => return true,
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(f), Some(s)) if f == s => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per case: filter, subject, expected match (NATS subject-based messaging docs).
    fn check(cases: &[(&str, &str, bool)]) {
        for &(filter, subject, expected) in cases {
            assert_eq!(matches(filter, subject), expected, "{filter} vs {subject}");
        }
    }

    #[test]
    fn wildcard_matching() {
        check(&[
            ("foo", "foo", true),
            ("foo", "foo.bar", false),
            ("foo.*", "foo.bar", true),
            ("foo.*", "foo.bar.baz", false),
            ("foo.>", "foo.bar.baz", true),
            ("foo.>", "foo", false),
            (">", "a", true),
            (">", "a.b.c", true),
            ("*", "a", true),
            ("*", "a.b", false),
            ("*.b.*", "a.b.c", true),
            ("*.b.*", "a.x.c", false),
            ("a.*.>", "a.b", false),
            ("a.*.>", "a.b.c", true),
            ("foo.bar", "foo.baz", false),
            ("foo.ba", "foo.bar", false),
        ]);
    }

    #[test]
    fn validation() {
        for ok in ["a", "a.b", "$JS.API.>", "*", ">", "*.a.*", "a.*.>", "a>.b*"] {
            assert!(is_valid_filter(ok), "{ok}");
        }
        for bad in ["", "a..b", ".a", "a.", "a.>.b", ">.a", "a b", "a.\n"] {
            assert!(!is_valid_filter(bad), "{bad}");
        }
        assert!(is_valid_literal("a.b") && is_valid_literal("a>.*b"));
        for bad in ["", "a.*", "a.>", "*.a", "a.*.b", "a..b", "a\tb"] {
            assert!(!is_valid_literal(bad), "{bad}");
        }
        assert!(has_wildcard("a.*") && has_wildcard(">") && has_wildcard("*.b"));
        assert!(!has_wildcard("a.b*") && !has_wildcard("a.>b") && !has_wildcard("*a.b"));
    }
}
