//! A client's subscription as the sublist holds it.

use crate::client::ClientShared;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// One `SUB`: who gets the messages and how they are addressed.
pub struct Subscription {
    /// The subscribing connection.
    pub client: Arc<ClientShared>,
    /// The filter.
    pub subject: Box<[u8]>,
    /// The queue group, if any.
    pub queue: Option<Box<[u8]>>,
    /// The client's id for this subscription.
    pub sid: Box<[u8]>,
    /// Unsubscribe after this many deliveries; 0 means never.
    pub max_deliveries: AtomicU64,
    /// Deliveries so far (`/connz` and `/subsz` show it as `msgs`).
    pub delivered: AtomicU64,
    /// Set once the subscription has left the sublist.
    pub removed: AtomicBool,
}

impl Subscription {
    /// A fresh subscription of `client`, not yet in any sublist.
    pub fn create(
        client: Arc<ClientShared>,
        subject: &[u8],
        queue: Option<&[u8]>,
        sid: &[u8],
    ) -> SubscriptionRef {
        SubscriptionRef(Arc::new(Subscription {
            client,
            subject: subject.into(),
            queue: queue.map(Into::into),
            sid: sid.into(),
            max_deliveries: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            removed: AtomicBool::new(false),
        }))
    }

    /// Claims one delivery against the auto-unsubscribe limit. Without a limit nothing is
    /// counted here: the deliverer counts under the subscriber's outbound lock instead, so
    /// the common case costs one load.
    pub fn claim_delivery(&self) -> Claim {
        let max = self.max_deliveries.load(Ordering::Relaxed);
        if max == 0 {
            return Claim::Unlimited;
        }
        let count = self.delivered.fetch_add(1, Ordering::Relaxed) + 1;
        match count.cmp(&max) {
            std::cmp::Ordering::Less => Claim::Counted,
            std::cmp::Ordering::Equal => Claim::Last,
            std::cmp::Ordering::Greater => Claim::Refused,
        }
    }
}

/// The outcome of [`Subscription::claim_delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// No limit: deliver, and count it under the subscriber's outbound lock.
    Unlimited,
    /// Under the limit: deliver (already counted).
    Counted,
    /// The delivery that reaches the limit: deliver, then unsubscribe.
    Last,
    /// The limit is used up: do not deliver.
    Refused,
}

/// A shared subscription compared by identity, as the sublist stores it.
#[derive(Clone)]
pub struct SubscriptionRef(pub Arc<Subscription>);

impl PartialEq for SubscriptionRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for SubscriptionRef {
    type Target = Subscription;
    fn deref(&self) -> &Subscription {
        &self.0
    }
}
