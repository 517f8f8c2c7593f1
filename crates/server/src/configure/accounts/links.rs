//! Exports and imports checked against each other once every account is read, in
//! nats-server's order (stream exports, service exports, stream imports, service imports) and
//! with its texts: unknown accounts, unauthorized imports, bad prefixes and transforms,
//! duplicates and cycles. Errors sit at the `accounts` key, as nats-server reports them.

use crate::account::config::{AccountConfig, Export, ExportKind, Import, ImportKind};
use crate::account::transform::SubjectTransform;
use natrium_config::Position;
use natrium_subject::{filters_overlap, has_wildcard, is_subset_of, is_valid_subject};
use std::collections::HashSet;

/// nats-server's `ErrInvalidSubject` (from its sublist).
const INVALID_SUBJECT: &str = "sublist: invalid subject";

/// Checks every export and import of `accounts`, appending one line per problem.
pub(super) fn check(
    accounts: &[AccountConfig],
    no_system_account: bool,
    at: &Position,
    errors: &mut Vec<String>,
) {
    let names: HashSet<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    for service in [false, true] {
        let kind = if service { "service" } else { "stream" };
        for export in accounts.iter().flat_map(|a| &a.exports) {
            if matches!(export.kind, ExportKind::Service(_)) != service {
                continue;
            }
            for name in export.accounts.iter().flatten() {
                if !names.contains(name.as_str()) {
                    errors.push(format!(
                        "{at}: {name:?} account not defined for {kind} export"
                    ));
                }
            }
            if !token_position_valid(export) {
                errors.push(format!(
                    "{at}: Error adding {kind} export {:?}: {INVALID_SUBJECT}",
                    export.subject
                ));
            }
            if let ExportKind::Service(settings) = &export.kind {
                if settings.latency.is_some() && no_system_account {
                    errors.push(format!(
                        "{at}: Error adding service latency sampling for {:?}: system account not setup",
                        export.subject
                    ));
                }
            }
        }
    }
    let mut flows = Flows::default();
    for service in [false, true] {
        for importer in accounts {
            for import in &importer.imports {
                if matches!(import.kind, ImportKind::Service { .. }) != service {
                    continue;
                }
                let kind = if service { "service" } else { "stream" };
                let Some(exporter) = accounts.iter().find(|a| a.name == import.account) else {
                    errors.push(format!(
                        "{at}: {:?} account not defined for {kind} import",
                        import.account
                    ));
                    continue;
                };
                let checked = if service {
                    check_service_import(exporter, importer, import, &mut flows)
                } else {
                    check_stream_import(exporter, importer, import, &mut flows)
                };
                if let Err(reason) = checked {
                    errors.push(format!(
                        "{at}: Error adding {kind} import {:?}: {reason}",
                        import.subject
                    ));
                }
            }
        }
    }
}

/// nats-server's `setExportAuth`: the account token must be a `*` of the subject.
fn token_position_valid(export: &Export) -> bool {
    let position = export.account_token_position;
    position == 0 || export.subject.split('.').nth(position - 1) == Some("*")
}

fn check_stream_import(
    exporter: &AccountConfig,
    importer: &AccountConfig,
    import: &Import,
    flows: &mut Flows,
) -> Result<(), String> {
    let ImportKind::Stream { prefix, .. } = &import.kind else {
        return Ok(());
    };
    if !authorized(&exporter.exports, &importer.name, &import.subject, false) {
        return Err("stream import not authorized".to_string());
    }
    if prefix
        .as_deref()
        .is_some_and(|p| has_wildcard(p.as_bytes()))
    {
        return Err("stream import prefix can not contain wildcard tokens".to_string());
    }
    let local = import.local_subject();
    let flow = Flow {
        from: (exporter.name.clone(), import.subject.clone()),
        to: (importer.name.clone(), local.clone()),
    };
    if flows.closes_cycle(&flow) {
        return Err("import forms a cycle".to_string());
    }
    if has_wildcard(import.subject.as_bytes()) && local != import.subject {
        SubjectTransform::new(&import.subject, &local).map_err(|reason| {
            format!(
                "failed to create mapping transform for stream import subject {:?} to {local:?}: {reason}",
                import.subject
            )
        })?;
    }
    let duplicate = importer
        .imports
        .iter()
        .take_while(|i| !std::ptr::eq(*i, import))
        .any(|i| {
            matches!(i.kind, ImportKind::Stream { .. })
                && i.account == import.account
                && i.subject == import.subject
        });
    if duplicate {
        return Err("stream import already exists".to_string());
    }
    flows.list.push(flow);
    Ok(())
}

fn check_service_import(
    exporter: &AccountConfig,
    importer: &AccountConfig,
    import: &Import,
    flows: &mut Flows,
) -> Result<(), String> {
    let ImportKind::Service { to: local, .. } = &import.kind else {
        return Ok(());
    };
    if !is_valid_subject(local.as_bytes()) || !is_valid_subject(import.subject.as_bytes()) {
        return Err(INVALID_SUBJECT.to_string());
    }
    if !authorized(&exporter.exports, &importer.name, &import.subject, true) {
        return Err("service import not authorized".to_string());
    }
    let flow = Flow {
        from: (importer.name.clone(), local.clone()),
        to: (exporter.name.clone(), import.subject.clone()),
    };
    if flows.closes_cycle(&flow) {
        return Err("import forms a cycle".to_string());
    }
    if has_wildcard(import.subject.as_bytes()) && *local != import.subject {
        SubjectTransform::new(&import.subject, local).map_err(|reason| {
            format!(
                "failed to create mapping transform for service import subject {local:?} to {:?}: {reason}",
                import.subject
            )
        })?;
    }
    flows.list.push(flow);
    Ok(())
}

/// nats-server's `checkStreamExportApproved`/`checkServiceExportApproved`: an export of the
/// exact subject decides, else the first export the subject falls within.
fn authorized(exports: &[Export], importer: &str, subject: &str, service: bool) -> bool {
    let mut candidates = exports
        .iter()
        .filter(|export| matches!(export.kind, ExportKind::Service(_)) == service);
    if let Some(exact) = candidates.clone().find(|export| export.subject == subject) {
        return approves(exact, importer, None);
    }
    candidates
        .find(|export| is_subset_of(subject.as_bytes(), export.subject.as_bytes()))
        .is_some_and(|export| approves(export, importer, Some(subject)))
}

/// nats-server's `checkAuth` for configured accounts (no activation tokens).
fn approves(export: &Export, importer: &str, subject: Option<&str>) -> bool {
    let position = export.account_token_position;
    if position > 0 {
        return subject.and_then(|s| s.split('.').nth(position - 1)) == Some(importer);
    }
    export
        .accounts
        .as_ref()
        .is_none_or(|accounts| accounts.iter().any(|name| name == importer))
}

/// Where messages move between accounts: a stream import carries the exporter's subject into
/// the importer, a service import carries the importer's requests into the exporter.
#[derive(Debug, Clone)]
struct Flow {
    from: (String, String),
    to: (String, String),
}

#[derive(Debug, Default)]
struct Flows {
    list: Vec<Flow>,
}

impl Flows {
    /// Whether what `flow` delivers can come back, through the flows already in place, to
    /// where it started: forwarding would then never end.
    fn closes_cycle(&self, flow: &Flow) -> bool {
        let (origin_account, origin_subject) = &flow.from;
        let mut pending = vec![flow.to.clone()];
        let mut visited = HashSet::new();
        while let Some((account, subject)) = pending.pop() {
            if account == *origin_account
                && filters_overlap(subject.as_bytes(), origin_subject.as_bytes())
            {
                return true;
            }
            if !visited.insert((account.clone(), subject.clone())) {
                continue;
            }
            for next in &self.list {
                if next.from.0 == account
                    && filters_overlap(next.from.1.as_bytes(), subject.as_bytes())
                {
                    pending.push(next.to.clone());
                }
            }
        }
        false
    }
}
