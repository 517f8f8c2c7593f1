//! The `jetstream` key (a bool, `enabled`/`disabled`, or a block) and the top-level
//! `store_dir`, with nats-server's aliases and error texts.

use crate::options::JetStreamOptions;
use natrium_config::{Entry, Kind, Value};

/// Applies a `jetstream` entry.
pub(super) fn apply(js: &mut JetStreamOptions, entry: &Entry) -> Result<(), String> {
    let value = &entry.value;
    let at = &value.position;
    match &value.kind {
        Kind::Bool(enabled) => js.enabled = *enabled,
        Kind::String(text) => match text.to_lowercase().as_str() {
            "enabled" | "enable" => js.enabled = true,
            "disabled" | "disable" => js.enabled = false,
            _ => {
                return Err(format!(
                    "{at}: Expected 'enabled' or 'disabled' for string value, got '{text}'"
                ))
            }
        },
        Kind::Map(map) => {
            let mut enabled = true;
            for field in map.iter() {
                apply_field(js, field, &mut enabled)?;
            }
            js.enabled = enabled;
        }
        _ => {
            return Err(format!(
                "{at}: Expected map, bool or string to define JetStream, got {}",
                value.go_type_name()
            ))
        }
    }
    Ok(())
}

/// Sets the store directory, which may be given once: at the top level or in the block.
pub(super) fn set_store_dir(js: &mut JetStreamOptions, value: &Value) -> Result<(), String> {
    if !js.store_dir.is_empty() {
        return Err(format!(
            "{}: Duplicate 'store_dir' configuration",
            value.position
        ));
    }
    js.store_dir = value.as_str().map_err(|e| e.to_string())?.to_string();
    Ok(())
}

fn apply_field(js: &mut JetStreamOptions, field: &Entry, enabled: &mut bool) -> Result<(), String> {
    let value = &field.value;
    let at = &value.position;
    let text = |e: natrium_config::ValueError| e.to_string();
    let key = field.key.to_lowercase();
    match key.as_str() {
        "store" | "store_dir" | "storedir" => set_store_dir(js, value)?,
        "max_memory_store" | "max_mem_store" | "max_mem" => {
            js.max_memory = Some(storage_size(value, "max_mem_store")?)
        }
        "max_file_store" | "max_file" => {
            js.max_store = Some(storage_size(value, "max_file_store")?)
        }
        "domain" => js.domain = value.as_str().map_err(text)?.to_string(),
        "enable" | "enabled" => *enabled = value.as_bool().map_err(text)?,
        "key" | "ek" | "encryption_key" => js.key = value.as_str().map_err(text)?.to_string(),
        "cipher" => {
            let cipher = value.as_str().map_err(text)?;
            match cipher.to_lowercase().as_str() {
                "chacha" | "chachapoly" => {}
                "aes" => {
                    return Err(format!(
                        "{at}: cipher \"aes\" is not supported by natrium, use \"chacha\""
                    ))
                }
                _ => return Err(format!("{at}: Unknown cipher type: {cipher:?}")),
            }
        }
        "sync_interval" | "sync" => js.sync_interval = sync_interval(value)?,
        // Accepted for compatibility; they tune clustering and placement, which a single
        // server does not do.
        "extension_hint" | "unique_tag" | "max_outstanding_catchup" | "limits" => {}
        _ if field.used_as_variable => {}
        _ => {
            return Err(format!(
                "{}: unknown field {:?}",
                field.key_position, field.key
            ))
        }
    }
    Ok(())
}

/// nats-server's storage sizes: an integer with an optional suffix, or a string like `"1G"`.
fn storage_size(value: &Value, key: &str) -> Result<i64, String> {
    value
        .as_storage_size()
        .map_err(|e| format!("{}: {key} {}", value.position, e.kind))
}

/// `always` (the default: sync before each acknowledgement) or a duration.
fn sync_interval(value: &Value) -> Result<Option<std::time::Duration>, String> {
    if let Kind::String(text) = &value.kind {
        if text.eq_ignore_ascii_case("always") {
            return Ok(None);
        }
    }
    value.as_duration().map(Some).map_err(|e| {
        format!(
            "{}: error parsing sync_interval: {}",
            value.position, e.kind
        )
    })
}
