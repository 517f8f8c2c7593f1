//! Why a connection closed, with the texts nats-server shows in logs and `/connz`.

/// The reason a client connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed the socket.
    ClientClosed,
    /// No CONNECT arrived within `auth_timeout`.
    AuthenticationTimeout,
    /// Credentials were refused.
    AuthenticationViolation,
    /// The user's connect window ended while connected.
    AuthenticationExpired,
    /// More than `max_pending` bytes were queued.
    SlowConsumerPendingBytes,
    /// A write took longer than `write_deadline`.
    SlowConsumerWriteDeadline,
    /// A write to the socket failed.
    WriteError,
    /// A read from the socket failed.
    ReadError,
    /// The client sent `-ERR`.
    ParseError,
    /// Too many PINGs went unanswered.
    StaleConnection,
    /// The client broke the protocol.
    ProtocolViolation,
    /// CONNECT named an unknown protocol version.
    BadClientProtocolVersion,
    /// The server was at `max_connections`.
    MaxConnectionsExceeded,
    /// The user's account was at its `max_connections`.
    MaxAccountConnectionsExceeded,
    /// A publish was larger than `max_payload`.
    MaxPayloadExceeded,
    /// A control line was longer than `max_control_line`.
    MaxControlLineExceeded,
    /// The server is shutting down.
    ServerShutdown,
    /// CONNECT asked for no-responders without headers.
    NoRespondersRequiresHeaders,
    /// The TLS handshake failed, timed out, or showed an unpinned certificate.
    TlsHandshakeError,
}

impl CloseReason {
    /// The text nats-server uses for this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "Client Closed",
            CloseReason::AuthenticationTimeout => "Authentication Timeout",
            CloseReason::AuthenticationViolation => "Authentication Failure",
            CloseReason::AuthenticationExpired => "Authentication Expired",
            CloseReason::SlowConsumerPendingBytes => "Slow Consumer (Pending Bytes)",
            CloseReason::SlowConsumerWriteDeadline => "Slow Consumer (Write Deadline)",
            CloseReason::WriteError => "Write Error",
            CloseReason::ReadError => "Read Error",
            CloseReason::ParseError => "Parse Error",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::ProtocolViolation => "Protocol Violation",
            CloseReason::BadClientProtocolVersion => "Bad Client Protocol Version",
            CloseReason::MaxConnectionsExceeded => "Maximum Connections Exceeded",
            CloseReason::MaxAccountConnectionsExceeded => "Maximum Account Connections Exceeded",
            CloseReason::MaxPayloadExceeded => "Maximum Message Payload Exceeded",
            CloseReason::MaxControlLineExceeded => "Maximum Control Line Exceeded",
            CloseReason::ServerShutdown => "Server Shutdown",
            CloseReason::NoRespondersRequiresHeaders => "No Responders Requires Headers",
            CloseReason::TlsHandshakeError => "TLS Handshake Error",
        }
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
