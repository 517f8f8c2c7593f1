//! Private NATS subject matcher: literal validation and filter matching with `*` and `>`.
//!
//! The shared `natrium-subject` crate is being written at the same time; this stays private so the
//! store can switch to it without an API change.

/// True if `subject` is a valid literal subject: non-empty tokens separated by `.`, no wildcards,
/// no whitespace.
pub(crate) fn is_valid_literal(subject: &str) -> bool {
    !subject.is_empty()
        && subject.split('.').all(|token| {
            !token.is_empty()
                && token != "*"
                && token != ">"
                && !token.bytes().any(|b| b.is_ascii_whitespace())
        })
}

/// True if `filter` is a valid filter: like a literal, but a token may be `*`, and the last token
/// may be `>`.
pub(crate) fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() {
        return false;
    }
    let mut tokens = filter.split('.').peekable();
    while let Some(token) = tokens.next() {
        let last = tokens.peek().is_none();
        if token.is_empty() || token.bytes().any(|b| b.is_ascii_whitespace()) {
            return false;
        }
        if token == ">" && !last {
            return false;
        }
    }
    true
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
    filter.split('.').any(|token| token == "*" || token == ">")
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
        for ok in ["a", "a.b", "$JS.API.>"] {
            assert!(is_valid_filter(ok), "{ok}");
        }
        for bad in ["", "a..b", ".a", "a.", "a.>.b", "a b"] {
            assert!(!is_valid_filter(bad), "{bad}");
        }
        assert!(is_valid_literal("a.b"));
        for bad in ["", "a.*", "a.>", "a..b", "a\tb"] {
            assert!(!is_valid_literal(bad), "{bad}");
        }
        assert!(has_wildcard("a.*") && has_wildcard(">") && !has_wildcard("a.b*"));
    }
}
