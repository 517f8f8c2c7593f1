//! The `tls {}` block, read as nats-server's `parseTLS` reads it (same keys, aliases and
//! error texts), then built into a rustls configuration as its `GenTLSConfig` would.

use crate::tls::{
    check_cipher_suite, check_curve, HandshakeFirst, NameProblem, TlsOptions, TlsSpec, TlsVersion,
    DEFAULT_HANDSHAKE_FIRST_FALLBACK, DEFAULT_TLS_TIMEOUT,
};
use natrium_config::{Entry, Kind, Position, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Keys nats-server's `parseTLS` knows that Natrium does not implement yet.
const TLS_NOT_YET_SUPPORTED: &[&str] = &[
    "connection_rate_limit",
    "cert_store",
    "cert_match_by",
    "cert_match",
    "ca_certs_match",
    "cert_match_skip_invalid",
    "ocsp_peer",
    "certs",
    "certificates",
];

/// The `tls` block; errors carry positions, warnings name what rustls ignores.
pub(super) fn parse_tls(block: &Entry, warnings: &mut Vec<String>) -> Result<TlsOptions, String> {
    let value = &block.value;
    let map = value.as_map().map_err(|e| e.to_string())?;
    let mut spec = TlsSpec::default();
    let mut verify_and_map = false;
    let mut timeout = DEFAULT_TLS_TIMEOUT;
    let mut pinned_certs = None;
    let mut handshake_first = HandshakeFirst::Off;
    for entry in map.iter() {
        let key = entry.key.to_lowercase();
        let field = &entry.value;
        // nats-server reports a field's problems at its key.
        let at = &entry.key_position;
        let bool_field = |name: &str| match field.kind {
            Kind::Bool(on) => Ok(on),
            _ => Err(format!(
                "{at}: error parsing tls config, expected '{name}' to be a boolean"
            )),
        };
        let file_field = |name: &str| match &field.kind {
            Kind::String(path) => Ok(Some(PathBuf::from(path))),
            _ => Err(format!(
                "{at}: error parsing tls config, expected '{name}' to be filename"
            )),
        };
        match key.as_str() {
            "cert_file" => spec.cert_file = file_field("cert_file")?,
            "key_file" => spec.key_file = file_field("key_file")?,
            "ca_file" => spec.ca_file = file_field("ca_file")?,
            // Only a TLS client skips verifying its peer; on a listener Go ignores it too.
            "insecure" => {
                bool_field("insecure")?;
            }
            "verify" => spec.verify = bool_field("verify")?,
            "verify_and_map" => {
                verify_and_map = bool_field("verify_and_map")?;
                spec.verify |= verify_and_map;
            }
            "verify_cert_and_check_known_urls" => {
                if bool_field("verify_cert_and_check_known_urls")? {
                    return Err(format!(
                        "{at}: verify_cert_and_check_known_urls not supported in this context"
                    ));
                }
            }
            "cipher_suites" => {
                spec.cipher_suites =
                    Some(names(field, "cipher_suites", check_cipher_suite, warnings)?)
            }
            "curve_preferences" => {
                spec.curve_preferences =
                    Some(names(field, "curve_preferences", check_curve, warnings)?)
            }
            "timeout" => timeout = tls_timeout(field, at)?,
            "pinned_certs" => pinned_certs = parse_pinned_certs(field)?,
            "handshake_first" | "first" | "immediate" => {
                handshake_first = parse_handshake_first(&entry.key, field, at)?
            }
            "min_version" => spec.min_version = parse_min_version(field, at)?,
            other if TLS_NOT_YET_SUPPORTED.contains(&other) => {
                return Err(format!(
                    "{}: tls {:?} is not supported by natrium yet",
                    entry.key_position, entry.key
                ));
            }
            _ if entry.used_as_variable => {}
            _ => {
                return Err(format!(
                    "{at}: error parsing tls config, unknown field [{:?}]",
                    entry.key
                ))
            }
        }
    }
    let mut tls = TlsOptions::new(spec).map_err(|e| format!("{}: {e}", block.key_position))?;
    tls.verify_and_map = verify_and_map;
    tls.timeout = timeout;
    tls.pinned_certs = pinned_certs;
    tls.handshake_first = handshake_first;
    Ok(tls)
}

/// A non-empty list of cipher or curve names, each checked by `check`.
fn names(
    value: &Value,
    key: &str,
    check: fn(&str) -> Result<(), NameProblem>,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    let items = value.as_array().map_err(|e| e.to_string())?;
    if items.is_empty() {
        return Err(format!(
            "{}: error parsing tls config, '{key}' cannot be empty",
            value.position
        ));
    }
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        let name = item.as_str().map_err(|e| e.to_string())?;
        match check(name) {
            Ok(()) => {}
            Err(NameProblem::Unrecognized(message)) => {
                return Err(format!("{}: {message}", item.position))
            }
            Err(NameProblem::Unsupported(message)) => {
                warnings.push(format!("{}: {message}", item.position))
            }
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// `timeout`: seconds (integer or float) or a Go duration string; 0 means the default.
fn tls_timeout(value: &Value, at: &Position) -> Result<Duration, String> {
    let timeout = match &value.kind {
        Kind::Integer(seconds) => Duration::from_secs(u64::try_from(*seconds).unwrap_or(0)),
        Kind::Float(seconds) => Duration::try_from_secs_f64(*seconds).unwrap_or_default(),
        Kind::String(_) => value
            .as_duration()
            .map_err(|e| format!("{at}: error parsing tls config, 'timeout' {}", e.kind))?,
        _ => {
            return Err(format!(
                "{at}: error parsing tls config, 'timeout' wrong type"
            ))
        }
    };
    // nats-server replaces a zero TLSTimeout with its default.
    Ok(if timeout.is_zero() {
        DEFAULT_TLS_TIMEOUT
    } else {
        timeout
    })
}

/// `pinned_certs`: hex SHA-256 of SubjectPublicKeyInfo, compared in lower case.
fn parse_pinned_certs(value: &Value) -> Result<Option<BTreeSet<String>>, String> {
    let Ok(items) = value.as_array() else {
        return Err(format!(
            "{}: error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
            value.position
        ));
    };
    if items.is_empty() {
        return Ok(None);
    }
    let mut pinned = BTreeSet::new();
    for item in items {
        let entry = item.as_str().map_err(|e| e.to_string())?.to_lowercase();
        if entry.len() != 64 || !entry.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{}: error parsing tls config, 'pinned_certs' key {entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
                item.position
            ));
        }
        pinned.insert(entry);
    }
    Ok(Some(pinned))
}

/// `handshake_first` (nats-server 2.10; aliases `first`, `immediate`): a boolean, `auto`,
/// or a fallback delay.
fn parse_handshake_first(
    key: &str,
    value: &Value,
    at: &Position,
) -> Result<HandshakeFirst, String> {
    match &value.kind {
        Kind::Bool(true) => Ok(HandshakeFirst::On),
        Kind::Bool(false) => Ok(HandshakeFirst::Off),
        Kind::String(text) => match text.to_lowercase().as_str() {
            "true" | "on" => Ok(HandshakeFirst::On),
            "false" | "off" => Ok(HandshakeFirst::Off),
            "auto" | "auto_fallback" => {
                Ok(HandshakeFirst::Fallback(DEFAULT_HANDSHAKE_FIRST_FALLBACK))
            }
            _ => value
                .as_duration()
                .map(HandshakeFirst::Fallback)
                .map_err(|_| format!("{at}: field {key:?}'s value {text:?} is invalid")),
        },
        _ => Err(format!(
            "{at}: field {key:?} should be a boolean or a string, got {}",
            value.type_name()
        )),
    }
}

/// `min_version`: "1.2" or "1.3" (older versions are refused, as nats-server does).
fn parse_min_version(value: &Value, at: &Position) -> Result<TlsVersion, String> {
    let Kind::String(text) = &value.kind else {
        return Err(format!(
            "{at}: error parsing tls config: 'min_version' wrong type: {}",
            value.type_name()
        ));
    };
    match text.as_str() {
        "1.2" => Ok(TlsVersion::V1_2),
        "1.3" => Ok(TlsVersion::V1_3),
        "1.0" | "1.1" => Err(format!(
            "{at}: error parsing tls config: unsupported TLS version: TLS {text}"
        )),
        _ => Err(format!(
            "{at}: error parsing tls config: unknown version: {text}"
        )),
    }
}
