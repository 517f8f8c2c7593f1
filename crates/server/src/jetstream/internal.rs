//! JetStream's internal clients, one per account: their subscriptions (kept equal to what the
//! engine asks for) and the routers that publish the engine's replies and deliveries.

use super::inbox::{Inbox, InternalSink};
use crate::account::Account;
use crate::client::ClientShared;
use crate::router::{remove_subscription, Origin, Router};
use crate::server::ServerState;
use crate::subscription::{Subscription, SubscriptionRef};
use natrium_jetstream::{Interest, Outbound};
use natrium_proto::encode::Decimal;
use natrium_proto::Publish;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::error;

/// One account's internal client.
struct InternalClient {
    shared: Arc<ClientShared>,
    account: Arc<Account>,
    router: Router,
    /// Subscriptions by subject filter.
    subscriptions: BTreeMap<String, SubscriptionRef>,
    next_sid: u64,
}

/// Every account's internal client.
pub(super) struct InternalClients {
    server: Arc<ServerState>,
    inbox: Arc<Inbox>,
    by_account: BTreeMap<String, InternalClient>,
    interest_generation: u64,
    /// Headers and payload of the message being sent, contiguous as routing wants them.
    scratch: Vec<u8>,
    /// Subscribers' `max_pending`, as of the last batch.
    max_pending: usize,
}

impl InternalClients {
    pub fn new(server: Arc<ServerState>, inbox: Arc<Inbox>) -> Self {
        InternalClients {
            inbox,
            by_account: BTreeMap::new(),
            interest_generation: 0,
            scratch: Vec::new(),
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
                client.set_filters(&[]);
            }
        }
        self.interest_generation = generation;
    }

    /// Publishes one engine message in its account.
    pub fn send(&mut self, message: &Outbound) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(&message.headers);
        scratch.extend_from_slice(&message.payload);
        let server = Arc::clone(&self.server);
        let max_pending = self.max_pending;
        if let Some(client) = self.client(&message.account) {
            client.send(&server, max_pending, message, &scratch);
        }
        self.scratch = scratch;
    }

    /// Wakes the writers the batch gave data to and counts its deliveries.
    pub fn end_batch(&mut self) {
        for client in self.by_account.values_mut() {
            client.router.flush();
            client
                .router
                .publish_out_stats(&self.server.stats, &client.account);
            // The JetStream thread never stalls on slow consumers; their own limits apply.
            client.router.stalled_on.clear();
        }
        self.max_pending = server_max_pending(&self.server);
    }

    /// Lets publishers that stalled on a full inbox go on, now that it was taken.
    pub fn release_backpressure(&self) {
        for client in self.by_account.values() {
            if client.shared.backed_up.swap(false, Ordering::AcqRel) {
                client.shared.drained.notify_waiters();
            }
        }
    }

    fn client(&mut self, account_name: &str) -> Option<&mut InternalClient> {
        if !self.by_account.contains_key(account_name) {
            let account = self.server.lookup_account(account_name)?;
            let id = self.server.next_client_id.fetch_add(1, Ordering::Relaxed);
            let name: Arc<str> = account_name.into();
            let sink = InternalSink::new(name, Arc::clone(&self.inbox));
            let shared = Arc::new(ClientShared::new_internal(id, Arc::clone(&account), sink));
            let seed = self.server.seed_for(id);
            self.by_account.insert(
                account_name.to_string(),
                InternalClient {
                    shared,
                    account,
                    router: Router::new(seed),
                    subscriptions: BTreeMap::new(),
                    next_sid: 1,
                },
            );
        }
        self.by_account.get_mut(account_name)
    }
}

impl InternalClient {
    fn set_filters(&mut self, filters: &[String]) {
        let stale: Vec<String> = self
            .subscriptions
            .keys()
            .filter(|filter| !filters.contains(filter))
            .cloned()
            .collect();
        for filter in stale {
            if let Some(sub) = self.subscriptions.remove(&filter) {
                self.shared.subscriptions.lock().remove(&sub.sid);
                remove_subscription(&self.account, &sub, false);
            }
        }
        for filter in filters {
            if self.subscriptions.contains_key(filter) {
                continue;
            }
            let sid: Box<[u8]> = self.next_sid.to_string().into_bytes().into();
            self.next_sid += 1;
            let sub = Subscription::create(Arc::clone(&self.shared), filter.as_bytes(), None, &sid);
            if self
                .account
                .sublist
                .insert(filter.as_bytes(), None, sub.clone())
                .is_err()
            {
                error!("JetStream: cannot subscribe to {filter:?}");
                continue;
            }
            self.shared.subscriptions.lock().insert(sid, sub.clone());
            self.subscriptions.insert(filter.clone(), sub);
        }
    }

    fn send(
        &mut self,
        server: &ServerState,
        max_pending: usize,
        message: &Outbound,
        message_bytes: &[u8],
    ) {
        let size = Decimal::new(message_bytes.len());
        let header_size = Decimal::new(message.headers.len());
        let publish = Publish {
            subject: message.subject.as_bytes(),
            reply: message.reply.as_deref().map(str::as_bytes),
            header_len: (!message.headers.is_empty()).then_some(message.headers.len()),
            message: message_bytes,
            size_token: size.as_bytes(),
            header_token: header_size.as_bytes(),
        };
        let origin = Origin {
            client_id: self.shared.id,
            echo: false,
            max_pending,
            trace: false,
        };
        let deliver = message.deliver.as_bytes();
        if message.deliver == message.subject {
            // Replies and advisories: PubAcks go to a new inbox each time, so caching their
            // matches would only evict the deliver subjects of consumers, which repeat.
            self.router
                .route_uncached(server, &self.account, deliver, &publish, origin);
        } else {
            self.router
                .route(server, &self.account, deliver, &publish, origin);
        }
    }
}

fn server_max_pending(server: &ServerState) -> usize {
    server.options().max_pending
}
