//! What a client of an account without JetStream gets from `$JS.API`: nats-server answers
//! each endpoint with "JetStream not enabled for account" (10039) in that endpoint's
//! response type (lists and purges with their empty fields), consumer leader stepdowns with
//! its usual "clustering required", and leaves pull requests and direct gets unanswered.

use super::types::response_type;
use super::{split_token, API_PREFIX};
use crate::errors::JsError;
use serde_json::{json, Value};

/// The answer to a request on `subject` (with the `$JS.API.` prefix) in an account without
/// JetStream; `None` when nats-server sends none.
pub fn not_enabled_answer(subject: &str) -> Option<Vec<u8>> {
    let endpoint = subject.strip_prefix(API_PREFIX)?;
    let (group, rest) = split_token(endpoint);
    let (action, _) = split_token(rest);
    let (kind, extra) = match (group, action) {
        ("INFO", _) if rest.is_empty() => (response_type::ACCOUNT_INFO, None),
        ("STREAM", "CREATE") => (response_type::STREAM_CREATE, None),
        ("STREAM", "UPDATE") => (response_type::STREAM_UPDATE, None),
        ("STREAM", "INFO") => (response_type::STREAM_INFO, None),
        ("STREAM", "DELETE") => (response_type::STREAM_DELETE, None),
        ("STREAM", "PURGE") => (response_type::STREAM_PURGE, Some(json!({"purged": 0}))),
        ("STREAM", "NAMES") => (response_type::STREAM_NAMES, Some(empty_page("streams"))),
        ("STREAM", "LIST") => (response_type::STREAM_LIST, Some(empty_page("streams"))),
        ("STREAM", "SNAPSHOT") => (response_type::STREAM_SNAPSHOT, None),
        ("STREAM", "RESTORE") => (response_type::STREAM_RESTORE, None),
        ("STREAM", "MSG") => match split_token(split_token(rest).1).0 {
            "GET" => (response_type::STREAM_MSG_GET, None),
            "DELETE" => (response_type::STREAM_MSG_DELETE, None),
            _ => return None,
        },
        ("CONSUMER", "CREATE" | "DURABLE") => (response_type::CONSUMER_CREATE, None),
        ("CONSUMER", "DELETE") => (response_type::CONSUMER_DELETE, None),
        ("CONSUMER", "INFO") => (response_type::CONSUMER_INFO, None),
        ("CONSUMER", "NAMES") => (response_type::CONSUMER_NAMES, Some(empty_page("consumers"))),
        ("CONSUMER", "LIST") => (response_type::CONSUMER_LIST, Some(empty_page("consumers"))),
        ("CONSUMER", "LEADER") => {
            let error = JsError::ClusterRequired.to_api_error();
            let body = json!({"type": response_type::CONSUMER_LEADER_STEPDOWN, "error": error});
            return serde_json::to_vec(&body).ok();
        }
        _ => return None,
    };
    let mut body = json!({"type": kind, "error": JsError::NotEnabledForAccount.to_api_error()});
    if let (Some(object), Some(Value::Object(extra))) = (body.as_object_mut(), extra) {
        object.extend(extra);
    }
    serde_json::to_vec(&body).ok()
}

/// The paging fields of an empty list answer.
fn empty_page(list: &str) -> Value {
    json!({"total": 0, "offset": 0, "limit": 0, list: []})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(subject: &str) -> Option<Value> {
        not_enabled_answer(subject).map(|body| serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn endpoints_answer_in_their_own_type() {
        let info = answer("$JS.API.INFO").unwrap();
        assert_eq!(info["type"], response_type::ACCOUNT_INFO);
        assert_eq!(info["error"]["err_code"], 10039);
        assert_eq!(info["error"]["code"], 503);
        let create = answer("$JS.API.CONSUMER.DURABLE.CREATE.S.D").unwrap();
        assert_eq!(create["type"], response_type::CONSUMER_CREATE);
        let get = answer("$JS.API.STREAM.MSG.GET.S").unwrap();
        assert_eq!(get["type"], response_type::STREAM_MSG_GET);
        let list = answer("$JS.API.STREAM.LIST").unwrap();
        assert_eq!(list["streams"], json!([]));
        assert_eq!(list["total"], 0);
        assert_eq!(answer("$JS.API.STREAM.PURGE.S").unwrap()["purged"], 0);
        let stepdown = answer("$JS.API.CONSUMER.LEADER.STEPDOWN.S.D").unwrap();
        assert_eq!(stepdown["error"]["err_code"], 10010);
    }

    #[test]
    fn pulls_direct_gets_and_unknown_endpoints_go_unanswered() {
        assert!(answer("$JS.API.CONSUMER.MSG.NEXT.S.D").is_none());
        assert!(answer("$JS.API.DIRECT.GET.S").is_none());
        assert!(answer("$JS.API.NOPE").is_none());
        assert!(answer("$JS.API.INFO.X").is_none());
    }
}
