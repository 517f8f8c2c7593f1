//! `/connz`: open and recently closed client connections, filtered, sorted and paged the
//! way nats-server does it. Everything here works on plain snapshots (`ConnectionRecord`)
//! and a `now` passed in, so it needs no server to test.

use super::format;
use super::query::{Query, QueryError};
use crate::client::ClientIdentity;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How many connections `/connz` lists when `limit` is absent (nats-server's `DefaultConnListSize`).
pub const DEFAULT_CONNECTION_LIST_SIZE: usize = 1024;
/// How many closed connections are remembered (nats-server's `DEFAULT_MAX_CLOSED_CLIENTS`).
pub const DEFAULT_MAX_CLOSED_CLIENTS: usize = 10_000;

/// One subscription as `/connz` and `/subsz` list it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubDetail {
    /// The account; only `/subsz` shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The subject filter.
    pub subject: String,
    /// The queue group.
    #[serde(rename = "qgroup", skip_serializing_if = "String::is_empty")]
    pub queue: String,
    /// The client's subscription id.
    pub sid: String,
    /// Messages delivered so far.
    pub msgs: u64,
    /// The auto-unsubscribe limit; 0 (not shown) means none.
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    /// The subscribing connection.
    pub cid: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// A connection's state at one moment: the input of every `/connz` answer.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    /// The connection id.
    pub cid: u64,
    /// The client's address.
    pub ip: String,
    /// The client's port.
    pub port: u16,
    /// When it connected.
    pub start: SystemTime,
    /// When it last sent anything.
    pub last_activity: SystemTime,
    /// When it closed; `None` while open.
    pub stop: Option<SystemTime>,
    /// Why it closed.
    pub reason: Option<&'static str>,
    /// The last PING round trip, in nanoseconds.
    pub rtt_nanos: u64,
    /// Bytes queued to it and not yet written.
    pub pending_bytes: usize,
    /// Messages received from it.
    pub in_msgs: u64,
    /// Messages sent to it.
    pub out_msgs: u64,
    /// Message bytes received from it.
    pub in_bytes: u64,
    /// Message bytes sent to it.
    pub out_bytes: u64,
    /// How many subscriptions it has.
    pub num_subscriptions: usize,
    /// Its subscriptions, when asked for (always kept for closed connections).
    pub subscriptions: Vec<SubDetail>,
    /// What CONNECT said.
    pub identity: Arc<ClientIdentity>,
    /// Its account.
    pub account: Arc<str>,
    /// It came through the websocket listener.
    pub websocket: bool,
}

impl ConnectionRecord {
    fn uptime(&self, now: SystemTime) -> Duration {
        elapsed(self.start, self.stop.unwrap_or(now))
    }

    fn idle(&self, now: SystemTime) -> Duration {
        elapsed(self.last_activity, self.stop.unwrap_or(now))
    }
}

fn elapsed(from: SystemTime, to: SystemTime) -> Duration {
    to.duration_since(from).unwrap_or(Duration::ZERO)
}

/// The bounded ring of closed connections, oldest first.
pub struct ClosedConnections {
    ring: parking_lot::Mutex<VecDeque<Arc<ConnectionRecord>>>,
    capacity: usize,
}

impl ClosedConnections {
    /// An empty ring keeping at most `capacity` records.
    pub fn new(capacity: usize) -> Self {
        ClosedConnections {
            ring: parking_lot::Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// Remembers `record`, forgetting the oldest one when full.
    pub fn push(&self, record: ConnectionRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring.lock();
        if ring.len() >= self.capacity {
            ring.pop_front();
        }
        ring.push_back(Arc::new(record));
    }

    /// Every remembered record, oldest first.
    pub fn snapshot(&self) -> Vec<Arc<ConnectionRecord>> {
        self.ring.lock().iter().cloned().collect()
    }
}

/// Which connections `state=` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Open connections (the default).
    Open,
    /// Closed connections still in the ring.
    Closed,
    /// Both.
    Any,
}

/// How much of each connection's interest to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubsLevel {
    /// None.
    None,
    /// Subjects only (`subs=1`).
    Subjects,
    /// Full details (`subs=detail`).
    Detail,
}

/// The sort keys nats-server accepts (`sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Connection id, ascending (also `start`).
    Cid,
    /// Subscription count, descending.
    Subs,
    /// Pending bytes, descending.
    Pending,
    /// Messages sent to the client, descending.
    OutMsgs,
    /// Messages received from the client, descending.
    InMsgs,
    /// Bytes sent to the client, descending.
    OutBytes,
    /// Bytes received from the client, descending.
    InBytes,
    /// Last activity, most recent first.
    Last,
    /// Idle time, longest first.
    Idle,
    /// Uptime, shortest first.
    Uptime,
    /// Close time, most recent first (closed connections only).
    Stop,
    /// Close reason, alphabetical (closed connections only).
    Reason,
    /// Round trip time, longest first.
    Rtt,
}

impl SortKey {
    fn parse(text: &str) -> Option<SortKey> {
        Some(match text {
            "" | "cid" | "start" => SortKey::Cid,
            "subs" => SortKey::Subs,
            "pending" => SortKey::Pending,
            "msgs_to" => SortKey::OutMsgs,
            "msgs_from" => SortKey::InMsgs,
            "bytes_to" => SortKey::OutBytes,
            "bytes_from" => SortKey::InBytes,
            "last" => SortKey::Last,
            "idle" => SortKey::Idle,
            "uptime" => SortKey::Uptime,
            "stop" => SortKey::Stop,
            "reason" => SortKey::Reason,
            "rtt" => SortKey::Rtt,
            _ => return None,
        })
    }
}

/// The `/connz` query.
#[derive(Debug, Clone)]
pub struct ConnzOptions {
    /// Sort order.
    pub sort: SortKey,
    /// Show the authorized user and account.
    pub auth: bool,
    /// Subscription detail level.
    pub subs: SubsLevel,
    /// Skip this many.
    pub offset: usize,
    /// Show at most this many.
    pub limit: usize,
    /// Only this connection id (0 = all).
    pub cid: u64,
    /// Open, closed or both.
    pub state: ConnState,
    /// Only connections of this user.
    pub user: String,
    /// Only connections of this account.
    pub account: String,
}

impl ConnzOptions {
    /// Reads the query parameters, with nats-server's error texts.
    pub fn from_query(query: &Query) -> Result<ConnzOptions, QueryError> {
        let sort_text = query.get("sort").unwrap_or_default();
        let auth = query.bool("auth")?;
        let subs = match query.get("subs") {
            Some(value) if value.eq_ignore_ascii_case("detail") => SubsLevel::Detail,
            _ if query.bool("subs")? => SubsLevel::Subjects,
            _ => SubsLevel::None,
        };
        let offset = query.int("offset")?.max(0) as usize;
        let limit = match query.int("limit")? {
            limit if limit <= 0 => DEFAULT_CONNECTION_LIST_SIZE,
            limit => limit as usize,
        };
        let cid = query.uint("cid")?;
        let state = match query
            .get("state")
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("open") => ConnState::Open,
            Some("closed") => ConnState::Closed,
            Some("any") | Some("all") => ConnState::Any,
            Some(_) => {
                return Err(QueryError(format!(
                    "Error decoding state for {}",
                    query.get("state").unwrap_or_default()
                )))
            }
        };
        let sort = SortKey::parse(sort_text)
            .ok_or_else(|| QueryError(format!("invalid sorting option: {sort_text}")))?;
        if sort == SortKey::Stop && state != ConnState::Closed {
            return Err(QueryError(
                "sort by stop only valid on closed connections".into(),
            ));
        }
        if sort == SortKey::Reason && state != ConnState::Closed {
            return Err(QueryError(
                "sort by reason only valid on closed connections".into(),
            ));
        }
        Ok(ConnzOptions {
            sort,
            auth,
            subs,
            offset,
            // Asking for one connection id shows at most one, as in nats-server.
            limit: if cid > 0 { 1 } else { limit },
            cid,
            state,
            user: query.get("user").unwrap_or_default().to_string(),
            account: query.get("acc").unwrap_or_default().to_string(),
        })
    }
}

/// The `/connz` answer, field names and order as nats-server's `Connz`.
#[derive(Debug, Serialize)]
pub struct Connz {
    /// The server's id.
    pub server_id: String,
    /// When the answer was made.
    pub now: String,
    /// Connections in this page.
    pub num_connections: usize,
    /// Connections matching the state and account filters, before paging.
    pub total: usize,
    /// The page's offset.
    pub offset: usize,
    /// The page's size limit.
    pub limit: usize,
    /// The page.
    pub connections: Vec<ConnInfo>,
}

/// One connection, field names and order as nats-server's `ConnInfo`.
#[derive(Debug, Serialize)]
pub struct ConnInfo {
    /// Connection id.
    pub cid: u64,
    /// Always `Client` for now.
    pub kind: &'static str,
    /// `nats`, or `websocket` for clients of the websocket listener.
    #[serde(rename = "type")]
    pub connection_type: &'static str,
    /// Client address.
    pub ip: String,
    /// Client port.
    pub port: u16,
    /// Connect time.
    pub start: String,
    /// Last activity time.
    pub last_activity: String,
    /// Close time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// Close reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Last round trip, Go duration text.
    pub rtt: String,
    /// Time connected.
    pub uptime: String,
    /// Time since last activity.
    pub idle: String,
    /// Bytes waiting to be written.
    pub pending_bytes: usize,
    /// Messages received.
    pub in_msgs: u64,
    /// Messages sent.
    pub out_msgs: u64,
    /// Bytes received.
    pub in_bytes: u64,
    /// Bytes sent.
    pub out_bytes: u64,
    /// Subscription count.
    pub subscriptions: usize,
    /// Client-given name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Client language.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    /// Client version.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Authenticated user (with `auth=1`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authorized_user: String,
    /// Account, unless global (with `auth=1`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    /// Subscribed subjects (with `subs=1`).
    #[serde(rename = "subscriptions_list", skip_serializing_if = "Vec::is_empty")]
    pub subscriptions_list: Vec<String>,
    /// Subscription details (with `subs=detail`).
    #[serde(
        rename = "subscriptions_list_detail",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subscriptions_list_detail: Vec<SubDetail>,
}

/// Builds the `/connz` answer from open and closed records (the caller gathers only the
/// states `options.state` asks for).
pub fn connz(
    server_id: &str,
    now: SystemTime,
    options: &ConnzOptions,
    open: Vec<ConnectionRecord>,
    closed: Vec<Arc<ConnectionRecord>>,
) -> Connz {
    let in_account = |record: &ConnectionRecord| {
        options.account.is_empty() || *record.account == *options.account
    };
    let open: Vec<ConnectionRecord> = open.into_iter().filter(|r| in_account(r)).collect();
    let closed: Vec<Arc<ConnectionRecord>> = closed.into_iter().filter(|r| in_account(r)).collect();
    let total = open.len() + closed.len();
    let mut records: Vec<&ConnectionRecord> = open
        .iter()
        .chain(closed.iter().map(|record| &**record))
        .filter(|record| options.cid == 0 || record.cid == options.cid)
        .filter(|record| options.user.is_empty() || record.identity.user == options.user)
        .collect();
    sort(&mut records, options.sort, now);
    let connections = records
        .into_iter()
        .skip(options.offset)
        .take(options.limit)
        .map(|record| conn_info(record, options, now))
        .collect::<Vec<_>>();
    Connz {
        server_id: server_id.to_string(),
        now: format::rfc3339_nanos(now),
        num_connections: connections.len(),
        total,
        offset: options.offset,
        limit: options.limit,
        connections,
    }
}

/// Sorts as nats-server does; ties keep connection id order so pages are stable.
fn sort(records: &mut [&ConnectionRecord], key: SortKey, now: SystemTime) {
    records.sort_by_key(|record| record.cid);
    match key {
        SortKey::Cid => {}
        SortKey::Subs => records.sort_by_key(|r| Reverse(r.num_subscriptions)),
        SortKey::Pending => records.sort_by_key(|r| Reverse(r.pending_bytes)),
        SortKey::OutMsgs => records.sort_by_key(|r| Reverse(r.out_msgs)),
        SortKey::InMsgs => records.sort_by_key(|r| Reverse(r.in_msgs)),
        SortKey::OutBytes => records.sort_by_key(|r| Reverse(r.out_bytes)),
        SortKey::InBytes => records.sort_by_key(|r| Reverse(r.in_bytes)),
        SortKey::Last => records.sort_by_key(|r| Reverse(r.last_activity)),
        SortKey::Idle => records.sort_by_key(|r| Reverse(r.idle(now))),
        SortKey::Uptime => records.sort_by_key(|r| r.uptime(now)),
        SortKey::Stop => records.sort_by_key(|r| Reverse(r.stop)),
        SortKey::Reason => records.sort_by_key(|r| r.reason.unwrap_or_default()),
        SortKey::Rtt => records.sort_by_key(|r| Reverse(r.rtt_nanos)),
    }
}

fn conn_info(record: &ConnectionRecord, options: &ConnzOptions, now: SystemTime) -> ConnInfo {
    let (subscriptions_list, subscriptions_list_detail) = match options.subs {
        SubsLevel::None => (Vec::new(), Vec::new()),
        SubsLevel::Subjects => (
            record
                .subscriptions
                .iter()
                .map(|sub| sub.subject.clone())
                .collect(),
            Vec::new(),
        ),
        SubsLevel::Detail => (Vec::new(), record.subscriptions.clone()),
    };
    let (authorized_user, account) = if options.auth {
        let account = if &*record.account == crate::account::GLOBAL_ACCOUNT {
            String::new()
        } else {
            record.account.to_string()
        };
        (record.identity.user.clone(), account)
    } else {
        (String::new(), String::new())
    };
    ConnInfo {
        cid: record.cid,
        kind: "Client",
        connection_type: if record.websocket {
            "websocket"
        } else {
            "nats"
        },
        ip: record.ip.clone(),
        port: record.port,
        start: format::rfc3339_nanos(record.start),
        last_activity: format::rfc3339_nanos(record.last_activity),
        stop: record.stop.map(format::rfc3339_nanos),
        reason: record.reason,
        rtt: format::rtt(record.rtt_nanos),
        uptime: format::uptime(record.uptime(now)),
        idle: format::uptime(record.idle(now)),
        pending_bytes: record.pending_bytes,
        in_msgs: record.in_msgs,
        out_msgs: record.out_msgs,
        in_bytes: record.in_bytes,
        out_bytes: record.out_bytes,
        subscriptions: record.num_subscriptions,
        name: record.identity.name.clone(),
        lang: record.identity.lang.clone(),
        version: record.identity.version.clone(),
        authorized_user,
        account,
        subscriptions_list,
        subscriptions_list_detail,
    }
}

#[cfg(test)]
mod tests;
