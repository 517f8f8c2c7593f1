//! Parse errors, and the catalogue of `-ERR` strings nats-server sends to clients.
//!
//! Every `-ERR` text lives here so the wire stays byte-identical with nats-server.

use thiserror::Error;

/// `-ERR 'Unknown Protocol Operation'`: an unknown verb or a malformed frame; closes.
pub const UNKNOWN_PROTOCOL_OPERATION: &str = "Unknown Protocol Operation";
/// `-ERR 'maximum control line exceeded'`: a control line over `max_control_line`; closes.
pub const MAX_CONTROL_LINE_EXCEEDED: &str = "maximum control line exceeded";
/// `-ERR 'Maximum Payload Violation'`: a PUB/HPUB larger than `max_payload`; closes.
pub const MAX_PAYLOAD_VIOLATION: &str = "Maximum Payload Violation";
/// `-ERR 'Invalid Subject'`: a SUB whose subject is not a valid filter; stays open.
pub const INVALID_SUBJECT: &str = "Invalid Subject";
/// `-ERR 'Invalid Publish Subject'`: a PUB to a non-literal subject under pedantic; stays open.
pub const INVALID_PUBLISH_SUBJECT: &str = "Invalid Publish Subject";
/// `-ERR 'maximum subscriptions exceeded'`: over `max_subscriptions`; stays open.
pub const MAX_SUBSCRIPTIONS_EXCEEDED: &str = "maximum subscriptions exceeded";
/// `-ERR 'maximum connections exceeded'`: over `max_connections`; closes.
pub const MAX_CONNECTIONS_EXCEEDED: &str = "maximum connections exceeded";
/// `-ERR 'maximum account active connections exceeded'`: the user's account is at its
/// `max_connections`; closes.
pub const MAX_ACCOUNT_CONNECTIONS_EXCEEDED: &str = "maximum account active connections exceeded";
/// `-ERR 'Stale Connection'`: too many PINGs unanswered; closes.
pub const STALE_CONNECTION: &str = "Stale Connection";
/// `-ERR 'Authorization Violation'`: failed authentication; closes.
pub const AUTHORIZATION_VIOLATION: &str = "Authorization Violation";
/// `-ERR 'Authentication Timeout'`: no CONNECT within `auth_timeout`; closes.
pub const AUTHENTICATION_TIMEOUT: &str = "Authentication Timeout";

/// `-ERR 'invalid client protocol'`: CONNECT with a protocol other than 0 or 1; closes.
pub const INVALID_CLIENT_PROTOCOL: &str = "invalid client protocol";
/// `-ERR 'no responders requires headers support'`: CONNECT asks for one without the other; closes.
pub const NO_RESPONDERS_REQUIRES_HEADERS: &str = "no responders requires headers support";
/// `-ERR 'Secure Connection - TLS Required'`: no TLS handshake in time; closes.
pub const SECURE_CONNECTION_TLS_REQUIRED: &str = "Secure Connection - TLS Required";

/// Why a client's bytes could not be parsed. Every variant closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// An unknown verb, or bytes that break the frame (such as a missing CRLF after a payload).
    #[error("unknown protocol operation")]
    UnknownOperation,
    /// The control line is longer than `max_control_line`.
    #[error("maximum control line exceeded: {length} > {max}")]
    MaxControlLineExceeded {
        /// The length seen so far.
        length: usize,
        /// The configured limit.
        max: usize,
    },
    /// A publish declares more bytes than `max_payload`.
    #[error("maximum payload violation: {size} vs {max}")]
    MaxPayloadExceeded {
        /// The declared size.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The arguments of a verb are malformed (count or number syntax); logged as
    /// nats-server logs it, e.g. `processPub Parse Error: "foo"`.
    #[error("{context}: {arg:?}")]
    BadArguments {
        /// What was wrong, in nats-server's words.
        context: &'static str,
        /// The argument text as received.
        arg: String,
    },
    /// HPUB on a connection that did not announce header support.
    #[error("message headers not supported")]
    HeadersNotSupported,
}

impl ProtocolError {
    /// The `-ERR` text nats-server sends before closing, if it sends one.
    pub fn client_message(&self) -> Option<&'static str> {
        match self {
            ProtocolError::UnknownOperation => Some(UNKNOWN_PROTOCOL_OPERATION),
            ProtocolError::MaxControlLineExceeded { .. } => Some(MAX_CONTROL_LINE_EXCEEDED),
            ProtocolError::MaxPayloadExceeded { .. } => Some(MAX_PAYLOAD_VIOLATION),
            // nats-server closes on these with only a server-side log line.
            ProtocolError::BadArguments { .. } | ProtocolError::HeadersNotSupported => None,
        }
    }
}
