//! The `authorization` block, the users of `accounts` and `no_auth_user` from the config
//! tree, with nats-server's keys (and aliases) and error texts, plus Natrium's `src`/`times`
//! user restrictions.

mod accounts;
mod errors;
mod permissions;
mod users;

pub(crate) use errors::Errors;
pub use errors::{ParseError, ParseErrorKind};

use crate::secret::Secret;
use crate::types::{AuthConfig, ListenerAuth};
use natrium_config::{Kind, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Reads the top-level keys that concern client authentication (`authorization`, the users
/// of `accounts`, `no_auth_user`) from a whole config file's tree; other keys (and the rest of
/// `accounts`) are left to the caller.
pub fn parse_auth_config(root: &Value) -> Result<AuthConfig, Vec<ParseError>> {
    let mut errors = Errors::default();
    let mut config = AuthConfig::default();
    let mut no_auth_user = None;
    let mut accounts = None;
    if let Some(map) = errors.value(root.as_map()) {
        for entry in map.iter() {
            match entry.key.to_lowercase().as_str() {
                "authorization" => match parse_authorization(&entry.value) {
                    Ok(parsed) => config = parsed,
                    Err(list) => errors.extend(list),
                },
                "accounts" => accounts = Some(&entry.value),
                "no_auth_user" => {
                    if let Some(name) = errors.value(entry.value.as_str()) {
                        no_auth_user = Some((name, &entry.value));
                    }
                }
                _ => {}
            }
        }
    }
    // After `authorization`, wherever it is in the file: its single user or token conflicts
    // with account users, and user names are unique across both.
    if let Some(accounts) = accounts {
        accounts::add_account_users(accounts, &mut config, &mut errors);
    }
    // Checked after the whole file is read: the key may come before `authorization`.
    if let Some((name, value)) = no_auth_user {
        config.no_auth_user = Some(name.to_string());
        if !name.is_empty() {
            if config.users.is_empty() {
                errors.push(
                    value,
                    ParseErrorKind::NoAuthUserWithoutUsers(name.to_string()),
                );
            } else if !config.users.iter().any(|user| user.username == name) {
                errors.push(value, ParseErrorKind::NoAuthUserUnknown(name.to_string()));
            }
        }
    }
    errors.finish(config)
}

/// Parses an `authorization { ... }` block (its value); `no_auth_user` stays `None`.
pub fn parse_authorization(value: &Value) -> Result<AuthConfig, Vec<ParseError>> {
    let mut errors = Errors::default();
    let mut config = AuthConfig::default();
    let Some(map) = errors.value(value.as_map()) else {
        return errors.finish(config);
    };
    let mut users_given = false;
    for entry in map.iter() {
        let item = &entry.value;
        match entry.key.to_lowercase().as_str() {
            "user" | "username" => {
                config.username = errors.value(item.as_str()).map(str::to_string);
            }
            "pass" | "password" => config.password = errors.value(item.as_str()).map(Secret::new),
            "token" => config.token = errors.value(item.as_str()).map(Secret::new),
            "timeout" => config.auth_timeout = auth_timeout(item),
            "users" => {
                if let Some((users, nkeys)) = users::parse_users(item, &mut errors) {
                    config.users = users;
                    config.nkeys = nkeys;
                    users_given = true;
                }
            }
            "default_permission" | "default_permissions" | "permissions" => {
                config.default_permissions = permissions::parse_permissions(item, &mut errors);
            }
            _ if entry.used_as_variable => {}
            _ => errors.unknown_field(entry),
        }
    }
    apply_default_permissions(&mut config);
    check_combinations(&config, users_given, value, &mut errors);
    errors.finish(config)
}

/// Parses a listener's `authorization { ... }` block as nats-server's `parseSimpleAuth`:
/// `user`, `password`, `token` and `timeout` only (no `users`); `no_auth_user` stays `None`.
pub fn parse_listener_authorization(value: &Value) -> Result<ListenerAuth, Vec<ParseError>> {
    let mut errors = Errors::default();
    let mut auth = ListenerAuth::default();
    let Some(map) = errors.value(value.as_map()) else {
        return errors.finish(auth);
    };
    for entry in map.iter() {
        let item = &entry.value;
        match entry.key.to_lowercase().as_str() {
            "user" | "username" => auth.username = errors.value(item.as_str()).map(str::to_string),
            "pass" | "password" => auth.password = errors.value(item.as_str()).map(Secret::new),
            "token" => auth.token = errors.value(item.as_str()).map(Secret::new),
            "timeout" => auth.auth_timeout = auth_timeout(item),
            _ if entry.used_as_variable => {}
            _ => errors.unknown_field(entry),
        }
    }
    errors.finish(auth)
}

/// nats-server reads `timeout` as seconds, integer or float; any other type means 1 second.
fn auth_timeout(value: &Value) -> Option<Duration> {
    let seconds = match value.kind {
        Kind::Integer(n) => n as f64,
        Kind::Float(f) => f,
        _ => 1.0,
    };
    if seconds == 0.0 || seconds.is_nan() {
        // Zero means the server's default, as in nats-server.
        return None;
    }
    Some(Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX))
}

/// nats-server's `applyDefaultPermissions`: users without their own take the defaults.
fn apply_default_permissions(config: &mut AuthConfig) {
    let Some(defaults) = &config.default_permissions else {
        return;
    };
    for user in &mut config.users {
        user.permissions.get_or_insert_with(|| defaults.clone());
    }
    for user in &mut config.nkeys {
        user.permissions.get_or_insert_with(|| defaults.clone());
    }
}

/// The checks nats-server makes after reading the block, at the block's position.
fn check_combinations(config: &AuthConfig, users_given: bool, at: &Value, errors: &mut Errors) {
    let filled = |text: Option<&str>| text.is_some_and(|t| !t.is_empty());
    let has_user = filled(config.username.as_deref());
    let has_pass = filled(config.password.as_ref().map(Secret::as_str));
    let has_token = filled(config.token.as_ref().map(Secret::as_str));
    if (has_user || has_pass) && has_token {
        errors.push(at, ParseErrorKind::UserPassAndToken);
        return;
    }
    if !users_given {
        return;
    }
    if has_user {
        errors.push(at, ParseErrorKind::SingleUserAndUsers);
        return;
    }
    if has_token {
        errors.push(at, ParseErrorKind::TokenAndUsers);
        return;
    }
    let mut names = HashSet::new();
    for user in &config.users {
        if !names.insert(user.username.as_str()) {
            errors.push(at, ParseErrorKind::DuplicateUser(user.username.clone()));
            return;
        }
    }
    for user in &config.nkeys {
        if !names.insert(user.public_key.as_str()) {
            errors.push(at, ParseErrorKind::DuplicateNkey(user.public_key.clone()));
            return;
        }
    }
}
