//! The endpoints of features Natrium does not have yet (routes, gateways, leaf nodes),
//! answering as nats-server does with those features off, the account endpoints, plus
//! `/healthz` and the `/` index.

use super::subsz::SublistStats;
use serde::Serialize;

/// `/routez` with no cluster.
#[derive(Debug, Serialize)]
pub struct Routez {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// Routes: none.
    pub num_routes: usize,
    /// Routes: none.
    pub routes: Vec<()>,
}

/// `/gatewayz` with no gateways.
#[derive(Debug, Serialize)]
pub struct Gatewayz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// Outbound gateways by name: none.
    pub outbound_gateways: std::collections::BTreeMap<String, ()>,
    /// Inbound gateways by name: none.
    pub inbound_gateways: std::collections::BTreeMap<String, ()>,
}

/// `/leafz` with no leaf nodes (`leafs` is `null`, as in nats-server).
#[derive(Debug, Serialize)]
pub struct Leafz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// Leaf node connections: none.
    pub leafnodes: usize,
    /// Leaf node connections: none.
    pub leafs: Option<Vec<()>>,
}

/// `/accountz`: the account names, or one account's detail with `acc=`.
#[derive(Debug, Serialize)]
pub struct Accountz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// Account names (without `acc=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    /// One account (with `acc=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_detail: Option<AccountInfo>,
}

/// nats-server's `AccountInfo`, for an account without JWT, imports or exports.
#[derive(Debug, Serialize)]
pub struct AccountInfo {
    /// Its name.
    pub account_name: String,
    /// When it was last updated (server start for the global account).
    pub update_time: String,
    /// Whether its JWT expired.
    pub expired: bool,
    /// Whether it is fully loaded.
    pub complete: bool,
    /// Whether JetStream is on for it.
    pub jetstream_enabled: bool,
    /// Its leaf node connections.
    pub leafnode_connections: usize,
    /// Its client connections.
    pub client_connections: usize,
    /// Its subscriptions.
    pub subscriptions: u64,
    /// Its sublist statistics.
    pub sublist_stats: SublistStats,
}

/// `/accstatz`.
#[derive(Debug, Serialize)]
pub struct AccountStatz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// One entry per account with connections (all with `unused=1`).
    pub account_statz: Vec<AccountStat>,
}

/// One account's traffic, as nats-server's `AccountStat`.
#[derive(Debug, Serialize)]
pub struct AccountStat {
    /// The account.
    pub acc: String,
    /// Client connections.
    pub conns: usize,
    /// Leaf node connections.
    pub leafnodes: usize,
    /// Both.
    pub total_conns: usize,
    /// Delivered to its clients.
    pub sent: DataStats,
    /// Received from its clients.
    pub received: DataStats,
    /// Its slow consumers.
    pub slow_consumers: u64,
}

/// A message and byte count pair.
#[derive(Debug, Serialize)]
pub struct DataStats {
    /// Messages.
    pub msgs: u64,
    /// Bytes.
    pub bytes: u64,
}

/// `/healthz`.
#[derive(Debug, Serialize)]
pub struct HealthStatus {
    /// `ok`, `unavailable` or `error`.
    pub status: &'static str,
    /// What is wrong, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `/` page: links to every endpoint, relative so a base path keeps working.
pub fn index_html(version: &str) -> String {
    let links = [
        ("varz", "General"),
        ("jsz", "JetStream"),
        ("connz", "Connections"),
        ("accountz", "Accounts"),
        ("accstatz", "Account Stats"),
        ("subsz", "Subscriptions"),
        ("routez", "Routes"),
        ("leafz", "LeafNodes"),
        ("gatewayz", "Gateways"),
        ("healthz", "Health Probe"),
        ("metrics", "Prometheus Metrics"),
    ];
    let mut html = format!(
        "<html lang=\"en\">\n<head><title>Natrium monitoring</title></head>\n<body>\n\
         <h1>Natrium</h1>\n<p>natrium v{version}</p>\n"
    );
    for (path, title) in links {
        html.push_str(&format!("<a href=./{path}>{title}</a><br/>\n"));
    }
    html.push_str("</body>\n</html>\n");
    html
}
