//! Internal clients: how server threads (JetStream's, the system account's) take part in
//! routing. An [`InternalClient`] holds subscriptions in one account that deliver into an
//! [`Inbox`], and publishes through its own [`Router`] exactly as a client's reader does.

pub(crate) mod inbox;

pub(crate) use inbox::{Batch, Inbox, InlineWork, InternalSink};

use crate::account::Account;
use crate::client::ClientShared;
use crate::router::{remove_subscription, Origin, Router};
use crate::server::ServerState;
use crate::subscription::{Subscription, SubscriptionRef};
use natrium_proto::encode::Decimal;
use natrium_proto::Publish;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::error;

/// One message an internal client publishes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InternalMessage<'a> {
    /// The subject subscribers see.
    pub subject: &'a str,
    /// The subject matched against subscriptions (a push consumer's deliver subject differs
    /// from the stream subject it shows).
    pub deliver: &'a str,
    pub reply: Option<&'a str>,
    /// A whole header block (`NATS/1.0\r\n...\r\n\r\n`), or empty.
    pub headers: &'a [u8],
    pub payload: &'a [u8],
    /// Whether the match may be cached: not for one-off subjects (inboxes, replies), whose
    /// entries would only evict the subjects that repeat.
    pub cached: bool,
}

/// A server thread's client in one account.
pub(crate) struct InternalClient {
    shared: Arc<ClientShared>,
    account: Arc<Account>,
    router: Router,
    /// Subscriptions by subject filter.
    subscriptions: BTreeMap<String, SubscriptionRef>,
    next_sid: u64,
    /// Headers and payload of the message being sent, contiguous as routing wants them.
    scratch: Vec<u8>,
    /// The size tokens of the last message sent, reused while sizes repeat.
    sizes: SizeTokens,
}

/// The decimal size and header size of the last message, kept because a consumer's messages
/// are often all one size. Formatting anew per message read back, to copy them, digits just
/// stored a pair at a time, a load the CPU cannot forward (perf: 3% of a push delivery).
#[derive(Clone, Copy)]
struct SizeTokens {
    size: usize,
    size_token: Decimal,
    header_size: usize,
    header_token: Decimal,
}

impl SizeTokens {
    fn new() -> Self {
        SizeTokens {
            size: 0,
            size_token: Decimal::new(0),
            header_size: 0,
            header_token: Decimal::new(0),
        }
    }

    /// Brings the tokens to `size` and `header_size`.
    fn set(&mut self, size: usize, header_size: usize) {
        if self.size != size {
            self.size = size;
            self.size_token = Decimal::new(size);
        }
        if self.header_size != header_size {
            self.header_size = header_size;
            self.header_token = Decimal::new(header_size);
        }
    }
}

impl InternalClient {
    /// A client in `account` whose subscriptions deliver into `inbox`.
    pub fn new(server: &ServerState, account: Arc<Account>, inbox: &Arc<Inbox>) -> Self {
        let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
        let name: Arc<str> = account.name.as_str().into();
        let sink = InternalSink::new(name, Arc::clone(inbox));
        let shared = Arc::new(ClientShared::new_internal(id, Arc::clone(&account), sink));
        InternalClient {
            router: Router::new(server.seed_for(id), Arc::clone(&shared)),
            shared,
            account,
            subscriptions: BTreeMap::new(),
            next_sid: 1,
            scratch: Vec::new(),
            sizes: SizeTokens::new(),
        }
    }

    /// The account the client publishes in.
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// Makes the client's subscriptions exactly `filters`.
    pub fn set_filters<S: AsRef<str>>(&mut self, filters: &[S]) {
        let stale: Vec<String> = self
            .subscriptions
            .keys()
            .filter(|filter| !filters.iter().any(|wanted| wanted.as_ref() == *filter))
            .cloned()
            .collect();
        for filter in stale {
            if let Some(sub) = self.subscriptions.remove(&filter) {
                self.shared.subscriptions.lock().remove(&sub.sid);
                remove_subscription(&self.account, &sub, false);
            }
        }
        for filter in filters {
            let filter = filter.as_ref();
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
                error!("internal client: cannot subscribe to {filter:?}");
                continue;
            }
            self.shared.subscriptions.lock().insert(sid, sub.clone());
            self.subscriptions.insert(filter.to_string(), sub);
        }
    }

    /// Routes one message in the client's account; true if anyone received it.
    pub fn send(
        &mut self,
        server: &ServerState,
        max_pending: usize,
        message: InternalMessage<'_>,
    ) -> bool {
        // The wire wants headers and payload in one piece: only a message with headers is
        // copied to make it.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let whole: &[u8] = if message.headers.is_empty() {
            message.payload
        } else {
            scratch.extend_from_slice(message.headers);
            scratch.extend_from_slice(message.payload);
            &scratch
        };
        self.sizes.set(whole.len(), message.headers.len());
        let publish = Publish {
            subject: message.subject.as_bytes(),
            reply: message.reply.map(str::as_bytes),
            header_len: (!message.headers.is_empty()).then_some(message.headers.len()),
            message: whole,
            size_token: self.sizes.size_token.as_bytes(),
            header_token: self.sizes.header_token.as_bytes(),
        };
        let origin = Origin {
            client_id: self.shared.id,
            echo: false,
            max_pending,
            trace: false,
        };
        let deliver = message.deliver.as_bytes();
        let delivered = if message.cached {
            self.router
                .route(server, &self.account, deliver, &publish, origin)
        } else {
            self.router
                .route_uncached(server, &self.account, deliver, &publish, origin)
        };
        self.scratch = scratch;
        delivered
    }

    /// Writes what was queued so far to idle sockets, or wakes their writers.
    pub fn flush(&mut self) {
        self.router.flush_direct();
    }

    /// Wakes the writers this batch gave data to and counts its deliveries.
    pub fn end_batch(&mut self, server: &ServerState) {
        self.flush();
        self.router.publish_out_stats(&server.stats, &self.account);
        // A server thread never stalls on slow consumers; their own limits apply.
        self.router.stalled_on.clear();
    }

    /// Lets publishers that stalled on a full inbox go on, now that it was taken.
    pub fn release_backpressure(&self) {
        if self.shared.backed_up.swap(false, Ordering::AcqRel) {
            self.shared.drained.notify_waiters();
        }
    }
}
