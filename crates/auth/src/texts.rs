//! The texts nats-server sends (`-ERR '...'`) and logs for authentication and authorization.
//!
//! Subjects and names are quoted as Go's `%q` quotes them, so logs and wire match byte for byte.

use std::fmt::Write;

/// `-ERR 'Authorization Violation'`: authentication failed; the connection is closed.
pub const AUTHORIZATION_VIOLATION: &str = "Authorization Violation";
/// `-ERR 'Authentication Timeout'`: no CONNECT within the auth timeout; the connection is closed.
pub const AUTHENTICATION_TIMEOUT: &str = "Authentication Timeout";
/// `-ERR 'User Authentication Expired'`: the connect window (or credentials) ran out.
pub const AUTHENTICATION_EXPIRED: &str = "User Authentication Expired";
/// nats-server's `ErrAuthentication`, the start of every failed-authentication log line.
pub const AUTHENTICATION_ERROR: &str = "authentication error";

/// `Permissions Violation for Publish to "x"` (the connection stays open).
pub fn publish_violation(subject: &[u8]) -> String {
    format!("Permissions Violation for Publish to {}", go_quote(subject))
}

/// `Permissions Violation for Subscription to "x"`, or `... to "x" using queue "q"`.
pub fn subscribe_violation(subject: &[u8], queue: Option<&[u8]>) -> String {
    match queue {
        Some(queue) => format!(
            "Permissions Violation for Subscription to {} using queue {}",
            go_quote(subject),
            go_quote(queue)
        ),
        None => format!(
            "Permissions Violation for Subscription to {}",
            go_quote(subject)
        ),
    }
}

/// The error log line for a refused publish: `Publish Violation - User "a", Subject "x"`.
/// `who` is [`crate::AuthedUser::log_name`] (nats-server's `getAuthUser`).
pub fn publish_violation_log(who: &str, subject: &[u8]) -> String {
    format!("Publish Violation - {who}, Subject {}", go_quote(subject))
}

/// The error log line for a refused subscription, with the SID and, if any, the queue.
pub fn subscribe_violation_log(
    who: &str,
    subject: &[u8],
    queue: Option<&[u8]>,
    sid: &[u8],
) -> String {
    match queue {
        Some(queue) => format!(
            "Subscription Violation - {who}, Subject {}, Queue: {}, SID {}",
            go_quote(subject),
            go_quote(queue),
            String::from_utf8_lossy(sid)
        ),
        None => format!(
            "Subscription Violation - {who}, Subject {}, SID {}",
            go_quote(subject),
            String::from_utf8_lossy(sid)
        ),
    }
}

/// The `-ERR` text when a reload's new permissions remove an existing subscription:
/// `Permissions Violation for Subscription to "x" (sid "1")`, with `using queue "q"` for a
/// queue subscription (nats-server main; 2.9 omitted the queue).
pub fn subscription_removed(subject: &[u8], queue: Option<&[u8]>, sid: &[u8]) -> String {
    match queue {
        Some(queue) => format!(
            "Permissions Violation for Subscription to {} using queue {} (sid {})",
            go_quote(subject),
            go_quote(queue),
            go_quote(sid)
        ),
        None => format!(
            "Permissions Violation for Subscription to {} (sid {})",
            go_quote(subject),
            go_quote(sid)
        ),
    }
}

/// The notice logged with [`subscription_removed`]:
/// `Removed sub "x" (sid "1") for User "a" - not authorized`.
pub fn subscription_removed_log(
    who: &str,
    subject: &[u8],
    queue: Option<&[u8]>,
    sid: &[u8],
) -> String {
    match queue {
        Some(queue) => format!(
            "Removed sub {} using queue {} (sid {}) for {who} - not authorized",
            go_quote(subject),
            go_quote(queue),
            go_quote(sid)
        ),
        None => format!(
            "Removed sub {} (sid {}) for {who} - not authorized",
            go_quote(subject),
            go_quote(sid)
        ),
    }
}

/// Go's `%q` for bytes: printable characters as they are, `"` and `\` escaped, control
/// characters as `\n`, `\t`, ... or `\xNN`, invalid UTF-8 bytes as `\xNN`.
pub fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_as_nats_server() {
        let cases: &[(String, &str)] = &[
            (
                publish_violation(b"foo.bar"),
                r#"Permissions Violation for Publish to "foo.bar""#,
            ),
            (
                subscribe_violation(b"foo.*", None),
                r#"Permissions Violation for Subscription to "foo.*""#,
            ),
            (
                subscribe_violation(b"foo", Some(b"q1")),
                r#"Permissions Violation for Subscription to "foo" using queue "q1""#,
            ),
            (
                publish_violation_log(r#"User "a""#, b"x"),
                r#"Publish Violation - User "a", Subject "x""#,
            ),
            (
                subscribe_violation_log(r#"User "a""#, b"x", Some(b"q"), b"7"),
                r#"Subscription Violation - User "a", Subject "x", Queue: "q", SID 7"#,
            ),
            (
                go_quote(b"a\"b\\c\n\x01\xffz\xc3\xa9"),
                r#""a\"b\\c\n\x01\xffzé""#,
            ),
            (
                subscription_removed(b"foo", None, b"1"),
                r#"Permissions Violation for Subscription to "foo" (sid "1")"#,
            ),
            (
                subscription_removed_log(r#"User "a""#, b"foo", Some(b"q"), b"1"),
                r#"Removed sub "foo" using queue "q" (sid "1") for User "a" - not authorized"#,
            ),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }
}
