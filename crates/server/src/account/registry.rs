//! Every account of the server by name: `$G` always, those the config file defines, and any
//! the server adds for itself (the system account). Looked up when a client binds, never per
//! message: a connection holds its account's `Arc`.

use super::config::AccountConfig;
use super::imports::InstalledImports;
use super::{Account, GLOBAL_ACCOUNT};
use natrium_subject::mapping::Mappings;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// The account registry.
pub(crate) struct Accounts {
    global: Arc<Account>,
    by_name: RwLock<HashMap<String, Arc<Account>>>,
    /// The imports' forwarding subscriptions, replaced at each configuration.
    imports: InstalledImports,
}

impl Accounts {
    /// A registry holding the global account alone.
    pub fn new() -> Self {
        let global = Arc::new(Account::new(GLOBAL_ACCOUNT));
        let by_name = HashMap::from([(GLOBAL_ACCOUNT.to_string(), Arc::clone(&global))]);
        Accounts {
            global,
            by_name: RwLock::new(by_name),
            imports: InstalledImports::default(),
        }
    }

    /// `$G`, the account of clients whose user names no other.
    pub fn global(&self) -> &Arc<Account> {
        &self.global
    }

    /// The account called `name`, if it exists.
    pub fn lookup(&self, name: &str) -> Option<Arc<Account>> {
        self.by_name.read().get(name).cloned()
    }

    /// The account called `name`, created (empty, without limits) if it does not exist yet.
    pub fn get_or_create(&self, name: &str) -> Arc<Account> {
        if let Some(account) = self.lookup(name) {
            return account;
        }
        let mut by_name = self.by_name.write();
        Arc::clone(
            by_name
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(Account::new(name))),
        )
    }

    /// Every account, sorted by name.
    pub fn all(&self) -> Vec<Arc<Account>> {
        let mut accounts: Vec<Arc<Account>> = self.by_name.read().values().cloned().collect();
        accounts.sort_by(|a, b| a.name.cmp(&b.name));
        accounts
    }

    /// Creates the configured accounts that do not exist yet, puts every configured
    /// account's limits in force and (re)installs the imports. An existing account keeps its
    /// sublist and counters (a reload with the same accounts leaves clients undisturbed); one
    /// the configuration no longer names stays, without limits, for the clients still bound
    /// to it.
    pub fn configure(
        &self,
        configs: &[AccountConfig],
        global_mappings: &Mappings,
        system: Option<&str>,
    ) {
        if let Some(name) = system {
            self.get_or_create(name);
        }
        for account in self.all() {
            if !configs.iter().any(|config| config.name == account.name) {
                account.set_limits(Default::default());
                if account.name != GLOBAL_ACCOUNT {
                    account.set_mappings(Mappings::new());
                }
            }
        }
        for config in configs {
            let account = self.get_or_create(&config.name);
            account.set_limits(config.limits);
            account.set_mappings(config.mappings.clone());
        }
        self.global.set_mappings(global_mappings.clone());
        self.imports.install(self, configs, system);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::config::AccountLimits;

    #[test]
    fn accounts_are_kept_across_configurations() {
        let accounts = Accounts::new();
        assert!(accounts.lookup(GLOBAL_ACCOUNT).is_some());
        let limited = AccountConfig {
            name: "A".to_string(),
            limits: AccountLimits {
                max_connections: Some(1),
                ..AccountLimits::default()
            },
            ..AccountConfig::default()
        };
        accounts.configure(std::slice::from_ref(&limited), &Mappings::new(), None);
        let a = accounts.lookup("A").expect("configured account");
        assert_eq!(a.limits().max_connections, Some(1));
        accounts.configure(
            &[AccountConfig {
                name: "A".to_string(),
                ..AccountConfig::default()
            }],
            &Mappings::new(),
            None,
        );
        let again = accounts.lookup("A").expect("still there");
        assert!(Arc::ptr_eq(&a, &again), "a reload keeps the account");
        assert_eq!(again.limits().max_connections, None);
        let system = accounts.get_or_create("$SYS");
        assert!(Arc::ptr_eq(&system, &accounts.get_or_create("$SYS")));
        let names: Vec<String> = accounts.all().iter().map(|a| a.name.clone()).collect();
        assert_eq!(names, ["$G", "$SYS", "A"]);
    }
}
