//! Binding a connection to its account, as nats-server's `registerWithAccount` and
//! `applyAccountLimits` do: `$G` from accept, the authenticated user's account at CONNECT
//! (refused past the account's `max_connections`), and the per-connection limits taken as
//! the smaller of the server's and the account's.

use super::connection::Connection;
use super::CloseReason;
use crate::account::Account;
use natrium_proto::errors;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::error;

impl Connection {
    /// Binds the connection to the account called `name` (`None`: `$G`). A client already
    /// in it stays; one moving (a second CONNECT) takes its subscriptions along.
    pub(super) fn bind_account(&mut self, name: Option<&str>) -> Result<(), CloseReason> {
        let account = match name {
            Some(name) => self.server.lookup_account(name),
            None => Some(Arc::clone(self.server.global_account())),
        };
        let Some(account) = account else {
            // Configured users always name configured accounts; kept for safety.
            error!(
                "{} - Problem registering with account {:?}: account missing",
                self.label,
                name.unwrap_or_default()
            );
            self.send_err("Failed Account Registration");
            return Err(CloseReason::AuthenticationViolation);
        };
        if !Arc::ptr_eq(&account, &self.account) {
            if !account.try_add_connection() {
                error!(
                    "{} - {}",
                    self.label,
                    errors::MAX_ACCOUNT_CONNECTIONS_EXCEEDED
                );
                self.send_err(errors::MAX_ACCOUNT_CONNECTIONS_EXCEEDED);
                return Err(CloseReason::MaxAccountConnectionsExceeded);
            }
            self.account.remove_connection();
            self.move_subscriptions(&account);
            self.shared.set_account(Arc::clone(&account));
            self.account = account;
            // The cache holds matches of the old account's sublist.
            self.router.reset_cache();
            // And the mappings are the new account's.
            self.mappings_generation = self.account.mappings_generation();
            self.mappings = self.account.mappings();
        }
        self.apply_account_limits();
        Ok(())
    }

    /// nats-server's `applyAccountLimits`: the smaller of the server's and the account's
    /// `max_payload` and `max_subscriptions`. Runs at binding and after each reload.
    pub(super) fn apply_account_limits(&mut self) {
        let limits = self.account.limits();
        let server_payload = self.options.max_payload;
        self.limits.max_payload = limits
            .max_payload
            .map_or(server_payload, |max| max.min(server_payload));
        let server_subscriptions =
            (self.options.max_subscriptions > 0).then_some(self.options.max_subscriptions);
        self.max_subscriptions = match (limits.max_subscriptions, server_subscriptions) {
            (Some(account), Some(server)) => Some(account.min(server)),
            (account, server) => account.or(server),
        };
    }

    /// Moves the client's live subscriptions from its current account's sublist to `to`'s.
    fn move_subscriptions(&self, to: &Account) {
        let subscriptions = self.shared.subscriptions.lock();
        for sub in subscriptions.values() {
            if sub.removed.load(Ordering::Acquire) {
                continue;
            }
            let queue = sub.queue.as_deref();
            self.account.sublist.remove(&sub.subject, queue, sub);
            // The subject was valid in the old account, so it is in the new one.
            let _ = to.sublist.insert(&sub.subject, queue, sub.clone());
        }
    }

    /// nats-server's first-PONG INFO: a client whose account lowered its `max_payload`
    /// learns the limit in an INFO right after the PONG of its first PING.
    pub(super) fn send_info_after_first_pong(&mut self) {
        if self.first_pong_sent || !self.shared.connect_received.load(Ordering::Acquire) {
            return;
        }
        self.first_pong_sent = true;
        if self.connect.protocol < 1 || self.limits.max_payload == self.options.max_payload {
            return;
        }
        let mut info = self.server.client_info(&self.shared, false, None);
        info.max_payload = self.limits.max_payload;
        let json = serde_json::to_vec(&info).unwrap_or_default();
        self.send_with(|out| natrium_proto::encode::write_info(out, &json));
    }
}
