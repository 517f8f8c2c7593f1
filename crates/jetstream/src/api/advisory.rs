//! JetStream advisories as nats-server publishes them into the account: the API audit on
//! `$JS.EVENT.ADVISORY.API` after every counted request, and stream actions on
//! `$JS.EVENT.ADVISORY.STREAM.{CREATED,DELETED,UPDATED}.<stream>`.

use natrium_gofmt::rfc3339_or_zero;
use serde::Serialize;

/// Where API audits go.
pub const API_AUDIT_SUBJECT: &str = "$JS.EVENT.ADVISORY.API";
/// The `type` of an API audit.
pub const API_AUDIT_TYPE: &str = "io.nats.jetstream.advisory.v1.api_audit";
/// The `type` of a stream action.
pub const STREAM_ACTION_TYPE: &str = "io.nats.jetstream.advisory.v1.stream_action";

/// What happened to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamAction {
    /// Created (`$JS.EVENT.ADVISORY.STREAM.CREATED.<stream>`).
    Create,
    /// Deleted (`...DELETED.<stream>`).
    Delete,
    /// Its configuration changed (`...UPDATED.<stream>`).
    Modify,
}

impl StreamAction {
    fn subject_token(self) -> &'static str {
        match self {
            StreamAction::Create => "CREATED",
            StreamAction::Delete => "DELETED",
            StreamAction::Modify => "UPDATED",
        }
    }

    fn name(self) -> &'static str {
        match self {
            StreamAction::Create => "create",
            StreamAction::Delete => "delete",
            StreamAction::Modify => "modify",
        }
    }
}

/// The client an audited request came from; only the account is known to the engine.
#[derive(Serialize)]
struct ClientInfo<'a> {
    acc: &'a str,
}

#[derive(Serialize)]
struct ApiAudit<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    timestamp: String,
    server: &'a str,
    client: ClientInfo<'a>,
    subject: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    request: &'a str,
    response: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
}

#[derive(Serialize)]
struct StreamActionAdvisory<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    timestamp: String,
    stream: &'a str,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
}

/// Advisories waiting to be sent, and the ids they get.
#[derive(Debug, Default)]
pub struct Advisories {
    pending: Vec<(String, Vec<u8>)>,
    id_prefix: String,
    next_id: u64,
}

/// Digits of event ids, as nats-server's NUIDs use them.
const ID_DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut value: u64, width: usize, out: &mut String) {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = ID_DIGITS[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits.into_iter().map(char::from));
}

impl Advisories {
    /// A fresh id: a prefix fixed at the first event (from its time, so ids differ across
    /// restarts) and a counter, 22 characters like a NUID.
    pub(super) fn id(&mut self, now: i64) -> String {
        if self.id_prefix.is_empty() {
            // Spread the start time over the prefix (splitmix64's finaliser), so prefixes of
            // servers started close together still differ in their first characters.
            let mut seed = now as u64 ^ 0x9e37_79b9_7f4a_7c15;
            seed = (seed ^ (seed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            seed = (seed ^ (seed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            base62(seed ^ (seed >> 31), 12, &mut self.id_prefix);
        }
        self.next_id += 1;
        let mut id = self.id_prefix.clone();
        base62(self.next_id, 10, &mut id);
        id
    }

    /// Queues a stream action advisory.
    pub fn stream_action(
        &mut self,
        action: StreamAction,
        stream: &str,
        domain: Option<&str>,
        now: i64,
    ) {
        let advisory = StreamActionAdvisory {
            kind: STREAM_ACTION_TYPE,
            id: self.id(now),
            timestamp: rfc3339_or_zero(now),
            stream,
            action: action.name(),
            domain,
        };
        let subject = format!(
            "$JS.EVENT.ADVISORY.STREAM.{}.{stream}",
            action.subject_token()
        );
        self.push(subject, &advisory);
    }

    /// Queues the audit of one API request and its response.
    #[allow(clippy::too_many_arguments)]
    pub fn api_audit(
        &mut self,
        server: &str,
        account: &str,
        subject: &str,
        request: &[u8],
        response: &[u8],
        domain: Option<&str>,
        now: i64,
    ) {
        let audit = ApiAudit {
            kind: API_AUDIT_TYPE,
            id: self.id(now),
            timestamp: rfc3339_or_zero(now),
            server,
            client: ClientInfo { acc: account },
            subject,
            request: &String::from_utf8_lossy(request),
            response: &String::from_utf8_lossy(response),
            domain,
        };
        self.push(API_AUDIT_SUBJECT.to_string(), &audit);
    }

    pub(super) fn push(&mut self, subject: String, body: &impl Serialize) {
        if let Ok(bytes) = serde_json::to_vec(body) {
            self.pending.push((subject, bytes));
        }
    }

    /// Takes every queued advisory, oldest first, as (subject, body).
    pub fn drain(&mut self) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        self.pending.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisories_carry_nats_server_fields_and_unique_ids() {
        let mut advisories = Advisories::default();
        advisories.stream_action(StreamAction::Create, "ORDERS", None, 1_000);
        advisories.api_audit("n1", "$G", "$JS.API.INFO", b"", b"{}", Some("hub"), 2_000);
        let sent: Vec<_> = advisories.drain().collect();
        assert_eq!(sent[0].0, "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS");
        assert_eq!(sent[1].0, "$JS.EVENT.ADVISORY.API");
        let action: serde_json::Value = serde_json::from_slice(&sent[0].1).unwrap();
        let audit: serde_json::Value = serde_json::from_slice(&sent[1].1).unwrap();
        assert_eq!(action["type"], STREAM_ACTION_TYPE);
        assert_eq!(action["action"], "create");
        assert_eq!(action["timestamp"], "1970-01-01T00:00:00.000001Z");
        assert!(action.get("domain").is_none());
        assert_eq!(audit["client"]["acc"], "$G");
        assert_eq!(audit["domain"], "hub");
        assert!(
            audit.get("request").is_none(),
            "an empty request is left out"
        );
        let (first, second) = (
            action["id"].as_str().unwrap(),
            audit["id"].as_str().unwrap(),
        );
        assert_eq!(first.len(), 22);
        assert_ne!(first, second);
        assert_eq!(first[..12], second[..12]);
        assert_eq!(advisories.drain().count(), 0);
    }
}
