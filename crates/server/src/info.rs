//! The INFO a client receives on connect and the CONNECT it answers with.

use serde::{Deserialize, Serialize};

/// The protocol version nats-server speaks to clients (dynamic INFO updates).
pub const PROTOCOL_VERSION: u32 = 1;
/// The nats-server version Natrium advertises, so clients enable the features it implements.
pub const NATS_COMPATIBLE_VERSION: &str = "2.10.0";

/// The INFO JSON, field names as nats-server sends them.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// The server's nkey-style public id.
    pub server_id: String,
    /// The server's name.
    pub server_name: String,
    /// The nats-server version this server is compatible with.
    pub version: String,
    /// The protocol version.
    pub proto: u32,
    /// The implementation, where nats-server reports its Go version.
    pub go: String,
    /// The interface the client listener is bound to.
    pub host: String,
    /// The client port.
    pub port: u16,
    /// Whether message headers are supported.
    pub headers: bool,
    /// Clients must authenticate in CONNECT (false when `no_auth_user` admits anyone).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auth_required: bool,
    /// Clients must upgrade to TLS (after this INFO, or before it with `handshake_first`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_required: bool,
    /// Clients must present a certificate.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_verify: bool,
    /// TLS is offered but not required (nats-server's `allow_non_tls`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_available: bool,
    /// The largest message a client may publish.
    pub max_payload: usize,
    /// Whether JetStream is enabled.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub jetstream: bool,
    /// This connection's id.
    pub client_id: u64,
    /// This connection's address as the server sees it.
    pub client_ip: String,
    /// What an nkey user signs in CONNECT (only when nkey users are configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Other client URLs of this server or cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// Set in the INFO sent on entering lame duck mode: clients should move elsewhere.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ldm: bool,
}

/// The CONNECT JSON a client sends; unknown fields are ignored as nats-server does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectOptions {
    /// Acknowledge every op with `+OK`.
    pub verbose: bool,
    /// Validate subjects strictly.
    pub pedantic: bool,
    /// The client requires TLS.
    pub tls_required: bool,
    /// The connection's name.
    pub name: String,
    /// The client library's language.
    pub lang: String,
    /// The client library's version.
    pub version: String,
    /// The client's protocol version (0 or 1).
    pub protocol: i64,
    /// Deliver the client's own messages back to it.
    pub echo: bool,
    /// The client understands message headers.
    pub headers: bool,
    /// The client wants a 503 status when a request has no responders.
    pub no_responders: bool,
    /// Username, for user/password authentication.
    pub user: Option<String>,
    /// Password, for user/password authentication.
    pub pass: Option<String>,
    /// Token, for token authentication.
    pub auth_token: Option<String>,
    /// User JWT, for decentralized authentication.
    pub jwt: Option<String>,
    /// Public nkey, for nkey authentication.
    pub nkey: Option<String>,
    /// Signature of the server's nonce.
    pub sig: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        // nats-server's defaults before (and beneath) CONNECT: verbose and pedantic on.
        ConnectOptions {
            verbose: true,
            pedantic: true,
            tls_required: false,
            name: String::new(),
            lang: String::new(),
            version: String::new(),
            protocol: 0,
            echo: true,
            headers: false,
            no_responders: false,
            user: None,
            pass: None,
            auth_token: None,
            jwt: None,
            nkey: None,
            sig: None,
        }
    }
}
