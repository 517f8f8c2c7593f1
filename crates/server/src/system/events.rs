//! The JSON the system account publishes, field for field as nats-server 2.9 writes it
//! (`server/events.go`): client connect and disconnect advisories, account connection
//! counts, server statistics, and the envelope of every `$SYS.REQ` answer.

use crate::client::ClientIdentity;
use crate::monitor::jetstream::JetStreamVarz;
use crate::monitor::others::{AccountStat, DataStats};
use serde::Serialize;
use serde_json::value::RawValue;

/// Schema type of a connect advisory.
pub const CONNECT_EVENT_TYPE: &str = "io.nats.server.advisory.v1.client_connect";
/// Schema type of a disconnect advisory.
pub const DISCONNECT_EVENT_TYPE: &str = "io.nats.server.advisory.v1.client_disconnect";
/// Schema type of an account's connection count.
pub const ACCOUNT_CONNECTIONS_TYPE: &str = "io.nats.server.advisory.v1.account_connections";
/// Schema type of a service latency measurement.
pub const SERVICE_LATENCY_TYPE: &str = "io.nats.server.metric.v1.service_latency";

/// The server that sent an event (`ServerInfo` in nats-server's events).
#[derive(Debug, Clone, Serialize)]
pub struct EventServer {
    /// Server name.
    pub name: String,
    /// Client listener host.
    pub host: String,
    /// Server id.
    pub id: String,
    /// Cluster name, when clustered.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// JetStream domain, when set.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Server version.
    pub ver: String,
    /// Per-server event sequence: receivers spot gaps and restarts with it.
    pub seq: u64,
    /// Whether JetStream is enabled.
    pub jetstream: bool,
    /// When the message was sent, RFC 3339 with nanoseconds.
    pub time: String,
}

/// The type, id and time every advisory starts with (`TypedEvent`).
#[derive(Debug, Clone, Serialize)]
pub struct TypedEvent {
    /// Schema type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Unique event id.
    pub id: String,
    /// When it happened, RFC 3339 with nanoseconds.
    pub timestamp: String,
}

/// A client as advisories describe it (`ClientInfo`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientInfo {
    /// Connect time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Client address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Connection id.
    #[serde(skip_serializing_if = "is_zero")]
    pub id: u64,
    /// Account (always written, as 2.9 does).
    pub acc: String,
    /// Authenticated user.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Client-given name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Client library language.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    /// Client library version.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ver: String,
    /// Round trip in nanoseconds (Go marshals a `time.Duration` as its integer).
    #[serde(skip_serializing_if = "is_zero")]
    pub rtt: u64,
    /// The server the client is connected to (latency reports' detailed parties).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    /// Disconnect time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// Connection kind (`Client`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Client type (`nats`, `websocket`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_type: String,
}

impl ClientInfo {
    /// Fills in what the client said of itself at CONNECT and how it connected (the
    /// connect events' and the latency samples' shared fields).
    pub fn describe_client(&mut self, identity: &ClientIdentity, websocket: bool) {
        self.user = identity.user.clone();
        self.name = identity.name.clone();
        self.lang = identity.lang.clone();
        self.ver = identity.version.clone();
        self.kind = "Client".to_string();
        self.client_type = if websocket { "websocket" } else { "nats" }.to_string();
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// A service latency measurement, published on the export's latency subject in the
/// exporting account (nats-server's `ServiceLatency`).
#[derive(Debug, Serialize)]
pub struct ServiceLatency {
    /// Type, id, time.
    #[serde(flatten)]
    pub event: TypedEvent,
    /// 200, or the failure's code (400, 503, 504).
    pub status: u16,
    /// The failure's text. nats-server 2.9 names this field `description`, though its
    /// published schema says `error`; the server is what clients read.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'static str,
    /// Who asked: account and round trip, more if the import shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requestor: Option<ClientInfo>,
    /// Who answered, in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responder: Option<ClientInfo>,
    /// When the request started (RFC 3339, UTC).
    pub start: String,
    /// The responder's time, nanoseconds.
    pub service: u64,
    /// The server's share, nanoseconds.
    pub system: u64,
    /// The whole request as the requestor saw it, nanoseconds.
    pub total: u64,
}

/// `$SYS.ACCOUNT.<account>.CONNECT`.
#[derive(Debug, Serialize)]
pub struct ConnectEvent {
    /// Type, id, time.
    #[serde(flatten)]
    pub event: TypedEvent,
    /// The sending server.
    pub server: EventServer,
    /// The client that connected.
    pub client: ClientInfo,
}

/// `$SYS.ACCOUNT.<account>.DISCONNECT`.
#[derive(Debug, Serialize)]
pub struct DisconnectEvent {
    /// Type, id, time.
    #[serde(flatten)]
    pub event: TypedEvent,
    /// The sending server.
    pub server: EventServer,
    /// The client that left.
    pub client: ClientInfo,
    /// What the client sent (its inbound traffic).
    pub sent: DataStats,
    /// What the client received.
    pub received: DataStats,
    /// Why the connection closed, as `/connz` words it.
    pub reason: String,
}

/// `$SYS.ACCOUNT.<account>.SERVER.CONNS` (and answer to `...CONNS` requests).
#[derive(Debug, Serialize)]
pub struct AccountConnections {
    /// Type, id, time.
    #[serde(flatten)]
    pub event: TypedEvent,
    /// The sending server.
    pub server: EventServer,
    /// The account's figures.
    #[serde(flatten)]
    pub stat: AccountStat,
}

/// `$SYS.SERVER.<id>.STATSZ` and the answer to statsz requests.
#[derive(Debug, Serialize)]
pub struct ServerStatsMessage {
    /// The sending server.
    pub server: EventServer,
    /// Its figures.
    pub statsz: ServerStats,
}

/// A server's figures (`ServerStats`).
#[derive(Debug, Serialize)]
pub struct ServerStats {
    /// Start time.
    pub start: String,
    /// Resident memory, bytes.
    pub mem: u64,
    /// Cores available.
    pub cores: usize,
    /// CPU use, percent.
    pub cpu: f64,
    /// Open client connections.
    pub connections: usize,
    /// Client connections since start.
    pub total_connections: u64,
    /// Accounts with at least one client or internal subscriber.
    pub active_accounts: usize,
    /// Subscriptions in every account.
    pub subscriptions: u64,
    /// Messages and bytes sent.
    pub sent: DataStats,
    /// Messages and bytes received.
    pub received: DataStats,
    /// Slow consumers cut off.
    pub slow_consumers: u64,
    /// Servers known (this one alone without clustering).
    pub active_servers: usize,
    /// JetStream's configuration and usage, when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jetstream: Option<JetStreamVarz>,
}

/// The envelope of every `$SYS.REQ` answer (`ServerAPIResponse`).
#[derive(Debug, Serialize)]
pub struct ApiResponse<'a> {
    /// The answering server.
    pub server: EventServer,
    /// The endpoint's answer, as monitoring would give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a RawValue>,
    /// Why there is no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiResponseError>,
}

/// An error in a `$SYS.REQ` answer.
#[derive(Debug, Serialize)]
pub struct ApiResponseError {
    /// HTTP-like status: 400 for a bad request body, 500 for a failed endpoint.
    pub code: u16,
    /// The error text.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> EventServer {
        EventServer {
            name: "n1".into(),
            host: "0.0.0.0".into(),
            id: "NID".into(),
            cluster: String::new(),
            domain: String::new(),
            ver: "2.9.10".into(),
            seq: 7,
            jetstream: false,
            time: "2026-11-26T10:00:00.000000001Z".into(),
        }
    }

    #[test]
    fn connect_event_has_nats_server_fields() {
        let event = ConnectEvent {
            event: TypedEvent {
                kind: CONNECT_EVENT_TYPE,
                id: "abc".into(),
                timestamp: "t".into(),
            },
            server: server(),
            client: ClientInfo {
                acc: "A".into(),
                id: 5,
                host: "127.0.0.1".into(),
                ..ClientInfo::default()
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], CONNECT_EVENT_TYPE);
        assert_eq!(json["id"], "abc");
        assert_eq!(json["timestamp"], "t");
        assert_eq!(json["server"]["ver"], "2.9.10");
        assert_eq!(json["server"]["seq"], 7);
        assert!(json["server"].get("cluster").is_none());
        assert_eq!(json["client"]["acc"], "A");
        assert_eq!(json["client"]["id"], 5);
        // Zero and empty fields are left out, as Go's omitempty does.
        assert!(json["client"].get("rtt").is_none());
        assert!(json["client"].get("user").is_none());
    }

    #[test]
    fn api_response_embeds_data_verbatim() {
        let data = RawValue::from_string("{\"a\":1}".into()).unwrap();
        let response = ApiResponse {
            server: server(),
            data: Some(&data),
            error: None,
        };
        let text = serde_json::to_string(&response).unwrap();
        assert!(text.ends_with(",\"data\":{\"a\":1}}"), "{text}");
        assert!(!text.contains("error"));
    }
}
