//! The users of `accounts { NAME { users, default_permissions } }`, as nats-server's
//! `parseAccounts` adds them: the same user parsing as `authorization`, each user bound to its
//! account, names and nkeys unique across every block. The rest of an account entry
//! (limits, exports, imports, JetStream) is the server's to read.

use super::errors::{Errors, ParseErrorKind};
use super::permissions::parse_permissions;
use super::users::parse_users;
use crate::types::{AuthConfig, NkeyUser, User};
use natrium_config::{Kind, Value};
use std::collections::HashSet;

/// nats-server's reserved account name (`$G`, the global account), which no entry may use.
const GLOBAL_ACCOUNT: &str = "$G";

/// One account's users, before they join the configuration.
struct AccountUsers<'a> {
    users: Vec<User>,
    nkeys: Vec<NkeyUser>,
    /// The `users` value, where duplicates and conflicts are reported.
    at: &'a Value,
}

/// Adds the users of every well-formed account entry of `accounts` to `config`. Entries the
/// server refuses for other reasons (not a map, a reserved name) are skipped here.
pub(super) fn add_account_users(accounts: &Value, config: &mut AuthConfig, errors: &mut Errors) {
    let Kind::Map(map) = &accounts.kind else {
        return;
    };
    let mut seen: HashSet<String> = config
        .users
        .iter()
        .map(|user| user.username.clone())
        .chain(config.nkeys.iter().map(|user| user.public_key.clone()))
        .collect();
    for entry in map.iter() {
        if entry.used_as_variable || entry.key == GLOBAL_ACCOUNT {
            continue;
        }
        let Some(parsed) = account_users(&entry.value, errors) else {
            continue;
        };
        if parsed.users.is_empty() && parsed.nkeys.is_empty() {
            continue;
        }
        let filled = |text: Option<&str>| text.is_some_and(|t| !t.is_empty());
        if filled(config.username.as_deref()) {
            errors.push(parsed.at, ParseErrorKind::SingleUserAndAccounts);
            continue;
        }
        if filled(config.token.as_ref().map(|t| t.as_str())) {
            errors.push(parsed.at, ParseErrorKind::TokenAndAccounts);
            continue;
        }
        for mut user in parsed.nkeys {
            if !seen.insert(user.public_key.clone()) {
                errors.push(parsed.at, ParseErrorKind::DuplicateNkey(user.public_key));
                continue;
            }
            user.account = Some(entry.key.clone());
            config.nkeys.push(user);
        }
        for mut user in parsed.users {
            if !seen.insert(user.username.clone()) {
                errors.push(parsed.at, ParseErrorKind::DuplicateUser(user.username));
                continue;
            }
            user.account = Some(entry.key.clone());
            config.users.push(user);
        }
    }
}

/// The users of one account entry, with its `default_permissions` applied.
fn account_users<'a>(account: &'a Value, errors: &mut Errors) -> Option<AccountUsers<'a>> {
    let Kind::Map(map) = &account.kind else {
        return None;
    };
    let mut parsed = None;
    let mut defaults = None;
    for entry in map.iter() {
        match entry.key.to_lowercase().as_str() {
            "users" => {
                parsed = parse_users(&entry.value, errors).map(|(users, nkeys)| AccountUsers {
                    users,
                    nkeys,
                    at: &entry.value,
                })
            }
            "default_permissions" => defaults = parse_permissions(&entry.value, errors),
            _ => {}
        }
    }
    let mut parsed = parsed?;
    if let Some(defaults) = defaults {
        for user in &mut parsed.users {
            user.permissions.get_or_insert_with(|| defaults.clone());
        }
        for user in &mut parsed.nkeys {
            user.permissions.get_or_insert_with(|| defaults.clone());
        }
    }
    Some(parsed)
}
