//! Accounts: the unit of isolation. Every client is bound to one and routes within it.

use crate::subscription::SubscriptionRef;
use natrium_subject::mapping::Mappings;
use natrium_sublist::Sublist;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The name of the default (global) account.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// An account and the interest of its clients.
pub struct Account {
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
    /// Creates an account with no subscriptions.
    pub fn new(name: &str) -> Self {
        Account {
            name: name.to_string(),
            sublist: Sublist::new(),
            stats: AccountStats::default(),
            mappings: RwLock::new(None),
            mappings_generation: AtomicU64::new(0),
        }
    }

    /// Puts `mappings` in force for the account's clients (from their next read batch).
    pub fn set_mappings(&self, mappings: Mappings) {
        let mappings = (!mappings.is_empty()).then(|| Arc::new(mappings));
        *self.mappings.write() = mappings;
        self.mappings_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The mappings in force, if any.
    pub fn mappings(&self) -> Option<Arc<Mappings>> {
        self.mappings.read().clone()
    }

    /// Changes whenever the mappings are replaced.
    pub fn mappings_generation(&self) -> u64 {
        self.mappings_generation.load(Ordering::Acquire)
    }
}
