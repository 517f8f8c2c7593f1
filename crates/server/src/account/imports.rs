//! Imports at run time, as nats-server wires them: each stream import is a subscription in
//! the exporter's sublist whose matches the router re-publishes in the importer under the
//! import's subject; each service import is a subscription in the importer's sublist whose
//! matches go to the exporter's responders with a `_R_.` reply that leads back to the
//! requester (see `responses.rs`).
//!
//! These subscriptions belong to internal clients marked [`Internal::Forward`]; the router
//! tells them from plain subscribers with the one branch it already takes for JetStream's.

use super::config::{
    AccountConfig, ExportKind, ImportKind, LatencySampling, ResponseType, ServiceExport,
};
use super::latency::LatencyExport;
use super::transform::SubjectTransform;
use super::{Account, Accounts};
use crate::client::ClientShared;
use crate::router::remove_subscription;
use crate::subscription::{Subscription, SubscriptionRef};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Where a forwarding subscription sends what it matches.
pub(crate) enum Forward {
    /// A stream import: into the importer, under the import's subject.
    Stream(StreamImport),
    /// A service import: into the exporter, with a reply that routes the answers back.
    Service(ServiceImport),
    /// An exporter's `_R_.` replies: back to the requesters they stand for.
    Responses(Weak<Account>),
}

/// A stream import as the router applies it.
pub(crate) struct StreamImport {
    /// The importing account (weak: accounts reach each other through imports both ways).
    pub importer: Weak<Account>,
    /// The exporter's subject → the importer's; `None` keeps the subject.
    pub transform: Option<SubjectTransform>,
}

/// A service import as the router applies it.
pub(crate) struct ServiceImport {
    /// The exporting account.
    pub exporter: Weak<Account>,
    /// The importing account, where responses go back to.
    pub importer: Weak<Account>,
    /// The importer's subject → the exporter's; `None` keeps the subject.
    pub transform: Option<SubjectTransform>,
    /// How many responses one request may get.
    pub response_type: ResponseType,
    /// How long a request's response route lives.
    pub response_threshold: Duration,
    /// The export's latency tracking, if it has any.
    pub latency: Option<Arc<LatencyExport>>,
    /// Whether the importer shares its requestors' details in latency reports.
    pub share: bool,
}

/// The forwarding subscriptions in place, so a reload can replace them all.
#[derive(Default)]
pub(crate) struct InstalledImports {
    subscriptions: Mutex<Vec<(Arc<Account>, SubscriptionRef)>>,
}

/// Ids for the internal clients behind forwarding subscriptions, apart from connections'.
static NEXT_FORWARDER_ID: AtomicU64 = AtomicU64::new(1 << 62);

impl InstalledImports {
    /// Removes every forwarding subscription, then subscribes one per configured import
    /// (and one `_R_.` wildcard per account that exports a service). The configuration was
    /// checked when loaded, so every link resolves.
    pub fn install(&self, accounts: &Accounts, configs: &[AccountConfig], system: Option<&str>) {
        let mut installed = self.subscriptions.lock();
        for (account, sub) in installed.drain(..) {
            remove_subscription(&account, &sub, false);
        }
        for importer_config in configs {
            let Some(importer) = accounts.lookup(&importer_config.name) else {
                continue;
            };
            for import in &importer_config.imports {
                let Some(exporter) = accounts.lookup(&import.account) else {
                    continue;
                };
                let Some(exporter_config) = configs.iter().find(|c| c.name == import.account)
                else {
                    continue;
                };
                let local = import.local_subject();
                let (owner, filter, forward) = match &import.kind {
                    ImportKind::Stream { .. } => {
                        let forward = Forward::Stream(StreamImport {
                            importer: Arc::downgrade(&importer),
                            transform: transform(&import.subject, &local),
                        });
                        (&exporter, import.subject.as_str(), forward)
                    }
                    ImportKind::Service { share, .. } => {
                        let export = service_export(exporter_config, &import.subject);
                        let forward = Forward::Service(ServiceImport {
                            exporter: Arc::downgrade(&exporter),
                            importer: Arc::downgrade(&importer),
                            transform: transform(&local, &import.subject),
                            response_type: export.response_type,
                            response_threshold: export.response_threshold,
                            latency: latency_export(&export),
                            share: *share,
                        });
                        (&importer, local.as_str(), forward)
                    }
                };
                if let Some(sub) = subscribe(owner, filter, forward) {
                    installed.push((Arc::clone(owner), sub));
                }
            }
        }
        if let Some(system) = system.and_then(|name| accounts.lookup(name)) {
            // Its own service exports (below) already route its `_R_.` answers.
            let routes_answers = configs.iter().any(|config| {
                config.name == system.name
                    && config
                        .exports
                        .iter()
                        .any(|e| matches!(e.kind, ExportKind::Service(_)))
            });
            install_system_imports(accounts, &system, !routes_answers, &mut installed);
        }
        for config in configs {
            let exports_services = config
                .exports
                .iter()
                .any(|e| matches!(e.kind, ExportKind::Service(_)));
            let Some(exporter) = accounts.lookup(&config.name).filter(|_| exports_services) else {
                continue;
            };
            let filter = format!("{}>", exporter.responses.prefix());
            let forward = Forward::Responses(Arc::downgrade(&exporter));
            if let Some(sub) = subscribe(&exporter, &filter, forward) {
                installed.push((exporter, sub));
            }
        }
    }
}

/// The requests nats-server lets every account send to the system account, each answered
/// about the asking account alone: (the subject the account publishes on, the system
/// account's endpoint it becomes, `{}` standing for the account's name).
const SYSTEM_IMPORTS: &[(&str, &str)] = &[
    ("$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.ACCOUNT.{}.CONNZ"),
    ("$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.{}.CONNZ"),
    ("$SYS.REQ.ACCOUNT.PING.STATZ", "$SYS.REQ.ACCOUNT.{}.STATZ"),
];

/// Every account but the system one imports [`SYSTEM_IMPORTS`] (nats-server's
/// `registerSystemImports`), and the system account gets its `_R_.` answers route.
fn install_system_imports(
    accounts: &Accounts,
    system: &Arc<Account>,
    route_answers: bool,
    installed: &mut Vec<(Arc<Account>, SubscriptionRef)>,
) {
    for importer in accounts.all() {
        if Arc::ptr_eq(&importer, system) {
            continue;
        }
        for (local, endpoint) in SYSTEM_IMPORTS {
            let exported = endpoint.replace("{}", &importer.name);
            let export = ServiceExport::default();
            let forward = Forward::Service(ServiceImport {
                exporter: Arc::downgrade(system),
                importer: Arc::downgrade(&importer),
                transform: transform(local, &exported),
                response_type: export.response_type,
                response_threshold: export.response_threshold,
                latency: None,
                share: false,
            });
            if let Some(sub) = subscribe(&importer, local, forward) {
                installed.push((Arc::clone(&importer), sub));
            }
        }
    }
    if route_answers {
        let filter = format!("{}>", system.responses.prefix());
        let forward = Forward::Responses(Arc::downgrade(system));
        if let Some(sub) = subscribe(system, &filter, forward) {
            installed.push((Arc::clone(system), sub));
        }
    }
}

/// The rewrite from `source` to `destination`, or `None` when the subject stays as it is.
fn transform(source: &str, destination: &str) -> Option<SubjectTransform> {
    if source == destination {
        return None;
    }
    if !natrium_subject::has_wildcard(source.as_bytes()) {
        return Some(SubjectTransform::literal(destination));
    }
    SubjectTransform::new(source, destination).ok()
}

/// The service export an import of `subject` goes through: the exact one, else the first
/// that contains it (nats-server's `getServiceExport` order).
fn service_export(exporter: &AccountConfig, subject: &str) -> ServiceExport {
    let services = || {
        exporter.exports.iter().filter_map(|e| match &e.kind {
            ExportKind::Service(service) => Some((e.subject.as_str(), service)),
            ExportKind::Stream => None,
        })
    };
    services()
        .find(|(exported, _)| *exported == subject)
        .or_else(|| {
            services().find(|(exported, _)| {
                natrium_subject::is_subset_of(subject.as_bytes(), exported.as_bytes())
            })
        })
        .map(|(_, service)| service.clone())
        .unwrap_or_default()
}

/// The latency tracking the router applies for `export`. Configuration refuses
/// `sampling: headers`, so only percentages reach here.
fn latency_export(export: &ServiceExport) -> Option<Arc<LatencyExport>> {
    let latency = export.latency.as_ref()?;
    let LatencySampling::Percent(sampling_percent) = latency.sampling else {
        return None;
    };
    Some(Arc::new(LatencyExport {
        sampling_percent,
        subject: latency.subject.as_str().into(),
    }))
}

/// Subscribes an internal forwarding client to `filter` in `account`.
fn subscribe(account: &Arc<Account>, filter: &str, forward: Forward) -> Option<SubscriptionRef> {
    let id = NEXT_FORWARDER_ID.fetch_add(1, Ordering::Relaxed);
    let client = Arc::new(ClientShared::new_forwarder(
        id,
        Arc::clone(account),
        forward,
    ));
    let sid = id.to_string();
    let sub = Subscription::create(Arc::clone(&client), filter.as_bytes(), None, sid.as_bytes());
    account
        .sublist
        .insert(filter.as_bytes(), None, sub.clone())
        .ok()?;
    Some(sub)
}
