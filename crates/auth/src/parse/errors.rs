//! Configuration errors with positions and nats-server's texts, and Go-style value printing.

use crate::texts::go_quote;
use natrium_config::{Entry, Kind, Position, Value, ValueError, ValueErrorKind};
use std::fmt::Write;
use thiserror::Error;

/// A problem in the authorization configuration, at the key or value it concerns.
#[derive(Clone, Debug, PartialEq, Error)]
#[error("{position}: {kind}")]
pub struct ParseError {
    /// Where the offending key or value starts.
    pub position: Position,
    /// What is wrong, in nats-server's words where it has some.
    pub kind: ParseErrorKind,
}

/// The problems; texts are nats-server's unless marked as a Natrium extension.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ParseErrorKind {
    /// A value of the wrong type (the config crate's text).
    #[error("{0}")]
    Value(ValueErrorKind),
    /// An unknown key.
    #[error("unknown field {}", go_quote(.0.as_bytes()))]
    UnknownField(String),
    /// An unknown key inside `permissions` or `allow_responses`.
    #[error("Unknown field {} parsing permissions", go_quote(.0.as_bytes()))]
    UnknownPermissionField(String),
    /// An unknown key in a `{allow, deny}` map.
    #[error(
        "Unknown field name {} parsing subject permissions, only 'allow' or 'deny' are permitted",
        go_quote(.0.as_bytes())
    )]
    UnknownSubjectPermissionField(String),
    /// `users` is not an array.
    #[error("Expected users field to be an array, got {0}")]
    UsersNotArray(String),
    /// A `users` entry is not a map.
    #[error("Expected user entry to be a map/struct, got {0}")]
    UserNotMap(String),
    /// `permissions` is not a map.
    #[error("Expected permissions to be a map/struct, got {0}")]
    PermissionsNotMap(String),
    /// A subject list holds a non-string.
    #[error("Subject in permissions array cannot be cast to string")]
    SubjectNotString,
    /// A subject permission is neither a string, an array nor a map (Go type name).
    #[error("Expected subject permissions to be a subject, or array of subjects, got {0}")]
    SubjectsWrongType(&'static str),
    /// A permission subject is not valid (nor `"subject queue"`).
    #[error("subject {} is not a valid subject", go_quote(.0.as_bytes()))]
    InvalidSubject(String),
    /// `allow_responses` is neither a boolean nor a map.
    #[error("error parsing response permissions, expected a boolean or a map")]
    ResponsesWrongType,
    /// `expires` is not a string.
    #[error("error parsing expires, not a duration string")]
    ExpiresNotDuration,
    /// `expires` is not a Go duration.
    #[error("error parsing expires: {0}")]
    ExpiresInvalid(String),
    /// A user entry with neither `user` nor `nkey`.
    #[error("User entry requires a user")]
    UserRequired,
    /// `nkey` is not a user public key.
    #[error("Not a valid public nkey for a user")]
    InvalidNkey,
    /// An nkey entry that also has `user` or `password`.
    #[error("Nkey users do not take usernames or passwords")]
    NkeyWithPassword,
    /// `user`/`password` together with `token`.
    #[error("Cannot have a user/pass and token")]
    UserPassAndToken,
    /// `user` together with `users`.
    #[error("Can not have a single user/pass and a users array")]
    SingleUserAndUsers,
    /// `token` together with `users`.
    #[error("Can not have a token and a users array")]
    TokenAndUsers,
    /// An account with users while `authorization` has a single user.
    #[error("Can not have a single user/pass and accounts")]
    SingleUserAndAccounts,
    /// An account with users while `authorization` has a token.
    #[error("Can not have a token and accounts")]
    TokenAndAccounts,
    /// Two users with one name.
    #[error("Duplicate user {} detected", go_quote(.0.as_bytes()))]
    DuplicateUser(String),
    /// Two nkey users with one key.
    #[error("Duplicate nkey {} detected", go_quote(.0.as_bytes()))]
    DuplicateNkey(String),
    /// `allowed_connection_types` holds a non-string (Go type name).
    #[error("error parsing allowed connection types: unsupported type in array {0}")]
    ConnectionTypeNotString(&'static str),
    /// `allowed_connection_types` is neither a string nor an array (Go type name).
    #[error("error parsing allowed connection types: unsupported type {0}")]
    ConnectionTypesWrongType(&'static str),
    /// Unknown connection type names (printed as Go prints a `[]string` with `%q`).
    #[error("invalid connection types [{}]", .0.iter().map(|n| go_quote(n.as_bytes())).collect::<Vec<_>>().join(" "))]
    UnknownConnectionTypes(Vec<String>),
    /// `no_auth_user` without users.
    #[error("no_auth_user: \"{0}\" present, but users are not defined")]
    NoAuthUserWithoutUsers(String),
    /// `no_auth_user` naming no user.
    #[error(
        "no_auth_user: \"{0}\" not present as user in authorization block or account configuration"
    )]
    NoAuthUserUnknown(String),
    /// Natrium extension: a bad `src` block.
    #[error("error parsing src: {0}")]
    InvalidSource(String),
    /// Natrium extension: a bad `times` window or `times_location`.
    #[error("error parsing times: {0}")]
    InvalidTimes(String),
}

/// Collects errors as nats-server does: keep going, report all.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<ParseError>,
}

impl Errors {
    /// Records an error at `value`.
    pub fn push(&mut self, value: &Value, kind: ParseErrorKind) {
        self.list.push(ParseError {
            position: value.position.clone(),
            kind,
        });
    }

    /// Records an unknown key, at the key.
    pub fn unknown_field(&mut self, entry: &Entry) {
        self.list.push(ParseError {
            position: entry.key_position.clone(),
            kind: ParseErrorKind::UnknownField(entry.key.clone()),
        });
    }

    /// The accessor's value, or `None` after recording its error.
    pub fn value<T>(&mut self, result: Result<T, ValueError>) -> Option<T> {
        result
            .map_err(|error| {
                self.list.push(ParseError {
                    position: error.position,
                    kind: ParseErrorKind::Value(error.kind),
                })
            })
            .ok()
    }

    /// Appends errors from a nested parse.
    pub fn extend(&mut self, errors: Vec<ParseError>) {
        self.list.extend(errors);
    }

    /// `value` if nothing went wrong, else every error.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<ParseError>> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(self.list)
        }
    }
}

/// Go's `%T` for the value types the config parser yields.
pub(crate) fn go_type(value: &Value) -> &'static str {
    value.go_type_name()
}

/// Go's `%v` for a config value (maps print with sorted keys, as Go's fmt does).
pub(crate) fn go_value(value: &Value) -> String {
    let mut out = String::new();
    write_go_value(value, &mut out);
    out
}

fn write_go_value(value: &Value, out: &mut String) {
    match &value.kind {
        Kind::String(text) => out.push_str(text),
        Kind::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Kind::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Kind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Kind::Datetime(d) => {
            let _ = write!(
                out,
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
                d.year, d.month, d.day, d.hour, d.minute, d.second
            );
        }
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go_value(item, out);
            }
            out.push(']');
        }
        Kind::Map(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            out.push_str("map[");
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&entry.key);
                out.push(':');
                write_go_value(&entry.value, out);
            }
            out.push(']');
        }
    }
}
