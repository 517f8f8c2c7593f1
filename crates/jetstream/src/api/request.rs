//! Reading request bodies as nats-server's `json.Unmarshal` reads them: unknown fields are
//! ignored, a `null` leaves a field at its default, a wrong type is invalid JSON, and for
//! duplicate keys the last one wins.

use crate::errors::JsError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses a request body (a JSON object or `null`; Go fills a struct from nothing else) into
/// `T`, or [`JsError::InvalidJson`].
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, JsError> {
    let mut value: Value = serde_json::from_slice(body).map_err(|_| JsError::InvalidJson)?;
    if value.is_null() {
        // Go leaves the whole struct at its zero value for a `null` body.
        value = Value::Object(serde_json::Map::new());
    }
    if !value.is_object() {
        return Err(JsError::InvalidJson);
    }
    drop_nulls(&mut value);
    serde_json::from_value(value).map_err(|_| JsError::InvalidJson)
}

/// Parses an optional body: empty or `{}` means every field at its default.
pub(crate) fn parse_optional<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, JsError> {
    if is_empty_request(body) {
        return Ok(T::default());
    }
    parse(body)
}

/// nats-server's `isEmptyRequest`: no bytes, or a JSON object with no fields.
pub(crate) fn is_empty_request(body: &[u8]) -> bool {
    body.is_empty()
        || serde_json::from_slice::<Value>(body)
            .is_ok_and(|value| value.as_object().is_some_and(|object| object.is_empty()))
}

/// Removes `null` members of objects, at every depth, so they read as absent (Go leaves a
/// field untouched for a `null`, which here is its default).
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.retain(|_, member| !member.is_null());
            object.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::config::StreamConfig;

    #[test]
    fn requests_read_as_go_reads_them() {
        let config: StreamConfig = parse(
            br#"{"name":"S","subjects":null,"placement":null,"unknown":{"x":1},"max_msgs":5,"max_msgs":6}"#,
        )
        .unwrap();
        assert_eq!((config.name.as_str(), config.max_msgs), ("S", 6));
        assert!(config.subjects.is_empty() && config.placement.is_none());
        for bad in [
            &br#"{"name":5}"#[..],
            b"{",
            b"[]",
            br#"{"max_msg_size":3000000000}"#,
        ] {
            assert_eq!(
                parse::<StreamConfig>(bad),
                Err(JsError::InvalidJson),
                "{bad:?}"
            );
        }
        assert!(is_empty_request(b"") && is_empty_request(b"{}") && is_empty_request(b" { } "));
        assert!(!is_empty_request(b"null") && !is_empty_request(br#"{"seq":1}"#));
    }
}
