//! Accounts: the unit of isolation. Every client is bound to one and routes within it.

use crate::subscription::SubscriptionRef;
use natrium_sublist::Sublist;

/// The name of the default (global) account.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// An account and the interest of its clients.
pub struct Account {
    /// The account name.
    pub name: String,
    /// Every subscription of the account's clients.
    pub sublist: Sublist<SubscriptionRef>,
}

impl Account {
    /// Creates an account with no subscriptions.
    pub fn new(name: &str) -> Self {
        Account {
            name: name.to_string(),
            sublist: Sublist::new(),
        }
    }
}
