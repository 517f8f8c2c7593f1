//! The `accounts` block as nats-server's `parseAccounts` reads it: a list of names, or a map
//! of accounts with `limits`, `jetstream`, `exports`, `imports` and `nkey`. Users and
//! `default_permissions` are read by `natrium_auth::parse_auth_config`; exports and imports
//! are checked against each other once every account is read (`links.rs`).

mod exports;
mod links;

use crate::account::config::{AccountConfig, AccountLimits};
use crate::account::GLOBAL_ACCOUNT;
use natrium_config::{Entry, Kind, Value};
use natrium_jetstream::api::types::AccountLimits as JetStreamAccountLimits;
use std::collections::HashSet;

/// Reads an `accounts` entry; every error is a line of the result's `Err`.
pub(super) fn parse(
    entry: &Entry,
    no_system_account: bool,
) -> Result<Vec<AccountConfig>, Vec<String>> {
    let value = &entry.value;
    let mut errors = Vec::new();
    let mut accounts = Vec::new();
    match &value.kind {
        Kind::Array(names) => {
            let mut seen = HashSet::new();
            for name in names.iter() {
                let Ok(text) = name.as_str() else {
                    errors.push(format!("{}: account names must be strings", name.position));
                    continue;
                };
                if text == GLOBAL_ACCOUNT {
                    errors.push(format!("{}: {text:?} is a Reserved Account", name.position));
                    continue;
                }
                if !seen.insert(text.to_string()) {
                    errors.push(format!(
                        "{}: Duplicate Account Entry: {text}",
                        name.position
                    ));
                    continue;
                }
                accounts.push(AccountConfig {
                    name: text.to_string(),
                    ..AccountConfig::default()
                });
            }
        }
        Kind::Map(map) => {
            for account in map.iter() {
                if account.used_as_variable {
                    continue;
                }
                let Kind::Map(fields) = &account.value.kind else {
                    errors.push(format!(
                        "{}: Expected map entries for accounts",
                        account.key_position
                    ));
                    continue;
                };
                if account.key == GLOBAL_ACCOUNT {
                    errors.push(format!(
                        "{}: {:?} is a Reserved Account",
                        account.key_position, account.key
                    ));
                    continue;
                }
                let mut config = AccountConfig {
                    name: account.key.clone(),
                    ..AccountConfig::default()
                };
                for field in fields.iter() {
                    if let Err(message) = apply_field(&mut config, field, &mut errors) {
                        errors.push(message);
                    }
                }
                accounts.push(config);
            }
        }
        _ => errors.push(format!(
            "{}: Expected accounts to be an array or map, got {}",
            value.position,
            value.go_type_name()
        )),
    }
    // As nats-server: exports and imports are linked only when every account read cleanly.
    if errors.is_empty() {
        links::check(
            &accounts,
            no_system_account,
            &entry.key_position,
            &mut errors,
        );
    }
    if errors.is_empty() {
        Ok(accounts)
    } else {
        Err(errors)
    }
}

fn apply_field(
    config: &mut AccountConfig,
    field: &Entry,
    errors: &mut Vec<String>,
) -> Result<(), String> {
    let value = &field.value;
    match field.key.to_lowercase().as_str() {
        "nkey" => {
            let key = value.as_str().ok().filter(|key| is_public_account_key(key));
            let Some(key) = key else {
                return Err(format!(
                    "{}: Not a valid public nkey for an account: {:?}",
                    value.position,
                    go_text(value)
                ));
            };
            config.nkey = Some(key.to_string());
        }
        "imports" => config.imports = exports::parse_imports(value, errors)?,
        "exports" => config.exports = exports::parse_exports(value, errors)?,
        "jetstream" => config.jetstream = jetstream(value, errors)?,
        "limits" => config.limits = limits(value, errors)?,
        // `natrium_auth::parse_auth_config` reads the account's users.
        "users" | "default_permissions" => {}
        "mappings" | "maps" => match super::mappings::parse(value) {
            Ok(mappings) => config.mappings = mappings,
            Err(mapping_errors) => errors.extend(mapping_errors),
        },
        _ if field.used_as_variable => {}
        _ => return Err(unknown_field(field)),
    }
    Ok(())
}

/// nats-server's `unknownConfigFieldErr`, at the key.
pub(super) fn unknown_field(field: &Entry) -> String {
    format!("{}: unknown field {:?}", field.key_position, field.key)
}

/// A value as Go's `%v` shows a scalar (maps and arrays as their type, which is all these
/// messages need).
pub(super) fn go_text(value: &Value) -> String {
    match &value.kind {
        Kind::String(text) => text.clone(),
        Kind::Integer(n) => n.to_string(),
        Kind::Float(f) => f.to_string(),
        Kind::Bool(b) => b.to_string(),
        _ => value.go_type_name().to_string(),
    }
}

/// nkeys' `IsValidPublicAccountKey`.
fn is_public_account_key(key: &str) -> bool {
    nkeys::KeyPair::from_public_key(key)
        .is_ok_and(|pair| matches!(pair.key_pair_type(), nkeys::KeyPairType::Account))
}

/// nats-server's `parseAccountLimits`.
fn limits(value: &Value, errors: &mut Vec<String>) -> Result<AccountLimits, String> {
    let Kind::Map(map) = &value.kind else {
        return Err(format!(
            "{}: Expected account limits to be a map/struct, got {}",
            value.position,
            go_text(value)
        ));
    };
    let mut limits = AccountLimits::default();
    for field in map.iter() {
        let slot = match field.key.to_lowercase().as_str() {
            "max_connections" | "max_conn" => &mut limits.max_connections,
            "max_subscriptions" | "max_subs" => &mut limits.max_subscriptions,
            "max_payload" | "max_pay" => &mut limits.max_payload,
            "max_leafnodes" | "max_leafs" => &mut limits.max_leafnodes,
            _ if field.used_as_variable => continue,
            _ => {
                errors.push(format!(
                    "{}: Unknown field {:?} parsing account limits",
                    field.value.position, field.key
                ));
                continue;
            }
        };
        let number = field.value.as_i64().map_err(|e| e.to_string())?;
        // nats-server keeps an int32 where -1 is no limit.
        *slot = usize::try_from(number as i32).ok();
    }
    Ok(limits)
}

/// nats-server's `parseJetStreamForAccount`: a bool, `enabled`/`disabled`, or a limits map.
fn jetstream(
    value: &Value,
    errors: &mut Vec<String>,
) -> Result<Option<JetStreamAccountLimits>, String> {
    match &value.kind {
        Kind::Bool(enabled) => Ok(enabled.then(JetStreamAccountLimits::default)),
        // nats-server reports these two without a position.
        Kind::String(text) => match text.to_lowercase().as_str() {
            "enabled" | "enable" => Ok(Some(JetStreamAccountLimits::default())),
            "disabled" | "disable" => Ok(None),
            _ => Err(format!(
                "Expected 'enabled' or 'disabled' for string value, got '{text}'"
            )),
        },
        Kind::Map(map) => {
            let mut limits = JetStreamAccountLimits::default();
            for field in map.iter() {
                let key = field.key.to_lowercase();
                let size = || match field.value.kind {
                    Kind::Integer(n) => Ok(n),
                    _ => Err(format!(
                        "{}: Expected a parseable size for {:?}, got {}",
                        field.value.position,
                        field.key,
                        go_text(&field.value)
                    )),
                };
                match key.as_str() {
                    "max_memory" | "max_mem" | "mem" | "memory" => limits.max_memory = size()?,
                    "max_store" | "max_file" | "max_disk" | "store" | "disk" => {
                        limits.max_storage = size()?
                    }
                    "max_streams" | "streams" => limits.max_streams = size()? as i32 as i64,
                    "max_consumers" | "consumers" => limits.max_consumers = size()? as i32 as i64,
                    "max_bytes_required" | "max_stream_bytes" | "max_bytes" => {
                        let Kind::Bool(required) = field.value.kind else {
                            return Err(format!(
                                "{}: Expected a parseable bool for {:?}, got {}",
                                field.value.position,
                                field.key,
                                go_text(&field.value)
                            ));
                        };
                        limits.max_bytes_required = required;
                    }
                    "mem_max_stream_bytes" | "memory_max_stream_bytes" => {
                        limits.memory_max_stream_bytes = size()?
                    }
                    "disk_max_stream_bytes" | "store_max_stream_bytes" => {
                        limits.storage_max_stream_bytes = size()?
                    }
                    "max_ack_pending" => limits.max_ack_pending = size()? as i32 as i64,
                    _ if field.used_as_variable => {}
                    _ => errors.push(unknown_field(field)),
                }
            }
            Ok(Some(limits))
        }
        _ => Err(format!(
            "Expected map, bool or string to define JetStream, got {}",
            value.go_type_name()
        )),
    }
}
