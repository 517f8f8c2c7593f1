//! One account's `exports` and `imports` lists, entry by entry, as nats-server's
//! `parseExportStreamOrService` and `parseImportStreamOrService` read them (keys in file
//! order, where Go's map order is random).

use super::{go_text, unknown_field};
use crate::account::config::{
    Export, ExportKind, Import, ImportKind, LatencySampling, ResponseType, ServiceExport,
    ServiceLatency, DEFAULT_LATENCY_SAMPLING_PERCENT,
};
use natrium_config::{Kind, Value};
use std::collections::HashMap;

/// nats-server's `ErrBadSampling`.
const BAD_SAMPLING: &str = "bad sampling percentage, should be 1-100";

/// The `exports` array. Entries naming neither a stream nor a service are dropped, as in
/// nats-server.
pub(super) fn parse_exports(
    value: &Value,
    errors: &mut Vec<String>,
) -> Result<Vec<Export>, String> {
    let Kind::Array(items) = &value.kind else {
        return Err(format!(
            "{}: Exports should be an array, got {}",
            value.position,
            value.go_type_name()
        ));
    };
    let mut exports = Vec::new();
    for item in items.iter() {
        match export(item, errors) {
            Ok(Some(export)) => exports.push(export),
            Ok(None) => {}
            Err(message) => errors.push(message),
        }
    }
    Ok(exports)
}

fn export(item: &Value, errors: &mut Vec<String>) -> Result<Option<Export>, String> {
    let Kind::Map(map) = &item.kind else {
        return Err(format!(
            "{}: Export Items should be a map with type entry, got {}",
            item.position,
            item.go_type_name()
        ));
    };
    let mut subject = None;
    let mut is_service = false;
    let mut accounts = None;
    let mut token_position = 0;
    let mut service = ServiceExport::default();
    let mut response_at = None;
    let mut threshold_seen = false;
    let mut latency_at = None;
    for field in map.iter() {
        let value = &field.value;
        let at = &value.position;
        match field.key.to_lowercase().as_str() {
            "stream" => {
                if subject.is_some() && is_service {
                    errors.push(format!(
                        "{at}: Detected stream {:?} but already saw a service",
                        go_text(value)
                    ));
                    continue;
                }
                if let Some(response_at) = &response_at {
                    errors.push(format!(
                        "{response_at}: Detected response directive on non-service"
                    ));
                    continue;
                }
                if let Some(latency_at) = &latency_at {
                    errors.push(format!(
                        "{latency_at}: Detected latency directive on non-service"
                    ));
                    continue;
                }
                let Kind::String(text) = &value.kind else {
                    errors.push(format!(
                        "{at}: Expected stream name to be string, got {}",
                        value.go_type_name()
                    ));
                    continue;
                };
                subject = Some(text.clone());
            }
            "service" => {
                if subject.is_some() && !is_service {
                    errors.push(format!(
                        "{at}: Detected service {:?} but already saw a stream",
                        go_text(value)
                    ));
                    continue;
                }
                let Kind::String(text) = &value.kind else {
                    errors.push(format!(
                        "{at}: Expected service name to be string, got {}",
                        value.go_type_name()
                    ));
                    continue;
                };
                subject = Some(text.clone());
                is_service = true;
            }
            "response" | "response_type" => {
                if response_at.is_some() {
                    errors.push(format!("{at}: Duplicate response type definition"));
                    continue;
                }
                response_at = Some(at.clone());
                let Kind::String(text) = &value.kind else {
                    errors.push(format!(
                        "{at}: Expected response type to be string, got {}",
                        value.go_type_name()
                    ));
                    continue;
                };
                service.response_type = match text.to_lowercase().as_str() {
                    "single" | "singleton" => ResponseType::Singleton,
                    "stream" => ResponseType::Stream,
                    "chunk" | "chunked" => ResponseType::Chunked,
                    _ => {
                        errors.push(format!("{at}: Unknown response type: {text:?}"));
                        continue;
                    }
                };
                if subject.is_some() && !is_service {
                    errors.push(format!("{at}: Detected response directive on non-service"));
                }
            }
            "threshold" | "response_threshold" | "response_max_time" | "response_time" => {
                if threshold_seen {
                    errors.push(format!("{at}: Duplicate response threshold detected"));
                    continue;
                }
                threshold_seen = true;
                let Kind::String(text) = &value.kind else {
                    errors.push(format!(
                        "{at}: Expected response threshold to be a parseable time duration, got {}",
                        value.go_type_name()
                    ));
                    continue;
                };
                match natrium_config::parse_duration(text) {
                    Ok(nanos) => {
                        service.response_threshold =
                            std::time::Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
                    }
                    Err(_) => {
                        errors.push(format!(
                            "{at}: Expected response threshold to be a parseable time duration, got {text:?}"
                        ));
                        continue;
                    }
                }
                if subject.is_some() && !is_service {
                    errors.push(format!("{at}: Detected response directive on non-service"));
                }
            }
            "accounts" => accounts = Some(account_names(value)?),
            "latency" => {
                latency_at = Some(at.clone());
                match latency(value) {
                    Ok(parsed) => service.latency = Some(parsed),
                    Err(message) => {
                        errors.push(message);
                        continue;
                    }
                }
                if subject.is_some() && !is_service {
                    errors.push(format!("{at}: Detected latency directive on non-service"));
                }
            }
            "account_token_position" => {
                let position = value.as_i64().map_err(|e| e.to_string())?;
                token_position = usize::try_from(position).unwrap_or(0);
            }
            _ if field.used_as_variable => {}
            _ => errors.push(unknown_field(field)),
        }
    }
    let Some(subject) = subject else {
        return Ok(None);
    };
    let kind = if is_service {
        ExportKind::Service(service)
    } else {
        ExportKind::Stream
    };
    Ok(Some(Export {
        subject,
        // An empty list is as good as none: public.
        accounts: accounts.filter(|list: &Vec<String>| !list.is_empty()),
        account_token_position: token_position,
        kind,
    }))
}

fn account_names(value: &Value) -> Result<Vec<String>, String> {
    let items = value.as_array().map_err(|e| e.to_string())?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string).map_err(|e| e.to_string()))
        .collect()
}

/// nats-server's `parseServiceLatency`.
fn latency(value: &Value) -> Result<ServiceLatency, String> {
    let at = &value.position;
    let map = match &value.kind {
        Kind::String(subject) => {
            return Ok(ServiceLatency {
                sampling: LatencySampling::Percent(DEFAULT_LATENCY_SAMPLING_PERCENT),
                subject: subject.clone(),
            })
        }
        Kind::Map(map) => map,
        _ => {
            return Err(format!(
                "{at}: Expected latency entry to be a map/struct or string, got {}",
                value.go_type_name()
            ))
        }
    };
    let mut sampling = LatencySampling::Percent(DEFAULT_LATENCY_SAMPLING_PERCENT);
    if let Some(sample) = map.entry_ignore_case("sampling").map(|e| &e.value) {
        let sample_at = &sample.position;
        let percent = match &sample.kind {
            Kind::Integer(n) => *n,
            Kind::String(text) if text.trim().eq_ignore_ascii_case("headers") => -1,
            Kind::String(text) => {
                let digits = text.strip_suffix('%').unwrap_or(text);
                digits.parse::<i64>().map_err(|_| {
                    format!(
                        "{sample_at}: Failed to parse latency sample: strconv.Atoi: parsing {digits:?}: invalid syntax"
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "{sample_at}: Expected latency sample to be a string or map/struct, got {}",
                    sample.go_type_name()
                ))
            }
        };
        sampling = match percent {
            // nats-server samples by the request's trace headers then (Uber, B3, W3C);
            // refused rather than silently sampling nothing.
            -1 => {
                return Err(format!(
                    "{sample_at}: latency sampling \"headers\" is not supported by natrium yet"
                ))
            }
            1..=100 => LatencySampling::Percent(percent as u8),
            _ => return Err(format!("{sample_at}: {BAD_SAMPLING}")),
        };
    }
    let Some(subject) = map.entry_ignore_case("subject").map(|e| &e.value) else {
        return Err(format!("{at}: Latency subject required, but missing"));
    };
    let Kind::String(subject) = &subject.kind else {
        return Err(format!(
            "{}: Expected latency subject to be a string, got string",
            subject.position
        ));
    };
    Ok(ServiceLatency {
        sampling,
        subject: subject.clone(),
    })
}

/// The `imports` array, with nats-server's check that no two service imports share a local
/// subject.
pub(super) fn parse_imports(
    value: &Value,
    errors: &mut Vec<String>,
) -> Result<Vec<Import>, String> {
    let Kind::Array(items) = &value.kind else {
        return Err(format!(
            "{}: Imports should be an array, got {}",
            value.position,
            value.go_type_name()
        ));
    };
    let mut imports: Vec<Import> = Vec::new();
    let mut services: HashMap<String, usize> = HashMap::new();
    for item in items.iter() {
        let import = match import(item, errors) {
            Ok(Some(import)) => import,
            Ok(None) => continue,
            Err(message) => {
                errors.push(message);
                continue;
            }
        };
        if let ImportKind::Service { to, .. } = &import.kind {
            if let Some(&earlier) = services.get(to) {
                let earlier = &imports[earlier];
                errors.push(format!(
                    "{}: Duplicate service import subject {to:?}, previously used in import for account {:?}, subject {:?}",
                    item.position, earlier.account, earlier.subject
                ));
                continue;
            }
            services.insert(to.clone(), imports.len());
        }
        imports.push(import);
    }
    Ok(imports)
}

fn import(item: &Value, errors: &mut Vec<String>) -> Result<Option<Import>, String> {
    let Kind::Map(map) = &item.kind else {
        return Err(format!(
            "{}: Import Items should be a map with type entry, got {}",
            item.position,
            item.go_type_name()
        ));
    };
    let mut source: Option<(String, String, bool)> = None;
    let mut prefix = None;
    let mut to = None;
    let mut share = false;
    for field in map.iter() {
        let value = &field.value;
        let at = &value.position;
        match field.key.to_lowercase().as_str() {
            key @ ("stream" | "service") => {
                let is_service = key == "service";
                if source
                    .as_ref()
                    .is_some_and(|(_, _, seen)| *seen != is_service)
                {
                    let (this, other) = if is_service {
                        ("service", "stream")
                    } else {
                        ("stream", "service")
                    };
                    errors.push(format!("{at}: Detected {this} but already saw a {other}"));
                    continue;
                }
                let Kind::Map(account_map) = &value.kind else {
                    let capitalized = if is_service { "Service" } else { "Stream" };
                    errors.push(format!(
                        "{at}: {capitalized} entry should be an account map, got {}",
                        value.go_type_name()
                    ));
                    continue;
                };
                let mut account = String::new();
                let mut subject = String::new();
                for entry in account_map.iter() {
                    match entry.key.to_lowercase().as_str() {
                        "account" => {
                            account = entry.value.as_str().map_err(|e| e.to_string())?.to_string()
                        }
                        "subject" => {
                            subject = entry.value.as_str().map_err(|e| e.to_string())?.to_string()
                        }
                        _ if entry.used_as_variable => {}
                        _ => errors.push(unknown_field(entry)),
                    }
                }
                if account.is_empty() || subject.is_empty() {
                    errors.push(format!("{at}: Expect an account name and a subject"));
                    continue;
                }
                source = Some((account, subject, is_service));
            }
            "prefix" => prefix = Some(value.as_str().map_err(|e| e.to_string())?.to_string()),
            "to" => {
                to = Some(value.as_str().map_err(|e| e.to_string())?.to_string());
                let is_stream = source.as_ref().is_some_and(|(_, _, service)| !service);
                if is_stream && prefix.is_some() {
                    errors.push(format!(
                        "{at}: Stream import can not have a 'prefix' and a 'to' property"
                    ));
                    continue;
                }
            }
            "share" => share = value.as_bool().map_err(|e| e.to_string())?,
            _ if field.used_as_variable => {}
            _ => errors.push(unknown_field(field)),
        }
    }
    let Some((account, subject, is_service)) = source else {
        return Ok(None);
    };
    let kind = if is_service {
        ImportKind::Service {
            to: to.unwrap_or_else(|| subject.clone()),
            share,
        }
    } else {
        ImportKind::Stream {
            to: to.filter(|to| !to.is_empty()),
            prefix: prefix.filter(|prefix| !prefix.is_empty()),
        }
    };
    Ok(Some(Import {
        account,
        subject,
        kind,
    }))
}
