//! The `$SYS.REQ` requests: server pings and direct requests, per-account requests, each
//! answered in nats-server's envelope with the monitoring endpoint's JSON.

use super::events::{ApiResponse, ApiResponseError, EventServer, ServerStats, ServerStatsMessage};
use super::Worker;
use crate::info::NATS_COMPATIBLE_VERSION;
use crate::monitor::others::DataStats;
use crate::monitor::process::ProcessUsage;
use crate::monitor::query::Query;
use crate::monitor::{format, http, jetstream};
use crate::server::ServerState;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The server endpoints of `$SYS.REQ.SERVER.PING.<EP>` and `$SYS.REQ.SERVER.<id>.<EP>`, with
/// the monitoring path that answers each.
const SERVER_ENDPOINTS: &[(&str, &str)] = &[
    ("VARZ", "/varz"),
    ("SUBSZ", "/subsz"),
    ("CONNZ", "/connz"),
    ("ROUTEZ", "/routez"),
    ("GATEWAYZ", "/gatewayz"),
    ("LEAFZ", "/leafz"),
    ("ACCOUNTZ", "/accountz"),
    ("JSZ", "/jsz"),
    ("HEALTHZ", "/healthz"),
];

/// The request keys that choose which servers answer (`EventFilterOptions`), not options of
/// the endpoint.
const FILTER_KEYS: &[&str] = &["server_name", "cluster", "host", "tags", "domain"];

/// The subjects the system account's internal client subscribes to.
pub(super) fn filters(server_id: &str) -> Vec<String> {
    vec![
        "$SYS.REQ.SERVER.PING".to_string(),
        "$SYS.REQ.SERVER.PING.*".to_string(),
        format!("$SYS.REQ.SERVER.{server_id}.*"),
        "$SYS.REQ.ACCOUNT.*.*".to_string(),
    ]
}

/// What a request asks for, once its subject is read.
enum Target<'a> {
    /// Server statistics (`$SYS.REQ.SERVER.PING`, `...STATSZ`).
    Statsz,
    /// A server-wide monitoring endpoint.
    Server(&'static str),
    /// One account's endpoint.
    Account(&'a str, &'a str),
    /// Every account's statistics (`$SYS.REQ.ACCOUNT.PING.STATZ`).
    AllAccountsStatz,
}

fn target<'a>(subject: &'a str, server_id: &str) -> Option<Target<'a>> {
    let tokens: Vec<&str> = subject.split('.').collect();
    match tokens.as_slice() {
        ["$SYS", "REQ", "SERVER", "PING"] => Some(Target::Statsz),
        ["$SYS", "REQ", "SERVER", who, endpoint] if *who == "PING" || *who == server_id => {
            if *endpoint == "STATSZ" {
                return Some(Target::Statsz);
            }
            SERVER_ENDPOINTS
                .iter()
                .find(|(name, _)| name == endpoint)
                .map(|(_, path)| Target::Server(path))
        }
        ["$SYS", "REQ", "ACCOUNT", "PING", "STATZ"] => Some(Target::AllAccountsStatz),
        ["$SYS", "REQ", "ACCOUNT", account, endpoint] => Some(Target::Account(account, endpoint)),
        _ => None,
    }
}

impl Worker {
    /// Answers one request; requests this server is filtered out of get no answer.
    pub(super) fn request(&mut self, subject: &str, reply: Option<&str>, body: &[u8]) {
        let Some(target) = target(subject, &self.server.server_id) else {
            return;
        };
        let options = match parse_body(body) {
            Ok(options) => options,
            Err(description) => {
                if let Some(reply) = reply {
                    self.respond(reply, Err((400, description)));
                }
                return;
            }
        };
        if !self.selected(&options) {
            return;
        }
        if let Target::Statsz = target {
            // No reply asks for the broadcast, as nats-server's statszReq reads it.
            let default = format!("$SYS.SERVER.{}.STATSZ", self.server.server_id);
            self.send_statsz(reply.unwrap_or(&default));
            return;
        }
        let Some(reply) = reply else {
            return;
        };
        if let Target::Account(account, "CONNS") = target {
            // nats-server answers CONNS with the connection count event itself.
            if let Some(stat) = http::account_stat(&self.server, account) {
                let message = self.account_connections_message(stat);
                self.publish(reply, &message);
            }
            return;
        }
        let answer = match target {
            Target::Server(path) => endpoint(&self.server, path, &options, &[]),
            Target::Account(account, endpoint_name) => {
                match account_endpoint(&self.server, account, endpoint_name, &options) {
                    Some(answer) => answer,
                    None => return,
                }
            }
            Target::AllAccountsStatz => match accounts_statz(&self.server, &options, None) {
                Some(answer) => answer,
                None => return,
            },
            Target::Statsz => return,
        };
        self.respond(reply, answer);
    }

    /// Whether this server is one the request's filter options select.
    fn selected(&self, options: &Map<String, Value>) -> bool {
        let text = |key: &str| options.get(key).and_then(Value::as_str).unwrap_or("");
        let server_options = self.server.options();
        let name = text("server_name");
        let host = text("host");
        let domain = text("domain");
        let tags = options.get("tags").and_then(Value::as_array);
        (name.is_empty() || self.server.server_name.contains(name))
            && (host.is_empty() || server_options.host.contains(host))
            // Without clustering no cluster name matches a non-empty filter.
            && text("cluster").is_empty()
            && tags.is_none_or(|tags| tags.is_empty())
            && (domain.is_empty() || server_options.jetstream.domain == domain)
    }

    fn respond(&mut self, reply: &str, answer: Result<Vec<u8>, (u16, String)>) {
        let server = self.event_server();
        let data = match &answer {
            Ok(json) => RawValue::from_string(compact(json)).ok(),
            Err(_) => None,
        };
        let response = ApiResponse {
            server,
            data: data.as_deref(),
            error: answer
                .err()
                .map(|(code, description)| ApiResponseError { code, description }),
        };
        self.publish(reply, &response);
    }

    /// Publishes the server's statistics to `subject`.
    pub(super) fn send_statsz(&mut self, subject: &str) {
        let server = &self.server;
        let usage = ProcessUsage::read();
        let stats = &server.stats;
        let (subscriptions, active_accounts) = http::subscription_totals(server);
        let statsz = ServerStats {
            start: format::rfc3339_nanos(server.monitor.start),
            mem: usage.resident_bytes,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: server.monitor.cpu.percent(Instant::now(), usage.cpu_ticks),
            connections: server.client_count(),
            total_connections: stats.total_connections.load(Ordering::Relaxed),
            active_accounts,
            subscriptions,
            sent: DataStats {
                msgs: stats.out_msgs.load(Ordering::Relaxed),
                bytes: stats.out_bytes.load(Ordering::Relaxed),
            },
            received: DataStats {
                msgs: stats.in_msgs.load(Ordering::Relaxed),
                bytes: stats.in_bytes.load(Ordering::Relaxed),
            },
            slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
            active_servers: 1,
            jetstream: jetstream::snapshot(server)
                .map(|snapshot| jetstream::varz_section(Some(&snapshot))),
        };
        let message = ServerStatsMessage {
            server: self.event_server(),
            statsz,
        };
        self.publish(subject, &message);
    }
}

/// One account's endpoint; `None` when nothing should be answered.
fn account_endpoint(
    server: &Arc<ServerState>,
    account: &str,
    name: &str,
    options: &Map<String, Value>,
) -> Option<Result<Vec<u8>, (u16, String)>> {
    let acc = ("acc", account);
    let answer = match name {
        "SUBSZ" => endpoint(server, "/subsz", options, &[acc, ("subs", "1")]),
        "CONNZ" => endpoint(server, "/connz", options, &[acc]),
        "LEAFZ" => endpoint(server, "/leafz", options, &[acc]),
        // nats-server answers both with the account's detail alone.
        "JSZ" => endpoint(server, "/jsz", options, &[acc]).and_then(|json| {
            let missing = format!("account {account:?} not jetstream enabled");
            extract(
                &json,
                |value| value.get_mut("account_details")?.get_mut(0),
                missing,
            )
        }),
        "INFO" => endpoint(server, "/accountz", options, &[acc]).and_then(|json| {
            let missing = format!("account {account:?} does not exist");
            extract(&json, |value| value.get_mut("account_detail"), missing)
        }),
        "STATZ" => return accounts_statz(server, options, Some(account)),
        _ => return None,
    };
    Some(answer)
}

/// The part of an endpoint's answer that `pick` finds, or a 500 with `missing`.
fn extract(
    json: &[u8],
    pick: impl FnOnce(&mut Value) -> Option<&mut Value>,
    missing: String,
) -> Result<Vec<u8>, (u16, String)> {
    let mut value: Value = serde_json::from_slice(json).map_err(|e| (500, e.to_string()))?;
    let part = pick(&mut value).map(Value::take).ok_or((500, missing))?;
    serde_json::to_vec(&part).map_err(|e| (500, e.to_string()))
}

/// `/accstatz` for one account or all; `None` when no account has connections and unused
/// ones were not asked for (nats-server stays silent then).
fn accounts_statz(
    server: &Arc<ServerState>,
    options: &Map<String, Value>,
    account: Option<&str>,
) -> Option<Result<Vec<u8>, (u16, String)>> {
    let include_unused = options
        .get("include_unused")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let extra: Vec<(&str, &str)> = account.map(|name| ("accs", name)).into_iter().collect();
    let answer = endpoint(server, "/accstatz", options, &extra);
    if let Ok(json) = &answer {
        let value: Value = serde_json::from_slice(json).unwrap_or(Value::Null);
        let empty = value["account_statz"]
            .as_array()
            .is_none_or(|accounts| accounts.is_empty());
        if empty && !include_unused {
            return None;
        }
    }
    Some(answer)
}

/// Runs a monitoring endpoint with the request's options (read as its query) and `extra`.
fn endpoint(
    server: &Arc<ServerState>,
    path: &str,
    options: &Map<String, Value>,
    extra: &[(&str, &str)],
) -> Result<Vec<u8>, (u16, String)> {
    let mut pairs = query_pairs(options);
    for (key, value) in extra {
        pairs.retain(|(existing, _)| existing != key);
        pairs.push((key.to_string(), value.to_string()));
    }
    http::answer(server, path, &Query::from_pairs(pairs)).map_err(|text| (500, text))
}

/// Reads a request body: empty is no options; otherwise a JSON object.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("json: cannot unmarshal non-object into Go value".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A request's JSON options as the monitoring query parameters of the same meaning
/// (`ConnzOptions`, `SubszOptions`, `JSzOptions`... have JSON names of their own).
fn query_pairs(options: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (key, value) in options {
        if FILTER_KEYS.contains(&key.as_str()) {
            continue;
        }
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Bool(flag) => flag.to_string(),
            Value::Number(number) => number.to_string(),
            Value::Array(items) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            _ => continue,
        };
        let (name, text) = match key.as_str() {
            "subscriptions" => ("subs", text),
            "subscriptions_detail" if text == "true" => ("subs", "detail".to_string()),
            "account" => ("acc", text),
            "accounts" if value.is_array() => ("accs", text),
            "include_unused" => ("unused", text),
            "leader_only" => ("leader-only", text),
            "consumer" => ("consumers", text),
            "state" => (
                "state",
                match text.as_str() {
                    "1" => "closed".to_string(),
                    "2" => "all".to_string(),
                    _ => "open".to_string(),
                },
            ),
            other => (other, text),
        };
        pairs.push((name.to_string(), text));
    }
    pairs
}

/// The server block of system messages.
pub(super) fn event_server(server: &ServerState, seq: u64) -> EventServer {
    let options = server.options();
    EventServer {
        name: server.server_name.clone(),
        host: options.host.clone(),
        id: server.server_id.clone(),
        cluster: String::new(),
        domain: options.jetstream.domain.clone(),
        ver: NATS_COMPATIBLE_VERSION.to_string(),
        seq,
        jetstream: options.jetstream.enabled,
        time: format::rfc3339_nanos(SystemTime::now()),
    }
}

/// Monitoring's indented JSON written compactly, as nats-server's `json.Marshal` writes
/// system answers: whitespace outside strings dropped.
fn compact(json: &[u8]) -> String {
    let text = String::from_utf8_lossy(json);
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for ch in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
        } else if ch == '"' {
            in_string = true;
        } else if ch.is_ascii_whitespace() {
            continue;
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_their_targets() {
        assert!(matches!(
            target("$SYS.REQ.SERVER.PING", "NID"),
            Some(Target::Statsz)
        ));
        assert!(matches!(
            target("$SYS.REQ.SERVER.PING.STATSZ", "NID"),
            Some(Target::Statsz)
        ));
        assert!(matches!(
            target("$SYS.REQ.SERVER.NID.VARZ", "NID"),
            Some(Target::Server("/varz"))
        ));
        assert!(target("$SYS.REQ.SERVER.OTHER.VARZ", "NID").is_none());
        assert!(target("$SYS.REQ.SERVER.PING.NOPE", "NID").is_none());
        assert!(matches!(
            target("$SYS.REQ.ACCOUNT.A.CONNZ", "NID"),
            Some(Target::Account("A", "CONNZ"))
        ));
        assert!(matches!(
            target("$SYS.REQ.ACCOUNT.PING.STATZ", "NID"),
            Some(Target::AllAccountsStatz)
        ));
    }

    #[test]
    fn json_options_become_query_parameters() {
        let options = parse_body(
            br#"{"subscriptions":true,"acc":"A","state":1,"limit":5,"accounts":["X","Y"],"server_name":"n"}"#,
        )
        .unwrap();
        let query = Query::from_pairs(query_pairs(&options));
        assert_eq!(query.get("subs"), Some("true"));
        assert_eq!(query.get("acc"), Some("A"));
        assert_eq!(query.get("state"), Some("closed"));
        assert_eq!(query.get("limit"), Some("5"));
        assert_eq!(query.get("accs"), Some("X,Y"));
        assert_eq!(query.get("server_name"), None);
    }

    #[test]
    fn bad_bodies_are_refused_and_empty_ones_accepted() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert!(parse_body(b"  ").unwrap().is_empty());
        assert!(parse_body(b"{").is_err());
        assert!(parse_body(b"[1]").is_err());
    }

    #[test]
    fn compact_keeps_strings_whole() {
        assert_eq!(
            compact(b"{\n  \"a b\": \"x \\\" y\",\n  \"c\": [1, 2]\n}"),
            "{\"a b\":\"x \\\" y\",\"c\":[1,2]}"
        );
        assert_eq!(compact("{ \"é\": \"ü ü\" }".as_bytes()), "{\"é\":\"ü ü\"}");
    }
}
