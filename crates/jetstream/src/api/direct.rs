//! `$JS.API.DIRECT.GET.<stream>` (body `{seq|last_by_subj|next_by_subj}`) and
//! `$JS.API.DIRECT.GET.<stream>.<subject>` (last message on the subject, empty body), as
//! nats-server's `processDirectGetRequest` answers them: the stored message itself with
//! `Nats-Stream`, `Nats-Subject`, `Nats-Sequence` and `Nats-Time-Stamp` added to its headers,
//! or a status-only header block. Only streams with `allow_direct` answer; for others
//! nats-server has no subscription, so the request goes unanswered.

use super::messages::{load, GetRequest};
use super::request::parse;
use super::{Answer, JetStreamApi, StoreProvider};
use crate::headers;

/// The status block for a request without a body.
const EMPTY_REQUEST: &[u8] = b"NATS/1.0 408 Empty Request\r\n\r\n";
/// The status block for a body that is not a get request.
const MALFORMED_REQUEST: &[u8] = b"NATS/1.0 408 Malformed Request\r\n\r\n";
/// The status block for a request that picks its message in more than one way.
const BAD_REQUEST: &[u8] = b"NATS/1.0 408 Bad Request\r\n\r\n";
/// The status block when no message matches.
const NOT_FOUND: &[u8] = b"NATS/1.0 404 Message Not Found\r\n\r\n";

impl<P: StoreProvider> JetStreamApi<P> {
    /// `target` is what follows `DIRECT.GET.`: the stream, then optionally a subject.
    pub(super) fn direct_get(&self, target: &str, body: &[u8]) -> Option<Answer> {
        let (name, subject) = target.split_once('.').unwrap_or((target, ""));
        let entry = self.streams.get(name)?;
        if !entry.stream.config().allow_direct {
            return None;
        }
        let request = if target.contains('.') {
            if !body.is_empty() || subject.is_empty() {
                return Some(status(BAD_REQUEST));
            }
            GetRequest {
                last_by_subj: subject.to_string(),
                ..GetRequest::default()
            }
        } else {
            if body.is_empty() {
                return Some(status(EMPTY_REQUEST));
            }
            let Ok(request) = parse::<GetRequest>(body) else {
                return Some(status(MALFORMED_REQUEST));
            };
            let nothing_set = request.seq == 0
                && request.last_by_subj.is_empty()
                && request.next_by_subj.is_empty();
            if nothing_set {
                return Some(status(EMPTY_REQUEST));
            }
            if !request.is_valid() {
                return Some(status(BAD_REQUEST));
            }
            request
        };
        let Some(message) = load(entry.stream.store(), &request) else {
            return Some(status(NOT_FOUND));
        };
        let time = natrium_gofmt::rfc3339_or_zero(message.timestamp);
        let mut block = headers::append(&message.headers, headers::STREAM, name);
        block = headers::append(&block, headers::SUBJECT, &message.subject);
        block = headers::append(&block, headers::SEQUENCE, &message.seq.to_string());
        block = headers::append(&block, headers::TIME_STAMP, &time);
        Some(Answer::Message {
            headers: block,
            payload: message.payload.to_vec(),
        })
    }
}

fn status(block: &[u8]) -> Answer {
    Answer::Message {
        headers: block.to_vec(),
        payload: Vec::new(),
    }
}
