//! Passwords and tokens as configured: plain text (compared in constant time) or a bcrypt hash.

use std::fmt;
use subtle::ConstantTimeEq;

/// A configured password or token; nats-server treats any value shaped like
/// `$2a$10$...` (`^\$2[abxy]\$\d{2}\$`) as a bcrypt hash and everything else as plain text.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Plain text, compared with the client's value in constant time.
    Plain(String),
    /// A bcrypt hash (`$2a$`, `$2b$`, `$2x$` or `$2y$`), checked with bcrypt.
    Bcrypt(String),
}

impl Secret {
    /// Classifies `text` the way nats-server's `isBcrypt` does.
    pub fn new(text: &str) -> Secret {
        if is_bcrypt(text) {
            Secret::Bcrypt(text.to_string())
        } else {
            Secret::Plain(text.to_string())
        }
    }

    /// Whether this secret is a bcrypt hash (nats-server warns about plain ones).
    pub fn is_bcrypt(&self) -> bool {
        matches!(self, Secret::Bcrypt(_))
    }

    /// The configured text (the hash for a bcrypt secret).
    pub fn as_str(&self) -> &str {
        match self {
            Secret::Plain(text) | Secret::Bcrypt(text) => text,
        }
    }

    /// Whether `candidate`, as sent by a client, matches. A bcrypt check costs milliseconds
    /// (cost 10 is about 50 ms), so callers on an async runtime should run it off the reactor.
    pub fn verify(&self, candidate: &str) -> bool {
        match self {
            Secret::Plain(expected) => constant_time_eq(expected.as_bytes(), candidate.as_bytes()),
            // A malformed hash fails closed, as Go's CompareHashAndPassword returns an error.
            Secret::Bcrypt(hash) => bcrypt::verify(candidate, hash).unwrap_or(false),
        }
    }
}

impl fmt::Debug for Secret {
    /// Never prints the secret: options are logged and dumped in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret::Plain(<redacted>)"),
            Secret::Bcrypt(_) => f.write_str("Secret::Bcrypt(<redacted>)"),
        }
    }
}

/// nats-server's `isBcrypt`: `^\$2[abxy]\$\d{2}\$.*`.
pub fn is_bcrypt(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 7
        && bytes[0] == b'$'
        && bytes[1] == b'2'
        && matches!(bytes[2], b'a' | b'b' | b'x' | b'y')
        && bytes[3] == b'$'
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
}

/// Compares without an early exit on the first differing byte, so response timing does not
/// tell an attacker how much of a guess was right. The length is not hidden (nor is it in
/// Go's `crypto/subtle`); `subtle` is the dalek project's crate, already in our tree through
/// `ed25519-dalek` (nkeys), and keeps the comparison out of the optimiser's reach.
pub(crate) fn constant_time_eq(expected: &[u8], candidate: &[u8]) -> bool {
    expected.ct_eq(candidate).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, bool)]) {
        for &(text, bcrypt) in cases {
            assert_eq!(is_bcrypt(text), bcrypt, "{text:?}");
            assert_eq!(Secret::new(text).is_bcrypt(), bcrypt, "{text:?}");
        }
    }

    #[test]
    fn bcrypt_prefixes_as_nats_server() {
        check(&[
            (
                "$2a$11$3kIDaCxw.Glsl1.u5nKa6eUnNDLV5HV9tIuUp7EHhMt6Nm9myW1aS",
                true,
            ),
            ("$2b$10$abc", true),
            ("$2x$04$", true),
            ("$2y$12$x", true),
            ("$2c$10$abc", false),
            ("$2a$1$abc", false),
            ("$2a$1a$abc", false),
            ("$2a$10", false),
            ("2a$10$abc", false),
            ("secret", false),
            ("", false),
        ]);
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let text = format!("{:?}", Secret::new("hunter2"));
        assert!(!text.contains("hunter2"), "{text}");
    }
}
