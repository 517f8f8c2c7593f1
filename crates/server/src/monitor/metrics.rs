//! `/metrics`: the server, each account and (once it exists) JetStream in the Prometheus
//! text exposition format (version 0.0.4). Names follow Prometheus conventions: a
//! `natrium_` namespace, base units, `_total` on counters, and the standard `process_`
//! names for memory and CPU. The README's "Monitoring" section lists them.

use super::jetstream::JetStreamSnapshot;
use std::fmt::Write;

/// The content type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Server-wide figures at one moment.
#[derive(Debug, Clone, Default)]
pub struct ServerFigures {
    /// The server's id.
    pub server_id: String,
    /// The server's name.
    pub server_name: String,
    /// Natrium's version.
    pub version: String,
    /// Open client connections.
    pub connections: u64,
    /// Client connections since start.
    pub total_connections: u64,
    /// Subscriptions in all accounts.
    pub subscriptions: u64,
    /// Slow consumers cut off.
    pub slow_consumers: u64,
    /// Messages received from clients.
    pub in_msgs: u64,
    /// Message bytes received from clients.
    pub in_bytes: u64,
    /// Messages sent to clients.
    pub out_msgs: u64,
    /// Message bytes sent to clients.
    pub out_bytes: u64,
    /// Resident memory, bytes.
    pub resident_bytes: u64,
    /// CPU time used, seconds.
    pub cpu_seconds: f64,
    /// Start time, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// One account's figures at one moment.
#[derive(Debug, Clone, Default)]
pub struct AccountFigures {
    /// The account's name.
    pub name: String,
    /// Open client connections.
    pub connections: u64,
    /// Client connections since start.
    pub total_connections: u64,
    /// Subscriptions.
    pub subscriptions: u64,
    /// Slow consumers cut off.
    pub slow_consumers: u64,
    /// Messages received from its clients.
    pub in_msgs: u64,
    /// Message bytes received from its clients.
    pub in_bytes: u64,
    /// Messages delivered to its clients.
    pub out_msgs: u64,
    /// Message bytes delivered to its clients.
    pub out_bytes: u64,
}

/// Gauge or counter.
#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

struct Exposition {
    text: String,
}

impl Exposition {
    /// Writes one metric family: its HELP and TYPE lines and one sample per label set.
    fn family(&mut self, name: &str, kind: Kind, help: &str, samples: &[(String, f64)]) {
        let kind = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(self.text, "{name}{labels} {value}");
        }
    }

    fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help, &[(String::new(), value)]);
    }
}

/// `{name="value",...}` with the exposition format's escapes.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(name, value)| {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Renders every metric. `jetstream` is `None` while JetStream is off: only
/// `natrium_jetstream_enabled 0` is written then.
pub fn render(
    server: &ServerFigures,
    accounts: &[AccountFigures],
    jetstream: Option<&JetStreamSnapshot>,
) -> String {
    let mut out = Exposition {
        text: String::with_capacity(4096),
    };
    let info = labels(&[
        ("server_id", &server.server_id),
        ("server_name", &server.server_name),
        ("version", &server.version),
    ]);
    out.family(
        "natrium_server_info",
        Kind::Gauge,
        "Server identity; the value is always 1.",
        &[(info, 1.0)],
    );
    let server_metrics: [(&str, Kind, &str, u64); 9] = [
        (
            "natrium_server_connections",
            Kind::Gauge,
            "Open client connections.",
            server.connections,
        ),
        (
            "natrium_server_connections_total",
            Kind::Counter,
            "Client connections accepted since start.",
            server.total_connections,
        ),
        (
            "natrium_server_subscriptions",
            Kind::Gauge,
            "Subscriptions in all accounts.",
            server.subscriptions,
        ),
        (
            "natrium_server_slow_consumers_total",
            Kind::Counter,
            "Clients cut off as slow consumers.",
            server.slow_consumers,
        ),
        (
            "natrium_server_in_messages_total",
            Kind::Counter,
            "Messages received from clients.",
            server.in_msgs,
        ),
        (
            "natrium_server_in_bytes_total",
            Kind::Counter,
            "Message bytes (headers and payload) received from clients.",
            server.in_bytes,
        ),
        (
            "natrium_server_out_messages_total",
            Kind::Counter,
            "Messages delivered to clients.",
            server.out_msgs,
        ),
        (
            "natrium_server_out_bytes_total",
            Kind::Counter,
            "Message bytes (headers and payload) delivered to clients.",
            server.out_bytes,
        ),
        (
            "process_resident_memory_bytes",
            Kind::Gauge,
            "Resident memory size in bytes.",
            server.resident_bytes,
        ),
    ];
    for (name, kind, help, value) in server_metrics {
        out.single(name, kind, help, value as f64);
    }
    out.single(
        "process_cpu_seconds_total",
        Kind::Counter,
        "User and system CPU time spent, in seconds.",
        server.cpu_seconds,
    );
    out.single(
        "process_start_time_seconds",
        Kind::Gauge,
        "Start time of the process since the Unix epoch, in seconds.",
        server.start_time_seconds,
    );

    type AccountField = fn(&AccountFigures) -> u64;
    let account_metrics: [(&str, Kind, &str, AccountField); 8] = [
        (
            "natrium_account_connections",
            Kind::Gauge,
            "Open client connections of the account.",
            |a| a.connections,
        ),
        (
            "natrium_account_connections_total",
            Kind::Counter,
            "Client connections of the account since start.",
            |a| a.total_connections,
        ),
        (
            "natrium_account_subscriptions",
            Kind::Gauge,
            "Subscriptions of the account.",
            |a| a.subscriptions,
        ),
        (
            "natrium_account_slow_consumers_total",
            Kind::Counter,
            "Clients of the account cut off as slow consumers.",
            |a| a.slow_consumers,
        ),
        (
            "natrium_account_in_messages_total",
            Kind::Counter,
            "Messages received from the account's clients.",
            |a| a.in_msgs,
        ),
        (
            "natrium_account_in_bytes_total",
            Kind::Counter,
            "Message bytes received from the account's clients.",
            |a| a.in_bytes,
        ),
        (
            "natrium_account_out_messages_total",
            Kind::Counter,
            "Messages delivered to the account's clients.",
            |a| a.out_msgs,
        ),
        (
            "natrium_account_out_bytes_total",
            Kind::Counter,
            "Message bytes delivered to the account's clients.",
            |a| a.out_bytes,
        ),
    ];
    for (name, kind, help, field) in account_metrics {
        let samples: Vec<(String, f64)> = accounts
            .iter()
            .map(|account| (labels(&[("account", &account.name)]), field(account) as f64))
            .collect();
        out.family(name, kind, help, &samples);
    }

    out.single(
        "natrium_jetstream_enabled",
        Kind::Gauge,
        "1 if JetStream is running, else 0.",
        if jetstream.is_some() { 1.0 } else { 0.0 },
    );
    if let Some(js) = jetstream {
        let jetstream_metrics: [(&str, Kind, &str, u64); 8] = [
            (
                "natrium_jetstream_streams",
                Kind::Gauge,
                "Streams.",
                js.streams,
            ),
            (
                "natrium_jetstream_consumers",
                Kind::Gauge,
                "Consumers.",
                js.consumers,
            ),
            (
                "natrium_jetstream_messages",
                Kind::Gauge,
                "Messages stored in all streams.",
                js.messages,
            ),
            (
                "natrium_jetstream_stored_bytes",
                Kind::Gauge,
                "Bytes stored in all streams.",
                js.bytes,
            ),
            (
                "natrium_jetstream_memory_bytes",
                Kind::Gauge,
                "Memory used by memory-backed streams, in bytes.",
                js.memory,
            ),
            (
                "natrium_jetstream_storage_bytes",
                Kind::Gauge,
                "Storage used by file-backed streams, in bytes.",
                js.storage,
            ),
            (
                "natrium_jetstream_api_requests_total",
                Kind::Counter,
                "JetStream API requests served.",
                js.api_total,
            ),
            (
                "natrium_jetstream_api_errors_total",
                Kind::Counter,
                "JetStream API requests answered with an error.",
                js.api_errors,
            ),
        ];
        for (name, kind, help, value) in jetstream_metrics {
            out.single(name, kind, help, value as f64);
        }
    }
    out.text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            labels(&[("a", "x\"y\\z\n"), ("b", "$G")]),
            "{a=\"x\\\"y\\\\z\\n\",b=\"$G\"}"
        );
    }

    #[test]
    fn jetstream_metrics_appear_only_when_running() {
        let server = ServerFigures::default();
        let off = render(&server, &[], None);
        assert!(off.contains("natrium_jetstream_enabled 0\n"));
        assert!(!off.contains("natrium_jetstream_streams"));
        let on = render(
            &server,
            &[],
            Some(&JetStreamSnapshot {
                streams: 3,
                ..Default::default()
            }),
        );
        assert!(on.contains("natrium_jetstream_enabled 1\n"));
        assert!(on.contains("natrium_jetstream_streams 3\n"));
    }
}
