//! `permissions { publish, subscribe, allow_responses }` as nats-server's `parseUserPermissions`.

use super::errors::{go_type, go_value, Errors, ParseErrorKind};
use crate::types::{Permissions, ResponsePermission, SubjectPermission};
use natrium_config::{parse_duration, Kind, Value};
use natrium_subject::is_valid_subject;
use std::time::Duration;

/// A permissions map; `None` (with the error recorded) if it is not a map.
pub(super) fn parse_permissions(value: &Value, errors: &mut Errors) -> Option<Permissions> {
    let Kind::Map(map) = &value.kind else {
        errors.push(value, ParseErrorKind::PermissionsNotMap(go_value(value)));
        return None;
    };
    let mut permissions = Permissions::default();
    for entry in map.iter() {
        let item = &entry.value;
        match entry.key.to_lowercase().as_str() {
            // Routes read `import` as publish and `export` as subscribe.
            "pub" | "publish" | "import" => {
                if let Some(parsed) = subject_permission(item, errors) {
                    permissions.publish = parsed;
                }
            }
            "sub" | "subscribe" | "export" => {
                if let Some(parsed) = subject_permission(item, errors) {
                    permissions.subscribe = parsed;
                }
            }
            "publish_allow_responses" | "allow_responses" => {
                permissions.response = match item.kind {
                    Kind::Bool(true) => Some(ResponsePermission::default()),
                    Kind::Bool(false) => None,
                    _ => response_permission(item, errors),
                };
            }
            _ if entry.used_as_variable => {}
            _ => errors.push(
                item,
                ParseErrorKind::UnknownPermissionField(entry.key.clone()),
            ),
        }
    }
    // nats-server turns off the blanket publish allow when responses are allowed.
    Some(permissions.normalized())
}

/// `publish`/`subscribe`: a subject, a list of subjects (the allow list), or `{allow, deny}`.
/// `None` when the value is unusable (error recorded).
fn subject_permission(value: &Value, errors: &mut Errors) -> Option<SubjectPermission> {
    let Kind::Map(map) = &value.kind else {
        let allow = subjects(value, errors)?;
        return Some(SubjectPermission {
            allow: non_empty(allow),
            deny: Vec::new(),
        });
    };
    let mut permission = SubjectPermission::default();
    for entry in map.iter() {
        match entry.key.to_lowercase().as_str() {
            "allow" => {
                if let Some(list) = subjects(&entry.value, errors) {
                    permission.allow = non_empty(list);
                }
            }
            "deny" => {
                if let Some(list) = subjects(&entry.value, errors) {
                    permission.deny = list;
                }
            }
            _ if entry.used_as_variable => {}
            _ => errors.push(
                &entry.value,
                ParseErrorKind::UnknownSubjectPermissionField(entry.key.clone()),
            ),
        }
    }
    Some(permission)
}

/// An empty list allows everything in nats-server (Go's nil slice), not nothing.
fn non_empty(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty()).then_some(list)
}

/// nats-server's `parsePermSubjects` and `checkPermSubjectArray`.
fn subjects(value: &Value, errors: &mut Errors) -> Option<Vec<String>> {
    let list = match &value.kind {
        Kind::String(subject) => vec![subject.clone()],
        Kind::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            for item in items.iter() {
                let Kind::String(subject) = &item.kind else {
                    errors.push(item, ParseErrorKind::SubjectNotString);
                    return None;
                };
                list.push(subject.clone());
            }
            list
        }
        _ => {
            errors.push(value, ParseErrorKind::SubjectsWrongType(go_type(value)));
            return None;
        }
    };
    for subject in &list {
        if is_valid_subject(subject.as_bytes()) {
            continue;
        }
        // Not a subject: it may be "subject queue".
        let fields: Vec<&str> = subject.split_whitespace().collect();
        let invalid = match fields.as_slice() {
            [name, _queue] if !is_valid_subject(name.as_bytes()) => Some(name.to_string()),
            [_, _] => None,
            _ => Some(subject.clone()),
        };
        if let Some(bad) = invalid {
            errors.push(value, ParseErrorKind::InvalidSubject(bad));
            return None;
        }
    }
    Some(list)
}

/// nats-server's `parseAllowResponses`: `{max, expires}`, 0 meaning the default and a
/// negative value meaning unlimited.
fn response_permission(value: &Value, errors: &mut Errors) -> Option<ResponsePermission> {
    let Kind::Map(map) = &value.kind else {
        errors.push(value, ParseErrorKind::ResponsesWrongType);
        return None;
    };
    let mut permission = ResponsePermission::default();
    for entry in map.iter() {
        let item = &entry.value;
        match entry.key.to_lowercase().as_str() {
            "max" | "max_msgs" | "max_messages" | "max_responses" => {
                let max = errors.value(item.as_i64())?;
                match max {
                    0 => {}
                    n if n < 0 => permission.max_msgs = None,
                    n => permission.max_msgs = Some(n as u64),
                }
            }
            "expires" | "expiration" | "ttl" => {
                let Kind::String(text) = &item.kind else {
                    errors.push(item, ParseErrorKind::ExpiresNotDuration);
                    return None;
                };
                match parse_duration(text) {
                    Err(error) => {
                        errors.push(item, ParseErrorKind::ExpiresInvalid(error.to_string()));
                        return None;
                    }
                    Ok(0) => {}
                    Ok(nanos) if nanos < 0 => permission.expires = None,
                    Ok(nanos) => permission.expires = Some(Duration::from_nanos(nanos as u64)),
                }
            }
            _ if entry.used_as_variable => {}
            _ => errors.push(
                item,
                ParseErrorKind::UnknownPermissionField(entry.key.clone()),
            ),
        }
    }
    Some(permission)
}
