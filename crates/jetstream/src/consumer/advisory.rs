//! Consumer advisories published under `$JS.EVENT.ADVISORY.CONSUMER`, with nats-server's
//! subjects, schema types and field order (Go marshals struct fields in declaration order).

use crate::engine::Outbound;
use natrium_gofmt::rfc3339_or_zero;
use serde::Serialize;

/// `CREATED.<stream>.<consumer>`.
pub const CREATED_PREFIX: &str = "$JS.EVENT.ADVISORY.CONSUMER.CREATED";
/// `DELETED.<stream>.<consumer>`.
pub const DELETED_PREFIX: &str = "$JS.EVENT.ADVISORY.CONSUMER.DELETED";
/// `MAX_DELIVERIES.<stream>.<consumer>`.
pub const MAX_DELIVERIES_PREFIX: &str = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES";
/// `MSG_TERMINATED.<stream>.<consumer>`.
pub const MSG_TERMINATED_PREFIX: &str = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED";
/// `MSG_NAKED.<stream>.<consumer>`.
pub const MSG_NAKED_PREFIX: &str = "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED";

/// Schema type of CREATED and DELETED.
pub const ACTION_TYPE: &str = "io.nats.jetstream.advisory.v1.consumer_action";
/// Schema type of MAX_DELIVERIES.
pub const MAX_DELIVER_TYPE: &str = "io.nats.jetstream.advisory.v1.max_deliver";
/// Schema type of MSG_TERMINATED.
pub const TERMINATED_TYPE: &str = "io.nats.jetstream.advisory.v1.terminated";
/// Schema type of MSG_NAKED.
pub const NAK_TYPE: &str = "io.nats.jetstream.advisory.v1.nak";

/// Makes advisory ids: 22 base-62 characters like a NUID, from a seeded counter, so runs
/// replay exactly.
#[derive(Debug, Clone, Default)]
pub struct IdGenerator {
    counter: u64,
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl IdGenerator {
    /// The next id, mixed from the counter and `now` so restarts do not repeat ids.
    pub fn next_id(&mut self, now: i64) -> String {
        self.counter += 1;
        let mut state = (now as u64) ^ self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut id = String::with_capacity(22);
        for _ in 0..22 {
            state = splitmix64(state);
            id.push(BASE62[(state % 62) as usize] as char);
        }
        id
    }

    /// `count` base-62 characters (flow control subjects, ephemeral names).
    pub fn token(&mut self, now: i64, count: usize) -> String {
        let mut id = self.next_id(now);
        id.truncate(count);
        id
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What happened, with the fields each kind carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdvisoryKind {
    /// The consumer was created.
    Created,
    /// The consumer was deleted.
    Deleted,
    /// A message reached `max_deliver`.
    MaxDeliveries {
        /// Its stream sequence.
        stream_seq: u64,
        /// Deliveries made.
        deliveries: u64,
    },
    /// A message was terminated with `+TERM`.
    Terminated {
        /// Consumer sequence of the delivery.
        consumer_seq: u64,
        /// Its stream sequence.
        stream_seq: u64,
        /// Deliveries made.
        deliveries: u64,
        /// The reason given after `+TERM`.
        reason: String,
    },
    /// A message was NAKed.
    Nak {
        /// Consumer sequence of the delivery.
        consumer_seq: u64,
        /// Its stream sequence.
        stream_seq: u64,
        /// Deliveries made.
        deliveries: u64,
    },
}

#[derive(Serialize)]
struct Action<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: String,
    timestamp: String,
    stream: &'a str,
    consumer: &'a str,
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
}

#[derive(Serialize)]
struct Delivery<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: String,
    timestamp: String,
    stream: &'a str,
    consumer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    consumer_seq: Option<u64>,
    stream_seq: u64,
    deliveries: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
}

/// Where advisories go and what they carry besides their own fields.
pub struct AdvisoryContext<'a> {
    /// The JetStream domain, if any.
    pub domain: Option<&'a str>,
    /// Time now.
    pub now: i64,
    /// Advisory ids.
    pub ids: &'a mut IdGenerator,
}

/// The advisory message for `kind` on `stream`/`consumer`.
pub fn advisory(
    stream: &str,
    consumer: &str,
    kind: &AdvisoryKind,
    context: &mut AdvisoryContext<'_>,
) -> Outbound {
    let id = context.ids.next_id(context.now);
    let timestamp = rfc3339_or_zero(context.now);
    let domain = context.domain.filter(|d| !d.is_empty());
    let delivery = |kind: &'static str, consumer_seq, stream_seq, deliveries, reason| Delivery {
        kind,
        id: id.clone(),
        timestamp: timestamp.clone(),
        stream,
        consumer,
        consumer_seq,
        stream_seq,
        deliveries,
        reason,
        domain,
    };
    let (prefix, body) = match kind {
        AdvisoryKind::Created | AdvisoryKind::Deleted => {
            let (prefix, action) = match kind {
                AdvisoryKind::Created => (CREATED_PREFIX, "create"),
                _ => (DELETED_PREFIX, "delete"),
            };
            let body = Action {
                kind: ACTION_TYPE,
                id: id.clone(),
                timestamp: timestamp.clone(),
                stream,
                consumer,
                action,
                domain,
            };
            (prefix, serde_json::to_vec(&body))
        }
        AdvisoryKind::MaxDeliveries {
            stream_seq,
            deliveries,
        } => (
            MAX_DELIVERIES_PREFIX,
            serde_json::to_vec(&delivery(
                MAX_DELIVER_TYPE,
                None,
                *stream_seq,
                *deliveries,
                None,
            )),
        ),
        AdvisoryKind::Terminated {
            consumer_seq,
            stream_seq,
            deliveries,
            reason,
        } => (
            MSG_TERMINATED_PREFIX,
            serde_json::to_vec(&delivery(
                TERMINATED_TYPE,
                Some(*consumer_seq),
                *stream_seq,
                *deliveries,
                Some(reason.as_str()).filter(|r| !r.is_empty()),
            )),
        ),
        AdvisoryKind::Nak {
            consumer_seq,
            stream_seq,
            deliveries,
        } => (
            MSG_NAKED_PREFIX,
            serde_json::to_vec(&delivery(
                NAK_TYPE,
                Some(*consumer_seq),
                *stream_seq,
                *deliveries,
                None,
            )),
        ),
    };
    let subject = format!("{prefix}.{stream}.{consumer}");
    Outbound {
        account: Outbound::unassigned_account(),
        deliver: subject.into(),
        subject: None,
        reply: None,
        headers: Default::default(),
        payload: body.unwrap_or_default().into(),
        piece_end: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_165_000_000_000_000;

    fn render(kind: AdvisoryKind, domain: Option<&str>) -> (String, serde_json::Value) {
        let mut ids = IdGenerator::default();
        let mut context = AdvisoryContext {
            domain,
            now: NOW,
            ids: &mut ids,
        };
        let message = advisory("S", "C", &kind, &mut context);
        (
            message.deliver.to_string(),
            serde_json::from_slice(&message.payload).unwrap(),
        )
    }

    #[test]
    fn action_advisories_carry_nats_server_fields_in_order() {
        let mut ids = IdGenerator::default();
        let mut context = AdvisoryContext {
            domain: Some("hub"),
            now: NOW,
            ids: &mut ids,
        };
        let message = advisory("S", "C", &AdvisoryKind::Created, &mut context);
        assert_eq!(&*message.deliver, "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.C");
        let text = String::from_utf8(message.payload.to_vec()).unwrap();
        assert!(
            text.starts_with(r#"{"type":"io.nats.jetstream.advisory.v1.consumer_action","id":""#)
        );
        assert!(text.ends_with(
            r#"","timestamp":"2025-11-26T13:50:00Z","stream":"S","consumer":"C","action":"create","domain":"hub"}"#
        ));
        let (subject, body) = render(AdvisoryKind::Deleted, None);
        assert_eq!(subject, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.C");
        assert_eq!(body["action"], "delete");
        assert!(body.get("domain").is_none());
        assert_eq!(body["id"].as_str().unwrap().len(), 22);
    }

    #[test]
    fn delivery_advisories() {
        let (subject, body) = render(
            AdvisoryKind::MaxDeliveries {
                stream_seq: 4,
                deliveries: 3,
            },
            None,
        );
        assert_eq!(subject, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.C");
        assert_eq!(body["type"], MAX_DELIVER_TYPE);
        assert_eq!(
            (body["stream_seq"].as_u64(), body["deliveries"].as_u64()),
            (Some(4), Some(3))
        );
        assert!(body.get("consumer_seq").is_none());
        let (subject, body) = render(
            AdvisoryKind::Terminated {
                consumer_seq: 2,
                stream_seq: 4,
                deliveries: 1,
                reason: "bad".into(),
            },
            None,
        );
        assert_eq!(subject, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.C");
        assert_eq!(body["type"], TERMINATED_TYPE);
        assert_eq!(body["reason"], "bad");
        assert_eq!(body["consumer_seq"], 2);
    }

    #[test]
    fn ids_differ_and_replay_from_the_same_seed() {
        let (mut a, mut b) = (IdGenerator::default(), IdGenerator::default());
        let first = a.next_id(NOW);
        assert_ne!(first, a.next_id(NOW));
        assert_eq!(first, b.next_id(NOW));
        assert!(first.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
