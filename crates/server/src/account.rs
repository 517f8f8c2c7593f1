//! Accounts: the unit of isolation. Every client is bound to one and routes within it.

pub mod config;
pub(crate) mod imports;
pub(crate) mod latency;
mod registry;
pub(crate) mod responses;
pub(crate) mod transform;

pub use config::AccountConfig;
pub(crate) use registry::Accounts;

use crate::subscription::SubscriptionRef;
use natrium_subject::mapping::Mappings;
use natrium_sublist::Sublist;
use parking_lot::RwLock;
use responses::Responses;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The name of the default (global) account.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// Ids of accounts, unique for the process (routers key their caches by them).
static NEXT_ACCOUNT_ID: AtomicU64 = AtomicU64::new(1);

/// An account and the interest of its clients.
pub struct Account {
    /// Unique for the process.
    pub id: u64,
    /// The account name.
    pub name: String,
    /// Every subscription of the account's clients.
    pub sublist: Sublist<SubscriptionRef>,
    /// Traffic counters, as `/accstatz` and `/metrics` report them.
    pub stats: AccountStats,
    /// The subject mappings applied to its clients' publishes; `None` when it has none, so
    /// a reader with nothing to map keeps nothing.
    mappings: RwLock<Option<Arc<Mappings>>>,
    /// Bumped whenever `mappings` is replaced: readers look at it once per read batch.
    mappings_generation: AtomicU64,
    /// Whether `mappings` holds any: service imports into the account look here first,
    /// so an account without mappings costs them one load, not a lock.
    has_mappings: AtomicBool,
    /// The configured limits; replaced on reload, read when a client binds.
    limits: RwLock<config::AccountLimits>,
    /// Client connections bound to the account now.
    connections: AtomicUsize,
    /// Where answers to the requests its service exports received go back to.
    pub(crate) responses: Responses,
}

/// An account's traffic counters, added to once per read batch (never per message).
#[derive(Debug, Default)]
pub struct AccountStats {
    /// Messages received from the account's clients.
    pub in_msgs: AtomicU64,
    /// Message bytes received from the account's clients.
    pub in_bytes: AtomicU64,
    /// Messages delivered to the account's clients.
    pub out_msgs: AtomicU64,
    /// Message bytes delivered to the account's clients.
    pub out_bytes: AtomicU64,
    /// The account's clients cut off as slow consumers.
    pub slow_consumers: AtomicU64,
    /// Connections ever bound to the account.
    pub total_connections: AtomicU64,
}

impl Account {
    /// Creates an account with no subscriptions and no limits.
    pub fn new(name: &str) -> Self {
        // A per-process random seed: reply prefixes differ between accounts and runs.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write(name.as_bytes());
        Account {
            id: NEXT_ACCOUNT_ID.fetch_add(1, Ordering::Relaxed),
            name: name.to_string(),
            sublist: Sublist::new(),
            stats: AccountStats::default(),
            mappings: RwLock::new(None),
            mappings_generation: AtomicU64::new(0),
            has_mappings: AtomicBool::new(false),
            limits: RwLock::new(config::AccountLimits::default()),
            connections: AtomicUsize::new(0),
            responses: Responses::new(hasher.finish()),
        }
    }

    /// Puts `mappings` in force for the account's clients (from their next read batch).
    pub fn set_mappings(&self, mappings: Mappings) {
        let mappings = (!mappings.is_empty()).then(|| Arc::new(mappings));
        self.has_mappings
            .store(mappings.is_some(), Ordering::Release);
        *self.mappings.write() = mappings;
        self.mappings_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The mappings in force, if any.
    pub fn mappings(&self) -> Option<Arc<Mappings>> {
        if !self.has_mappings.load(Ordering::Acquire) {
            return None;
        }
        self.mappings.read().clone()
    }

    /// Changes whenever the mappings are replaced.
    pub fn mappings_generation(&self) -> u64 {
        self.mappings_generation.load(Ordering::Acquire)
    }

    /// The limits in force.
    pub fn limits(&self) -> config::AccountLimits {
        *self.limits.read()
    }

    /// Puts `limits` in force for clients that bind (or refresh their options) from now on.
    pub fn set_limits(&self, limits: config::AccountLimits) {
        *self.limits.write() = limits;
    }

    /// Client connections bound to the account now.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Counts one more client unless the account is at its `max_connections` (nats-server's
    /// `MaxTotalConnectionsReached`, checked before the client joins).
    pub(crate) fn try_add_connection(&self) -> bool {
        let limit = self.limits().max_connections;
        let admitted = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                limit.is_none_or(|max| count < max).then_some(count + 1)
            })
            .is_ok();
        if admitted {
            self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    /// Counts one client fewer.
    pub(crate) fn remove_connection(&self) {
        let _ = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                count.checked_sub(1)
            });
    }
}
