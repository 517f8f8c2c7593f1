//! What the config file's `accounts {}` block says about one account (nats-server's
//! `parseAccounts`): limits, JetStream, exports and imports. Users live in `Options::auth`,
//! each with its account's name.

use natrium_jetstream::api::types::AccountLimits as JetStreamAccountLimits;
use std::time::Duration;

/// nats-server's `DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD`: how long a service import's
/// response route lives when nothing else ends it.
pub const DEFAULT_RESPONSE_THRESHOLD: Duration = Duration::from_secs(120);

/// nats-server's `DEFAULT_SERVICE_LATENCY_SAMPLING`, in percent.
pub const DEFAULT_LATENCY_SAMPLING_PERCENT: u8 = 100;

/// One account as configured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountConfig {
    /// Its name (case matters).
    pub name: String,
    /// Its public nkey (`A...`), if given; kept for the record.
    pub nkey: Option<String>,
    /// `limits {}`.
    pub limits: AccountLimits,
    /// `jetstream`: `None` when not enabled for the account, else its limits (-1 for none).
    pub jetstream: Option<JetStreamAccountLimits>,
    /// `exports`, in file order.
    pub exports: Vec<Export>,
    /// `imports`, in file order.
    pub imports: Vec<Import>,
    /// `mappings {}`: subject mappings applied to its clients' publishes.
    pub mappings: natrium_subject::mapping::Mappings,
}

/// `limits { max_connections, max_subscriptions, max_payload, max_leafnodes }`; `None` is
/// no limit (nats-server's -1, which any negative number means here too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountLimits {
    /// Client connections bound to the account at once.
    pub max_connections: Option<usize>,
    /// Subscriptions per connection.
    pub max_subscriptions: Option<usize>,
    /// Largest message a client of the account may publish.
    pub max_payload: Option<usize>,
    /// Leaf node connections (kept for the record: Natrium has no leaf nodes).
    pub max_leafnodes: Option<usize>,
}

/// One `exports` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The exported subject (wildcards allowed).
    pub subject: String,
    /// Accounts allowed to import it; `None` is public.
    pub accounts: Option<Vec<String>>,
    /// `account_token_position`: importers must put their own name at this 1-based token
    /// of the subject they import; 0 when unused.
    pub account_token_position: usize,
    /// A stream or a service.
    pub kind: ExportKind,
}

/// What an export offers.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportKind {
    /// Messages published on the subject, for importers to receive.
    Stream,
    /// Requests on the subject, answered by the exporter's responders.
    Service(ServiceExport),
}

/// A service export's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceExport {
    /// How many responses a request may get.
    pub response_type: ResponseType,
    /// How long a request's response route lives (`response_threshold`).
    pub response_threshold: Duration,
    /// Latency tracking, when configured.
    pub latency: Option<ServiceLatency>,
}

impl Default for ServiceExport {
    fn default() -> Self {
        ServiceExport {
            response_type: ResponseType::Singleton,
            response_threshold: DEFAULT_RESPONSE_THRESHOLD,
            latency: None,
        }
    }
}

/// nats-server's `ServiceRespType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseType {
    /// One response per request.
    #[default]
    Singleton,
    /// Any number of responses, until the threshold.
    Stream,
    /// Any number of responses, in chunks, until the threshold.
    Chunked,
}

impl ResponseType {
    /// The name nats-server prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Singleton => "Singleton",
            ResponseType::Stream => "Streamed",
            ResponseType::Chunked => "Chunked",
        }
    }
}

/// `latency: {sampling, subject}` on a service export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLatency {
    /// How often to sample.
    pub sampling: LatencySampling,
    /// Where the exporter receives the measurements.
    pub subject: String,
}

/// Which requests a service export measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencySampling {
    /// This percentage of requests (1 to 100).
    Percent(u8),
    /// Requests whose headers ask for tracing (`sampling: headers`); refused when the
    /// configuration loads, as Natrium does not sample by trace headers yet.
    Headers,
}

/// One `imports` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The exporting account.
    pub account: String,
    /// The subject as the exporter names it.
    pub subject: String,
    /// A stream or a service.
    pub kind: ImportKind,
}

/// What an import takes in.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportKind {
    /// The exporter's messages, delivered under `to` (or `prefix` + subject, or the subject
    /// itself).
    Stream {
        /// The subject importers see; `None` keeps the exporter's.
        to: Option<String>,
        /// The older form: a literal prefix put before the exporter's subject.
        prefix: Option<String>,
    },
    /// Requests published here on `to` go to the exporter's `subject`.
    Service {
        /// The local subject requesters publish to.
        to: String,
        /// `share`: let the exporter see the requester's details in latency reports.
        share: bool,
    },
}

impl Import {
    /// The subject a stream import delivers under, in the importer: `to`, else `prefix.` +
    /// the exported subject, else the exported subject (nats-server's `AddStreamImport`).
    pub fn local_subject(&self) -> String {
        match &self.kind {
            ImportKind::Stream { to: Some(to), .. } => to.clone(),
            ImportKind::Stream {
                prefix: Some(prefix),
                ..
            } => {
                if prefix.ends_with('.') {
                    format!("{prefix}{}", self.subject)
                } else {
                    format!("{prefix}.{}", self.subject)
                }
            }
            ImportKind::Stream { .. } => self.subject.clone(),
            ImportKind::Service { to, .. } => to.clone(),
        }
    }
}
