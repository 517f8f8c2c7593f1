//! Pull requests (`$JS.API.CONSUMER.MSG.NEXT`) and the queue where they wait for messages,
//! as nats-server's `nextReqFromMsg`, `waitQueue`, `nextWaiting` and `processWaiting` run
//! them: round-robin over waiting requests, closed by batch, bytes, expiry or lost interest.

use super::status;
use crate::engine::Outbound;
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// A pull request's JSON body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PullRequestJson {
    expires: i64,
    batch: i64,
    max_bytes: i64,
    no_wait: bool,
    idle_heartbeat: i64,
}

/// A pull request as read, with its times made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Messages wanted.
    pub batch: i64,
    /// Bytes wanted at most; 0 for no bound.
    pub max_bytes: i64,
    /// Answer at once when nothing is pending.
    pub no_wait: bool,
    /// How long from arrival until it expires, in nanoseconds; 0 for never.
    pub expires: i64,
    /// Heartbeat interval while it waits, in nanoseconds; 0 for none.
    pub idle_heartbeat: i64,
}

/// Reads a pull request body: empty (one message), a number (a batch), or JSON. The error
/// is the text after `400 Bad Request - `.
pub fn parse_pull_request(body: &[u8]) -> Result<PullRequest, String> {
    let body = body.trim_ascii();
    let single = PullRequest {
        batch: 1,
        max_bytes: 0,
        no_wait: false,
        expires: 0,
        idle_heartbeat: 0,
    };
    if body.is_empty() {
        return Ok(single);
    }
    if body[0] != b'{' {
        // A bare number is a batch size; anything else asks for one message, as in Go.
        let batch = std::str::from_utf8(body)
            .ok()
            .and_then(|text| text.parse().ok());
        return Ok(PullRequest {
            batch: batch.unwrap_or(1),
            ..single
        });
    }
    let request: PullRequestJson =
        serde_json::from_slice(body).map_err(|error| go_decode_error(body, &error))?;
    if request.idle_heartbeat > 0 && request.idle_heartbeat.saturating_mul(2) > request.expires {
        return Err("heartbeat value too large".into());
    }
    Ok(PullRequest {
        batch: request.batch,
        max_bytes: request.max_bytes,
        no_wait: request.no_wait,
        expires: request.expires,
        idle_heartbeat: request.idle_heartbeat,
    })
}

/// The request's fields in Go's struct (`JSApiConsumerGetNextRequest`) with their Go types,
/// for the texts of `json.Unmarshal`'s type errors.
const PULL_REQUEST_FIELDS: [(&str, &str); 5] = [
    ("expires", "time.Duration"),
    ("batch", "int"),
    ("max_bytes", "int"),
    ("no_wait", "bool"),
    ("idle_heartbeat", "time.Duration"),
];

/// The text Go's `json.Unmarshal` gives for a body serde refused, which nats-server puts
/// after `Bad Request - `: the end of input, or the first field (in the body's order) whose
/// value does not fit its Go type. Other syntax errors keep serde's text.
fn go_decode_error(body: &[u8], error: &serde_json::Error) -> String {
    if error.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let Ok(InOrder(members)) = serde_json::from_slice::<InOrder>(body) else {
        return error.to_string();
    };
    for (name, value) in &members {
        let Some(&(_, go_type)) = PULL_REQUEST_FIELDS.iter().find(|(field, _)| field == name)
        else {
            continue;
        };
        let fits = match (go_type, value) {
            (_, serde_json::Value::Null) => true,
            ("bool", value) => value.is_boolean(),
            (_, value) => value.is_i64(),
        };
        if !fits {
            let found = match value {
                // Go names the literal only when it is a number that did not convert.
                serde_json::Value::Number(_) if go_type == "bool" => "number".to_string(),
                serde_json::Value::Number(number) => format!("number {number}"),
                serde_json::Value::String(_) => "string".to_string(),
                serde_json::Value::Bool(_) => "bool".to_string(),
                serde_json::Value::Array(_) => "array".to_string(),
                _ => "object".to_string(),
            };
            return format!(
                "json: cannot unmarshal {found} into Go struct field \
                 JSApiConsumerGetNextRequest.{name} of type {go_type}"
            );
        }
    }
    error.to_string()
}

/// A JSON object's members in the order they appear.
struct InOrder(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for InOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = InOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<InOrder, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(InOrder(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// A pull request waiting for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Where its messages and statuses go.
    pub reply: Arc<str>,
    /// Messages still wanted.
    pub batch: i64,
    /// Messages delivered to it so far.
    pub delivered: i64,
    /// Bytes still allowed; 0 when unbounded.
    pub max_bytes: i64,
    /// When it expires; `None` for never.
    pub expires: Option<i64>,
    /// Heartbeat interval; 0 for none.
    pub heartbeat: i64,
    /// When the next heartbeat is due.
    pub heartbeat_due: Option<i64>,
    /// Closed by the first time the stream runs dry after a delivery.
    pub no_wait: bool,
    /// The tick (its `now`) at which its reply subject last had a subscriber: checked once
    /// per tick, not once per message.
    pub interest_seen: Option<i64>,
}

impl Waiting {
    /// A waiting entry for a request arriving at `now` on `reply`.
    pub fn new(reply: &str, request: &PullRequest, now: i64) -> Self {
        Waiting {
            reply: Arc::from(reply),
            batch: request.batch,
            delivered: 0,
            max_bytes: request.max_bytes,
            expires: (request.expires > 0).then(|| now.saturating_add(request.expires)),
            heartbeat: request.idle_heartbeat,
            heartbeat_due: (request.idle_heartbeat > 0)
                .then(|| now.saturating_add(request.idle_heartbeat)),
            no_wait: request.no_wait,
            interest_seen: None,
        }
    }

    fn status(&self, headers: Vec<u8>) -> Outbound {
        status_to(&self.reply, headers)
    }
}

/// A header-only status message to `subject`; the account is filled in by the engine.
pub fn status_to(subject: &str, headers: Vec<u8>) -> Outbound {
    Outbound {
        account: Outbound::unassigned_account(),
        deliver: Arc::from(subject),
        subject: None,
        reply: None,
        headers: headers.into(),
        payload: Default::default(),
        piece_end: false,
    }
}

/// The requests of one pull consumer, oldest first, at most `max_waiting`.
#[derive(Debug, Clone, Default)]
pub struct WaitQueue {
    requests: VecDeque<Waiting>,
    max_waiting: usize,
    /// When a request last arrived or was served (for `inactive_threshold`); 0 for never.
    pub last_active: i64,
}

/// The heartbeat contents and interest check `process` needs from the consumer.
pub struct WaitContext<'a> {
    /// Time now.
    pub now: i64,
    /// Last consumer sequence delivered.
    pub last_consumer_seq: u64,
    /// Last stream sequence delivered.
    pub last_stream_seq: u64,
    /// Whether a subject has subscribers.
    pub interest: &'a dyn Fn(&str) -> bool,
}

impl WaitQueue {
    /// An empty queue holding at most `max_waiting` requests.
    pub fn new(max_waiting: usize) -> Self {
        WaitQueue {
            requests: VecDeque::new(),
            max_waiting,
            last_active: 0,
        }
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// True when none wait.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// True when another request would be refused.
    pub fn is_full(&self) -> bool {
        self.requests.len() >= self.max_waiting
    }

    /// Adds a request; gives it back when the queue is full.
    pub fn add(&mut self, waiting: Waiting, now: i64) -> Result<(), Waiting> {
        if self.is_full() {
            return Err(waiting);
        }
        self.last_active = now;
        self.requests.push_back(waiting);
        Ok(())
    }

    /// Messages all waiting requests still want.
    pub fn batch_pending(&self) -> i64 {
        self.requests.iter().map(|w| w.batch).sum()
    }

    /// The request the next message of `size` bytes goes to, taking one from its batch and
    /// moving it to the back (round robin) or dropping it when done. Requests that cannot
    /// take the message, expired ones and ones without interest are closed on the way.
    pub fn next_for(
        &mut self,
        size: i64,
        context: &WaitContext<'_>,
        out: &mut Vec<Outbound>,
    ) -> Option<Arc<str>> {
        while let Some(front) = self.requests.front_mut() {
            if front.max_bytes > 0 {
                if size <= front.max_bytes {
                    front.max_bytes -= size;
                    // Exactly used up: this message is its last.
                    if front.max_bytes == 0 {
                        front.batch = 1;
                    }
                } else {
                    let closed = front.status(status::message_size_exceeds_max_bytes(
                        front.batch,
                        front.max_bytes,
                    ));
                    out.push(closed);
                    self.requests.pop_front();
                    continue;
                }
            }
            let live = front.expires.is_none_or(|expires| context.now < expires);
            if live
                && (front.interest_seen == Some(context.now) || (context.interest)(&front.reply))
            {
                front.interest_seen = Some(context.now);
                return Some(self.pop(context.now));
            }
            self.requests.pop_front();
        }
        None
    }

    /// Takes one message from the front request's batch.
    fn pop(&mut self, now: i64) -> Arc<str> {
        let Some(front) = self.requests.front_mut() else {
            return Arc::from("");
        };
        front.delivered += 1;
        front.batch -= 1;
        self.last_active = now;
        let reply = Arc::clone(&front.reply);
        if front.batch > 0 {
            if front.heartbeat > 0 {
                front.heartbeat_due = Some(now.saturating_add(front.heartbeat));
            }
            // Round robin; a lone request (the usual Fetch) stays where it is.
            self.requests.rotate_left(1);
        } else {
            self.requests.pop_front();
        }
        reply
    }

    /// Closes expired requests (and, at the end of the stream, no-wait requests that got
    /// something) with `408 Request Timeout`, drops requests nobody listens to, and sends
    /// due heartbeats. Returns the earliest expiry or heartbeat still ahead.
    pub fn process(
        &mut self,
        end_of_stream: bool,
        context: &WaitContext<'_>,
        out: &mut Vec<Outbound>,
    ) -> Option<i64> {
        let mut next: Option<i64> = None;
        let now = context.now;
        self.requests.retain_mut(|waiting| {
            let expired = waiting.expires.is_some_and(|expires| now >= expires);
            if (end_of_stream && waiting.no_wait && waiting.delivered > 0) || expired {
                out.push(waiting.status(status::request_timeout(waiting.batch, waiting.max_bytes)));
                return false;
            }
            if !(context.interest)(&waiting.reply) {
                return false;
            }
            if let Some(due) = waiting.heartbeat_due {
                let due = if now >= due {
                    out.push(waiting.status(status::idle_heartbeat(
                        context.last_consumer_seq,
                        context.last_stream_seq,
                        None,
                    )));
                    now.saturating_add(waiting.heartbeat)
                } else {
                    due
                };
                waiting.heartbeat_due = Some(due);
                next = Some(next.map_or(due, |n| n.min(due)));
            }
            if let Some(expires) = waiting.expires {
                next = Some(next.map_or(expires, |n| n.min(expires)));
            }
            true
        });
        next
    }

    /// Closes every request with `409 Consumer Deleted`.
    pub fn release_all(&mut self, out: &mut Vec<Outbound>) {
        for waiting in self.requests.drain(..) {
            out.push(waiting.status(status::plain(409, "Consumer Deleted")));
        }
    }

    /// The earliest expiry or heartbeat among waiting requests.
    pub fn next_deadline(&self) -> Option<i64> {
        self.requests
            .iter()
            .flat_map(|w| [w.expires, w.heartbeat_due])
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn everyone(_: &str) -> bool {
        true
    }

    fn context(now: i64) -> WaitContext<'static> {
        WaitContext {
            now,
            last_consumer_seq: 2,
            last_stream_seq: 5,
            interest: &everyone,
        }
    }

    fn request(batch: i64) -> PullRequest {
        PullRequest {
            batch,
            max_bytes: 0,
            no_wait: false,
            expires: 0,
            idle_heartbeat: 0,
        }
    }

    #[test]
    fn pull_bodies_are_read_as_nats_server_reads_them() {
        assert_eq!(parse_pull_request(b"").unwrap(), request(1));
        assert_eq!(parse_pull_request(b" 7 ").unwrap(), request(7));
        assert_eq!(parse_pull_request(b"seven").unwrap(), request(1));
        let json = br#"{"batch":10,"expires":5000000000,"max_bytes":100,"no_wait":true,"idle_heartbeat":1000000000}"#;
        assert_eq!(
            parse_pull_request(json).unwrap(),
            PullRequest {
                batch: 10,
                max_bytes: 100,
                no_wait: true,
                expires: 5_000_000_000,
                idle_heartbeat: 1_000_000_000,
            }
        );
        assert_eq!(
            parse_pull_request(br#"{"batch":1,"expires":1000,"idle_heartbeat":600}"#),
            Err("heartbeat value too large".to_string())
        );
        assert_eq!(
            parse_pull_request(b"{\"batch\":"),
            Err("unexpected end of JSON input".to_string())
        );
    }

    #[test]
    fn decoding_errors_read_as_go_writes_them() {
        let type_error = |field: &str, found: &str, go_type: &str| {
            Err(format!(
                "json: cannot unmarshal {found} into Go struct field \
                 JSApiConsumerGetNextRequest.{field} of type {go_type}"
            ))
        };
        assert_eq!(
            parse_pull_request(br#"{"batch":"ten"}"#),
            type_error("batch", "string", "int")
        );
        assert_eq!(
            parse_pull_request(br#"{"unknown":1,"no_wait":1,"batch":"x"}"#),
            type_error("no_wait", "number", "bool"),
            "the first bad field in the body's order"
        );
        assert_eq!(
            parse_pull_request(br#"{"expires":1.5}"#),
            type_error("expires", "number 1.5", "time.Duration")
        );
        assert_eq!(
            parse_pull_request(br#"{"max_bytes":[1]}"#),
            type_error("max_bytes", "array", "int")
        );
    }

    #[test]
    fn requests_are_served_round_robin_and_closed_when_done() {
        let mut queue = WaitQueue::new(2);
        let mut out = Vec::new();
        queue.add(Waiting::new("a", &request(2), 1), 1).unwrap();
        queue.add(Waiting::new("b", &request(1), 1), 1).unwrap();
        assert!(queue.add(Waiting::new("c", &request(1), 1), 1).is_err());
        assert_eq!(queue.batch_pending(), 3);
        let order: Vec<_> = (0..4)
            .map(|_| queue.next_for(10, &context(2), &mut out))
            .collect();
        assert_eq!(
            order,
            vec![Some("a".into()), Some("b".into()), Some("a".into()), None]
        );
        assert!(out.is_empty());
    }

    #[test]
    fn max_bytes_closes_requests_that_cannot_take_the_message() {
        let mut queue = WaitQueue::new(4);
        let mut out = Vec::new();
        let mut small = request(5);
        small.max_bytes = 15;
        queue.add(Waiting::new("a", &small, 1), 1).unwrap();
        assert_eq!(queue.next_for(10, &context(2), &mut out), Some("a".into()));
        assert_eq!(queue.next_for(10, &context(2), &mut out), None);
        assert_eq!(out.len(), 1);
        assert_eq!(
            &out[0].headers[..],
            b"NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 4\r\nNats-Pending-Bytes: 5\r\n\r\n"
        );
        // A request whose bytes run out exactly takes that message as its last.
        let mut exact = request(5);
        exact.max_bytes = 10;
        queue.add(Waiting::new("b", &exact, 1), 1).unwrap();
        assert_eq!(queue.next_for(10, &context(2), &mut out), Some("b".into()));
        assert!(queue.is_empty());
    }

    #[test]
    fn expiry_heartbeats_and_lost_interest() {
        let mut queue = WaitQueue::new(4);
        let mut out = Vec::new();
        let mut expiring = request(3);
        expiring.expires = 100;
        expiring.idle_heartbeat = 30;
        queue.add(Waiting::new("a", &expiring, 0), 0).unwrap();
        queue.add(Waiting::new("gone", &request(1), 0), 0).unwrap();
        let only_a = |subject: &str| subject == "a";
        let at = |now| WaitContext {
            now,
            last_consumer_seq: 2,
            last_stream_seq: 5,
            interest: &only_a,
        };
        assert_eq!(queue.process(false, &at(10), &mut out), Some(30));
        assert_eq!(queue.len(), 1, "no interest drops the request silently");
        assert!(out.is_empty());
        assert_eq!(queue.process(false, &at(30), &mut out), Some(60));
        assert_eq!(
            &out.pop().unwrap().headers[..],
            b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 2\r\nNats-Last-Stream: 5\r\n\r\n"
        );
        assert_eq!(queue.next_deadline(), Some(60));
        assert_eq!(queue.process(false, &at(100), &mut out), None);
        let timeout = out.pop().unwrap();
        assert_eq!(&*timeout.deliver, "a");
        assert_eq!(
            &timeout.headers[..],
            b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 0\r\n\r\n"
        );
    }

    #[test]
    fn no_wait_requests_close_at_the_end_of_the_stream_once_served() {
        let mut queue = WaitQueue::new(4);
        let mut out = Vec::new();
        let mut no_wait = request(5);
        no_wait.no_wait = true;
        queue.add(Waiting::new("a", &no_wait, 0), 0).unwrap();
        queue.process(true, &context(1), &mut out);
        assert_eq!(queue.len(), 1, "nothing delivered yet");
        queue.next_for(1, &context(1), &mut out);
        queue.process(true, &context(1), &mut out);
        assert!(queue.is_empty());
        assert!(out[0].headers.starts_with(b"NATS/1.0 408 Request Timeout"));
        queue.add(Waiting::new("b", &request(1), 0), 0).unwrap();
        queue.release_all(&mut out);
        assert_eq!(
            &out[1].headers[..],
            b"NATS/1.0 409 Consumer Deleted\r\n\r\n"
        );
    }
}
