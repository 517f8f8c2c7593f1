//! `/varz`: the server's identity, its configuration echo and its counters, with
//! nats-server's field names, units (durations in nanoseconds, timeouts in seconds) and
//! order.

use serde::Serialize;

/// An empty object: the `cluster`, `gateway`, `leaf`, `mqtt`, `websocket` and `jetstream`
/// sections while those features are off (nats-server leaves every field out then).
#[derive(Debug, Default, Serialize)]
pub struct EmptySection {}

/// The `/varz` answer.
#[derive(Debug, Serialize)]
pub struct Varz {
    /// The server's id.
    pub server_id: String,
    /// The server's name.
    pub server_name: String,
    /// The nats-server version Natrium is compatible with.
    pub version: String,
    /// Protocol version.
    pub proto: u32,
    /// Where nats-server puts its Go version: Natrium's own.
    pub go: String,
    /// Client listener host.
    pub host: String,
    /// Client listener port.
    pub port: u16,
    /// Most connections.
    pub max_connections: usize,
    /// Most subscriptions per connection (0, not shown, is unlimited).
    #[serde(skip_serializing_if = "is_zero")]
    pub max_subscriptions: usize,
    /// PING interval in nanoseconds.
    pub ping_interval: u64,
    /// Unanswered PINGs allowed.
    pub ping_max: u32,
    /// Monitoring host.
    pub http_host: String,
    /// Monitoring HTTP port (0 if none).
    pub http_port: u16,
    /// Monitoring path prefix.
    pub http_base_path: String,
    /// Monitoring HTTPS port (0 if none).
    pub https_port: u16,
    /// Authentication timeout in seconds.
    #[serde(serialize_with = "super::format::go_float")]
    pub auth_timeout: f64,
    /// Longest control line.
    pub max_control_line: usize,
    /// Largest message.
    pub max_payload: usize,
    /// Largest outbound backlog per connection.
    pub max_pending: usize,
    /// Cluster settings (none yet).
    pub cluster: EmptySection,
    /// Gateway settings (none yet).
    pub gateway: EmptySection,
    /// Leaf node settings (none yet).
    pub leaf: EmptySection,
    /// MQTT settings (none yet).
    pub mqtt: EmptySection,
    /// WebSocket settings (none yet).
    pub websocket: EmptySection,
    /// JetStream settings and use (off until JetStream lands).
    pub jetstream: super::jetstream::JetStreamVarz,
    /// TLS handshake timeout in seconds.
    #[serde(serialize_with = "super::format::go_float")]
    pub tls_timeout: f64,
    /// Write deadline in nanoseconds.
    pub write_deadline: u64,
    /// Start time.
    pub start: String,
    /// Time of this answer.
    pub now: String,
    /// Time since start.
    pub uptime: String,
    /// Resident memory in bytes.
    pub mem: u64,
    /// CPU cores.
    pub cores: usize,
    /// Where nats-server reports GOMAXPROCS: the cores the runtime uses.
    pub gomaxprocs: usize,
    /// CPU use, percent of one core.
    #[serde(serialize_with = "super::format::go_float")]
    pub cpu: f64,
    /// Open client connections.
    pub connections: usize,
    /// Client connections since start.
    pub total_connections: u64,
    /// Routes (no clustering yet).
    pub routes: usize,
    /// Remote servers (no clustering yet).
    pub remotes: usize,
    /// Leaf node connections (none yet).
    pub leafnodes: usize,
    /// Messages received.
    pub in_msgs: u64,
    /// Messages sent.
    pub out_msgs: u64,
    /// Message bytes received.
    pub in_bytes: u64,
    /// Message bytes sent.
    pub out_bytes: u64,
    /// Slow consumers cut off.
    pub slow_consumers: u64,
    /// Subscriptions in all accounts.
    pub subscriptions: u64,
    /// Requests per monitoring path.
    pub http_req_stats: std::collections::BTreeMap<&'static str, u64>,
    /// When the configuration was last loaded.
    pub config_load_time: String,
}

fn is_zero(value: &usize) -> bool {
    *value == 0
}
