//! `users: [...]` entries as nats-server's `parseUsers`, plus Natrium's `src` and `times`.

use super::errors::{go_type, go_value, Errors, ParseErrorKind};
use super::permissions::parse_permissions;
use crate::network::{Cidr, SourceNetworks};
use crate::secret::Secret;
use crate::times::{ConnectTimes, TimeWindow, Zone};
use crate::types::{ConnectRestrictions, ConnectionType, NkeyUser, User};
use natrium_config::{Kind, Value};
use nkeys::KeyPair;

/// The users array: password users and nkey users. `None` when the array as a whole is
/// unusable (nats-server then drops every user of the block).
pub(super) fn parse_users(
    value: &Value,
    errors: &mut Errors,
) -> Option<(Vec<User>, Vec<NkeyUser>)> {
    let Kind::Array(items) = &value.kind else {
        errors.push(value, ParseErrorKind::UsersNotArray(go_value(value)));
        return None;
    };
    let mut users = Vec::new();
    let mut nkeys = Vec::new();
    for item in items.iter() {
        match parse_user(item, errors)? {
            Some(Parsed::User(user)) => users.push(user),
            Some(Parsed::Nkey(user)) => nkeys.push(user),
            None => {}
        }
    }
    Some((users, nkeys))
}

enum Parsed {
    User(User),
    Nkey(NkeyUser),
}

/// One entry. `Some(None)`: skipped with an error recorded; `None`: an error that invalidates
/// the whole array (as nats-server's early returns do).
fn parse_user(item: &Value, errors: &mut Errors) -> Option<Option<Parsed>> {
    let Kind::Map(map) = &item.kind else {
        errors.push(item, ParseErrorKind::UserNotMap(go_value(item)));
        return Some(None);
    };
    let mut username = String::new();
    let mut password = String::new();
    let mut nkey = String::new();
    let mut permissions = None;
    let mut restrictions = ConnectRestrictions::default();
    let mut windows: Option<Vec<TimeWindow>> = None;
    let mut zone = Zone::utc();
    for entry in map.iter() {
        let value = &entry.value;
        match entry.key.to_lowercase().as_str() {
            "nkey" => nkey = errors.value(value.as_str()).unwrap_or_default().to_string(),
            "user" | "username" => {
                username = errors.value(value.as_str()).unwrap_or_default().to_string()
            }
            "pass" | "password" => {
                password = errors.value(value.as_str()).unwrap_or_default().to_string()
            }
            "permission" | "permissions" | "authorization" => {
                permissions = parse_permissions(value, errors);
            }
            "allowed_connection_types" | "connection_types" | "clients" => {
                restrictions.allowed_connection_types = connection_types(value, errors);
            }
            // Natrium extensions, named after NATS JWT user claims.
            "src" | "source_networks" => restrictions.source_networks = sources(value, errors),
            "times" | "connect_times" => windows = time_windows(value, errors),
            "times_location" | "time_zone" => {
                if let Some(name) = errors.value(value.as_str()) {
                    match Zone::parse(name) {
                        Ok(parsed) => zone = parsed,
                        Err(error) => {
                            errors.push(value, ParseErrorKind::InvalidTimes(error.to_string()))
                        }
                    }
                }
            }
            _ if entry.used_as_variable => {}
            _ => errors.unknown_field(entry),
        }
    }
    // An empty list means any time, as an empty JWT `times` does.
    restrictions.connect_times = windows
        .filter(|windows| !windows.is_empty())
        .map(|windows| ConnectTimes { windows, zone });
    if nkey.is_empty() && username.is_empty() {
        errors.push(item, ParseErrorKind::UserRequired);
        return None;
    }
    if nkey.is_empty() {
        return Some(Some(Parsed::User(User {
            username,
            password: Secret::new(&password),
            permissions,
            account: None,
            restrictions,
        })));
    }
    if !is_public_user_key(&nkey) {
        errors.push(item, ParseErrorKind::InvalidNkey);
        return None;
    }
    if !username.is_empty() || !password.is_empty() {
        errors.push(item, ParseErrorKind::NkeyWithPassword);
        return None;
    }
    Some(Some(Parsed::Nkey(NkeyUser {
        public_key: nkey,
        permissions,
        account: None,
        restrictions,
    })))
}

/// nkeys' `IsValidPublicUserKey`.
pub(crate) fn is_public_user_key(key: &str) -> bool {
    KeyPair::from_public_key(key)
        .is_ok_and(|pair| matches!(pair.key_pair_type(), nkeys::KeyPairType::User))
}

/// nats-server's `parseAllowedConnectionTypes`: a string or an array of strings, each one of
/// the known types in any case. Unknown names are an error; the known ones are kept.
fn connection_types(value: &Value, errors: &mut Errors) -> Vec<ConnectionType> {
    let names: Vec<&str> = match &value.kind {
        Kind::String(name) => vec![name],
        Kind::Array(items) => items
            .iter()
            .filter_map(|item| match &item.kind {
                Kind::String(name) => Some(name.as_str()),
                _ => {
                    errors.push(item, ParseErrorKind::ConnectionTypeNotString(go_type(item)));
                    None
                }
            })
            .collect(),
        _ => {
            errors.push(
                value,
                ParseErrorKind::ConnectionTypesWrongType(go_type(value)),
            );
            return Vec::new();
        }
    };
    let mut types = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        match ConnectionType::from_name(name) {
            Some(kind) if !types.contains(&kind) => types.push(kind),
            Some(_) => {}
            None => unknown.push(name.to_uppercase()),
        }
    }
    if !unknown.is_empty() {
        errors.push(value, ParseErrorKind::UnknownConnectionTypes(unknown));
    }
    types
}

/// `src`: a CIDR string or list (the allowed blocks), or `{allow: ..., deny: ...}`.
fn sources(value: &Value, errors: &mut Errors) -> SourceNetworks {
    let mut networks = SourceNetworks::default();
    match &value.kind {
        Kind::Map(map) => {
            for entry in map.iter() {
                match entry.key.to_lowercase().as_str() {
                    "allow" => networks.allow = cidrs(&entry.value, errors),
                    "deny" => networks.deny = cidrs(&entry.value, errors),
                    _ if entry.used_as_variable => {}
                    _ => errors.unknown_field(entry),
                }
            }
        }
        _ => networks.allow = cidrs(value, errors),
    }
    networks
}

fn cidrs(value: &Value, errors: &mut Errors) -> Vec<Cidr> {
    let items: Vec<&Value> = match &value.kind {
        Kind::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut blocks = Vec::with_capacity(items.len());
    for item in items {
        let Some(text) = errors.value(item.as_str()) else {
            continue;
        };
        match text.parse::<Cidr>() {
            Ok(block) => blocks.push(block),
            Err(error) => errors.push(item, ParseErrorKind::InvalidSource(error.to_string())),
        }
    }
    blocks
}

/// `times`: a list of `{start: "HH:MM:SS", end: "HH:MM:SS"}` (or one such map).
fn time_windows(value: &Value, errors: &mut Errors) -> Option<Vec<TimeWindow>> {
    let items: Vec<&Value> = match &value.kind {
        Kind::Array(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut windows = Vec::with_capacity(items.len());
    for item in items {
        let map = errors.value(item.as_map())?;
        let mut start = None;
        let mut end = None;
        for entry in map.iter() {
            match entry.key.to_lowercase().as_str() {
                "start" => start = errors.value(entry.value.as_str()),
                "end" => end = errors.value(entry.value.as_str()),
                _ if entry.used_as_variable => {}
                _ => errors.unknown_field(entry),
            }
        }
        let (Some(start), Some(end)) = (start, end) else {
            let message = "a time window needs both start and end".to_string();
            errors.push(item, ParseErrorKind::InvalidTimes(message));
            return None;
        };
        match TimeWindow::parse(start, end) {
            Ok(window) => windows.push(window),
            Err(error) => {
                errors.push(item, ParseErrorKind::InvalidTimes(error.to_string()));
                return None;
            }
        }
    }
    Some(windows)
}
