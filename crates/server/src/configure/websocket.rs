//! The `websocket {}` block, read as nats-server's `parseWebsocket` reads it (keys, aliases
//! and texts), with `validateWebsocketOptions`'s checks.

use super::host_port;
use super::tls::parse_tls;
use crate::options::{ListenPort, WebsocketOptions};
use natrium_config::{Entry, Kind};
use std::time::Duration;

/// Headers the `headers` option may not set (nats-server's list).
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "upgrade",
    "nats-no-masking",
];

/// The block; `None` when it leaves the listener off (no port, or port 0).
pub(super) fn parse(
    block: &Entry,
    warnings: &mut Vec<String>,
) -> Result<Option<WebsocketOptions>, String> {
    let map = block.value.as_map().map_err(|_| {
        format!(
            "{}: Expected websocket to be a map, got {}",
            block.value.position,
            block.value.go_type_name()
        )
    })?;
    let mut port = None;
    let mut ws = WebsocketOptions {
        host: String::new(),
        port: ListenPort::Random,
        advertise: String::new(),
        no_tls: false,
        tls: None,
        same_origin: false,
        allowed_origins: Vec::new(),
        handshake_timeout: Duration::ZERO,
        headers: Vec::new(),
        compression: false,
        auth: natrium_auth::ListenerAuth::default(),
        user_cookie: String::new(),
        pass_cookie: String::new(),
        token_cookie: String::new(),
    };
    let mut no_auth_user = None;
    for entry in map.iter() {
        let value = &entry.value;
        let at = &entry.key_position;
        let text = |e: natrium_config::ValueError| e.to_string();
        match entry.key.to_lowercase().as_str() {
            "listen" => {
                let (host, listen_port) = host_port(value)?;
                if let Some(host) = host {
                    ws.host = host;
                }
                port = Some(listen_port);
            }
            "port" => {
                port = match value.as_i64().map_err(text)? {
                    0 => None,
                    -1 => Some(ListenPort::Random),
                    n @ 1..=65535 => Some(ListenPort::Fixed(n as u16)),
                    n => return Err(format!("{}: invalid port {n}", value.position)),
                }
            }
            "host" | "net" => ws.host = value.as_str().map_err(text)?.to_string(),
            "advertise" => ws.advertise = value.as_str().map_err(text)?.to_string(),
            "no_tls" => ws.no_tls = value.as_bool().map_err(text)?,
            "tls" => ws.tls = Some(parse_tls(entry, warnings)?),
            "same_origin" => ws.same_origin = value.as_bool().map_err(text)?,
            "allowed_origins" | "allowed_origin" | "allow_origins" | "allow_origin" | "origins"
            | "origin" => ws.allowed_origins = string_array(entry)?,
            "handshake_timeout" => {
                ws.handshake_timeout = match &value.kind {
                    Kind::Integer(seconds) => Duration::from_secs((*seconds).max(0) as u64),
                    // Go's time.ParseDuration error, at the key, as nats-server reports it.
                    Kind::String(text) => natrium_config::parse_duration(text)
                        .map(|nanos| Duration::from_nanos(nanos.max(0) as u64))
                        .map_err(|e| format!("{at}: {e}"))?,
                    _ => {
                        return Err(format!(
                            "{at}: error parsing handshake timeout: unsupported type {}",
                            value.go_type_name()
                        ))
                    }
                }
            }
            "jwt_cookie" => {
                // nats-server requires trusted operators or keys for this; Natrium has none.
                let cookie = value.as_str().map_err(text)?;
                return Err(format!(
                    "trusted operators or trusted keys configuration is required for JWT authentication via cookie {cookie:?}"
                ));
            }
            "headers" => ws.headers = headers(entry)?,
            "compress" | "compression" => ws.compression = value.as_bool().map_err(text)?,
            "authorization" | "authentication" => {
                ws.auth = natrium_auth::parse_listener_authorization(value).map_err(|errors| {
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                })?;
            }
            "no_auth_user" => no_auth_user = Some(value.as_str().map_err(text)?.to_string()),
            "user_cookie" => ws.user_cookie = value.as_str().map_err(text)?.to_string(),
            "pass_cookie" => ws.pass_cookie = value.as_str().map_err(text)?.to_string(),
            "token_cookie" => ws.token_cookie = value.as_str().map_err(text)?.to_string(),
            _ if entry.used_as_variable => {}
            _ => return Err(format!("{at}: unknown field {:?}", entry.key)),
        }
    }
    // Kept apart while reading: `authorization` may come after it.
    ws.auth.no_auth_user = no_auth_user;
    let Some(port) = port else {
        return Ok(None);
    };
    ws.port = port;
    if ws.tls.is_none() && !ws.no_tls {
        return Err("websocket requires TLS configuration".to_string());
    }
    natrium_websocket::OriginPolicy::new(ws.same_origin, &ws.allowed_origins)?;
    Ok(Some(ws))
}

/// A string or a list of strings (nats-server's `parseStringArray`).
fn string_array(entry: &Entry) -> Result<Vec<String>, String> {
    let value = &entry.value;
    match &value.kind {
        Kind::String(text) => Ok(vec![text.clone()]),
        Kind::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).map_err(|e| e.to_string()))
            .collect(),
        _ => Err(format!(
            "{}: error parsing allowed origins: unsupported type {}",
            entry.key_position,
            value.go_type_name()
        )),
    }
}

/// `headers { Name: value }`, refusing the names nats-server refuses.
fn headers(entry: &Entry) -> Result<Vec<(String, String)>, String> {
    let map = entry.value.as_map().map_err(|_| {
        format!(
            "{}: error parsing headers: unsupported type {}",
            entry.key_position,
            entry.value.go_type_name()
        )
    })?;
    let mut headers = Vec::new();
    for header in map.iter() {
        let lower = header.key.to_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "websocket: invalid header {:?} not allowed",
                header.key
            ));
        }
        if lower.starts_with("sec-websocket-") {
            return Err(format!(
                "websocket: invalid header {:?}, \"Sec-WebSocket-\" prefix not allowed",
                header.key
            ));
        }
        let value = header.value.as_str().map_err(|_| {
            format!(
                "{}: error parsing header key {}: unsupported type {}",
                header.value.position,
                header.key,
                header.value.go_type_name()
            )
        })?;
        if value.contains(['\r', '\n']) || header.key.contains(['\r', '\n', ':', ' ']) {
            return Err(format!(
                "{}: websocket: invalid header {:?}",
                header.key_position, header.key
            ));
        }
        headers.push((header.key.clone(), value.to_string()));
    }
    Ok(headers)
}
