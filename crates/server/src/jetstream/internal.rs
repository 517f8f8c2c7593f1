//! JetStream's internal clients, one per account: their subscriptions (kept equal to what the
//! engine asks for) and the publishing of the engine's replies and deliveries.

use crate::internal::{Inbox, InternalClient, InternalMessage};
use crate::server::ServerState;
use natrium_jetstream::{Interest, Outbound};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::error;

/// Every account's internal client.
pub(super) struct InternalClients {
    server: Arc<ServerState>,
    inbox: Arc<Inbox>,
    by_account: BTreeMap<String, InternalClient>,
    interest_generation: u64,
    /// Subscribers' `max_pending`, as of the last batch.
    max_pending: usize,
}

impl InternalClients {
    pub fn new(server: Arc<ServerState>, inbox: Arc<Inbox>) -> Self {
        InternalClients {
            inbox,
            by_account: BTreeMap::new(),
            interest_generation: 0,
            max_pending: server_max_pending(&server),
            server,
        }
    }

    /// The engine interest generation the subscriptions reflect.
    pub fn interest_generation(&self) -> u64 {
        self.interest_generation
    }

    /// Makes the subscriptions exactly `interest`.
    pub fn subscribe(&mut self, interest: &Interest, generation: u64) {
        for (account_name, filters) in &interest.by_account {
            let Some(client) = self.client(account_name) else {
                error!("JetStream: no account {account_name:?} to subscribe in");
                continue;
            };
            client.set_filters(filters);
        }
        for (account_name, client) in &mut self.by_account {
            if !interest.by_account.contains_key(account_name) {
                client.set_filters::<&str>(&[]);
            }
        }
        self.interest_generation = generation;
    }

    /// Publishes one engine message in its account.
    pub fn send(&mut self, message: &Outbound) {
        let server = Arc::clone(&self.server);
        let max_pending = self.max_pending;
        if let Some(client) = self.client(&message.account) {
            let internal = InternalMessage {
                subject: message.shown_subject(),
                deliver: &message.deliver,
                reply: message.reply.as_deref(),
                headers: &message.headers,
                payload: &message.payload,
                // Replies and advisories: PubAcks go to a new inbox each time, so caching
                // their matches would only evict the deliver subjects of consumers, which
                // repeat.
                cached: message.subject.is_some(),
            };
            client.send(&server, max_pending, internal);
        }
    }

    /// Writes (or hands to the writers) what was queued so far, mid-batch: subscribers
    /// start reading while the rest of a long batch is produced.
    pub fn flush(&mut self) {
        for client in self.by_account.values_mut() {
            client.flush();
        }
    }

    /// Wakes the writers the batch gave data to and counts its deliveries.
    pub fn end_batch(&mut self) {
        for client in self.by_account.values_mut() {
            client.end_batch(&self.server);
        }
        self.max_pending = server_max_pending(&self.server);
    }

    /// Lets publishers that stalled on a full inbox go on, now that it was taken.
    pub fn release_backpressure(&self) {
        for client in self.by_account.values() {
            client.release_backpressure();
        }
    }

    fn client(&mut self, account_name: &str) -> Option<&mut InternalClient> {
        if !self.by_account.contains_key(account_name) {
            let account = self.server.lookup_account(account_name)?;
            let client = InternalClient::new(&self.server, account, &self.inbox);
            self.by_account.insert(account_name.to_string(), client);
        }
        self.by_account.get_mut(account_name)
    }
}

fn server_max_pending(server: &ServerState) -> usize {
    server.options().max_pending
}
