//! Subject rewriting for imports, as nats-server's `newTransform` builds it for stream and
//! service imports: each `*` of the destination takes the matching `*` of the source in
//! order (nats-server's `transformTokenize`), `$N` names one, and a trailing `>` carries the
//! rest. Applied into a reused buffer, so forwarding allocates nothing per message.

/// One token of the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Written as is.
    Literal(Box<[u8]>),
    /// The token of the subject at this (0-based) position.
    Token(usize),
    /// The subject's tokens from this position on (the source's `>`).
    Rest(usize),
}

/// A compiled source → destination rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTransform {
    parts: Vec<Part>,
}

impl SubjectTransform {
    /// Compiles `source` → `destination` (wildcards in the destination as nats-server's
    /// config writes them: `*`, `$N`, `>`); `Err` carries nats-server's reason.
    pub fn new(source: &str, destination: &str) -> Result<SubjectTransform, String> {
        let source_tokens: Vec<&str> = source.split('.').collect();
        let wildcard_positions: Vec<usize> = source_tokens
            .iter()
            .enumerate()
            .filter(|(_, token)| **token == "*")
            .map(|(position, _)| position)
            .collect();
        let source_rest = (source_tokens.last() == Some(&">")).then(|| source_tokens.len() - 1);
        let destination_rest = destination.split('.').next_back() == Some(">");
        let valid = natrium_subject::is_valid_subject(source.as_bytes())
            && natrium_subject::is_valid_subject(destination.as_bytes());
        if !valid || source_rest.is_some() != destination_rest {
            return Err("invalid subject".to_string());
        }
        // nats-server's `transformTokenize`: each `*` becomes the next `$N`.
        let mut next_wildcard = 0;
        let tokenized: Vec<String> = destination
            .split('.')
            .map(|token| {
                if token == "*" {
                    next_wildcard += 1;
                    format!("${next_wildcard}")
                } else {
                    token.to_string()
                }
            })
            .collect();
        let mut parts = Vec::new();
        let mut placeholders = 0;
        for token in &tokenized {
            let part = match (placeholder_index(token), token.as_str()) {
                (Some(index), _) => {
                    placeholders += 1;
                    let found = index.checked_sub(1).and_then(|i| wildcard_positions.get(i));
                    let Some(&position) = found else {
                        return Err(format!(
                            "invalid mapping destination: wildcard index out of range in {token}: [{index}]"
                        ));
                    };
                    Part::Token(position)
                }
                (None, ">") => Part::Rest(source_rest.unwrap_or(0)),
                (None, literal) => Part::Literal(literal.as_bytes().into()),
            };
            parts.push(part);
        }
        if placeholders < wildcard_positions.len() {
            return Err(format!(
                "invalid mapping destination: not using all of the token wildcard(s) in {}",
                tokenized.join(".")
            ));
        }
        Ok(SubjectTransform { parts })
    }

    /// A rewrite of any subject to `subject` (a literal source maps to its destination).
    pub fn literal(subject: &str) -> SubjectTransform {
        SubjectTransform {
            parts: vec![Part::Literal(subject.as_bytes().into())],
        }
    }

    /// Writes the rewrite of `subject` (which matches the source) into `out`, replacing what
    /// it held.
    pub fn apply(&self, subject: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                Part::Token(position) => {
                    let token = subject
                        .split(|&b| b == b'.')
                        .nth(*position)
                        .unwrap_or_default();
                    out.extend_from_slice(token);
                }
                Part::Rest(position) => out.extend_from_slice(tail(subject, *position)),
            }
        }
    }
}

/// `$N` or `{{wildcard(N)}}`: the N-th (1-based) wildcard of the source.
fn placeholder_index(token: &str) -> Option<usize> {
    if let Some(digits) = token.strip_prefix('$') {
        return digits.parse().ok();
    }
    let inner = token.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let argument = inner.strip_prefix("wildcard(")?.strip_suffix(')')?;
    argument.trim().parse().ok()
}

/// `subject` from its `position`-th token on.
fn tail(subject: &[u8], position: usize) -> &[u8] {
    let mut start = 0;
    for _ in 0..position {
        match subject[start..].iter().position(|&b| b == b'.') {
            Some(dot) => start += dot + 1,
            None => return &[],
        }
    }
    &subject[start..]
}

#[cfg(test)]
mod tests {
    use super::SubjectTransform;

    fn rewrite(source: &str, destination: &str, subject: &str) -> String {
        let transform = SubjectTransform::new(source, destination).expect("valid transform");
        let mut out = Vec::new();
        transform.apply(subject.as_bytes(), &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn wildcards_map_in_order_and_the_rest_carries_over() {
        assert_eq!(rewrite("foo.>", "bar.>", "foo.a.b"), "bar.a.b");
        assert_eq!(rewrite("foo.*.x.*", "bar.*.*", "foo.1.x.2"), "bar.1.2");
        assert_eq!(rewrite("foo.*.*", "bar.$2.$1", "foo.1.2"), "bar.2.1");
        assert_eq!(
            rewrite("a.*.>", "b.{{wildcard(1)}}.>", "a.k.l.m"),
            "b.k.l.m"
        );
        assert_eq!(rewrite("req.foo", "local.foo", "req.foo"), "local.foo");
    }

    #[test]
    fn nats_server_refusals() {
        let error = |source: &str, destination: &str| {
            SubjectTransform::new(source, destination).expect_err("refused")
        };
        assert_eq!(
            error("foo.*", "bar"),
            "invalid mapping destination: not using all of the token wildcard(s) in bar"
        );
        assert_eq!(
            error("foo.*", "bar.*.*"),
            "invalid mapping destination: wildcard index out of range in $2: [2]"
        );
        assert_eq!(error("foo.>", "bar"), "invalid subject");
    }
}
