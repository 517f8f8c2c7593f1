//! Message endpoints: PURGE (`filter`, `seq`, `keep`), MSG.GET (`seq`, `last_by_subj`,
//! `next_by_subj`) and MSG.DELETE (`seq`, `no_erase`), as nats-server 2.9 answers them,
//! including how it counts them: a failed purge or delete still counts as an answered request,
//! and a found message is sent without being counted or audited.

use super::request::{is_empty_request, parse, parse_optional};
use super::types::response_type;
use super::{json_answer, with_type, Answer, JetStreamApi, StoreProvider, Tracking};
use crate::errors::JsError;
use crate::stream::config::StorageType;
use crate::stream::Stream;
use natrium_store::{PurgeRequest, StoredMsg};
use serde::Deserialize;

/// The optional body of STREAM.PURGE.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PurgeBody {
    filter: String,
    seq: u64,
    keep: u64,
}

/// The body of MSG.GET and DIRECT.GET.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct GetRequest {
    pub seq: u64,
    pub last_by_subj: String,
    pub next_by_subj: String,
}

impl GetRequest {
    /// nats-server's rule: exactly one way to pick the message (`seq` may start a
    /// `next_by_subj` search).
    pub fn is_valid(&self) -> bool {
        let (seq, last, next) = (
            self.seq > 0,
            !self.last_by_subj.is_empty(),
            !self.next_by_subj.is_empty(),
        );
        !(seq && last || !seq && !last && !next || last && next)
    }
}

/// The body of MSG.DELETE.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteBody {
    seq: u64,
    no_erase: bool,
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// The stream messages are to be removed from: it must exist and not be sealed.
    fn unsealed_stream(&mut self, name: &str) -> Result<&mut Stream, JsError> {
        let stream = &mut self
            .streams
            .get_mut(name)
            .ok_or(JsError::StreamNotFound)?
            .stream;
        if stream.config().sealed {
            return Err(JsError::StreamSealed);
        }
        Ok(stream)
    }

    pub(super) fn purge_stream(
        &mut self,
        name: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, JsError> {
        let request: PurgeBody = parse_optional(body)?;
        if request.seq > 0 && request.keep > 0 {
            return Err(JsError::BadRequest);
        }
        let stream = self.unsealed_stream(name)?;
        if stream.config().deny_purge {
            return Err(JsError::StreamPurgeFailed(
                "stream purge not permitted".into(),
            ));
        }
        let purge = PurgeRequest {
            filter: (!request.filter.is_empty()).then_some(request.filter),
            keep: (request.keep > 0).then_some(request.keep),
            up_to_seq: (request.seq > 0).then_some(request.seq),
        };
        let result = stream.store_mut().purge(&purge);
        stream.mark_dirty();
        if let Some(entry) = self.streams.get_mut(name) {
            // Consumers skip what is gone, and their pending counts follow.
            let first_seq = entry.stream.store().state().first_seq;
            entry.consumers.purged(first_seq, entry.stream.store());
        }
        Ok(match result {
            Ok(purged) => serde_json::json!({ "success": true, "purged": purged }),
            Err(e) => failed(JsError::StreamGeneral(e.to_string())),
        })
    }

    pub(super) fn msg_get(&self, name: &str, body: &[u8]) -> Answer {
        let kind = response_type::STREAM_MSG_GET;
        let found = self.find_message(name, body);
        match found.and_then(|message| message.ok_or(JsError::NoMessageFound)) {
            Ok(message) => Answer::Json {
                body: with_type(
                    kind,
                    serde_json::json!({ "message": stored_json(&message) }),
                ),
                tracking: Tracking::Untracked,
            },
            Err(error) => json_answer(kind, Err(error)),
        }
    }

    /// The checks and lookup of MSG.GET: `Ok(None)` when no message matches.
    fn find_message(&self, name: &str, body: &[u8]) -> Result<Option<StoredMsg>, JsError> {
        if is_empty_request(body) {
            return Err(JsError::BadRequest);
        }
        let request: GetRequest = parse(body)?;
        if !request.is_valid() {
            return Err(JsError::BadRequest);
        }
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        Ok(load(entry.stream.store(), &request))
    }

    pub(super) fn msg_delete(
        &mut self,
        name: &str,
        body: &[u8],
    ) -> Result<serde_json::Value, JsError> {
        if is_empty_request(body) {
            return Err(JsError::BadRequest);
        }
        let request: DeleteBody = parse(body)?;
        let stream = self.unsealed_stream(name)?;
        if stream.config().deny_delete {
            return Err(JsError::StreamMsgDeleteFailed(
                "message delete not permitted".into(),
            ));
        }
        let storage = stream.config().storage;
        let removed = stream.store_mut().remove(request.seq, !request.no_erase);
        stream.mark_dirty();
        Ok(match removed {
            Ok(true) => serde_json::json!({ "success": true }),
            // nats-server's file store reports a missing message as a failed delete, its
            // memory store as an unknown sequence.
            Ok(false) if storage == StorageType::File => failed(JsError::StreamMsgDeleteFailed(
                JsError::NoMessageFound.to_string(),
            )),
            Ok(false) => failed(JsError::SequenceNotFound(request.seq)),
            Err(e) => failed(JsError::StreamMsgDeleteFailed(e.to_string())),
        })
    }
}

/// The message a get request picks, if any: by sequence, first at or after `seq` matching
/// `next_by_subj`, or last matching `last_by_subj`.
pub(super) fn load(
    store: &dyn natrium_store::MessageStore,
    request: &GetRequest,
) -> Option<StoredMsg> {
    if !request.next_by_subj.is_empty() {
        store.load_next(&request.next_by_subj, request.seq).ok()
    } else if request.seq > 0 {
        store.load(request.seq).ok()
    } else {
        store.load_last(&request.last_by_subj).ok()
    }
}

/// An error nats-server sends through `sendAPIResponse`: counted as answered, not failed.
fn failed(error: JsError) -> serde_json::Value {
    serde_json::json!({ "error": error.to_api_error() })
}

/// A stored message as MSG.GET carries it (`StoredMsg`: headers and data in base64).
fn stored_json(message: &StoredMsg) -> serde_json::Value {
    let mut json = serde_json::json!({
        "subject": &*message.subject,
        "seq": message.seq,
        "time": natrium_gofmt::rfc3339_or_zero(message.timestamp),
    });
    if !message.headers.is_empty() {
        json["hdrs"] = base64(&message.headers).into();
    }
    if !message.payload.is_empty() {
        json["data"] = base64(&message.payload).into();
    }
    json
}

/// Standard base64 with padding, as Go's `encoding/json` writes `[]byte`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0u32, |word, (i, &b)| word | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(word >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_go_s_standard_encoding() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn a_get_picks_its_message_exactly_one_way() {
        let get = |seq, last: &str, next: &str| GetRequest {
            seq,
            last_by_subj: last.into(),
            next_by_subj: next.into(),
        };
        assert!(get(1, "", "").is_valid());
        assert!(get(0, "a", "").is_valid());
        assert!(get(0, "", "a").is_valid());
        assert!(
            get(5, "", "a").is_valid(),
            "seq starts a next_by_subj search"
        );
        assert!(!get(0, "", "").is_valid());
        assert!(!get(1, "a", "").is_valid());
        assert!(!get(0, "a", "b").is_valid());
    }
}
