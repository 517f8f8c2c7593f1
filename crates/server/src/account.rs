//! Accounts: the unit of isolation. Every client is bound to one and routes within it.

use crate::subscription::SubscriptionRef;
use natrium_sublist::Sublist;
use std::sync::atomic::AtomicU64;

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
        }
    }
}
