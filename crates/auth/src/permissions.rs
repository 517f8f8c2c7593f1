//! Compiled permissions: publish, subscribe (with queue rules) and deny-at-delivery checks.
//!
//! [`CompiledPermissions`] is built once per user and shared (behind an `Arc`) by all of the
//! user's connections. Each connection owns a [`PublishCheck`] (a bounded cache of publish
//! verdicts, read by its own reader with no lock) and, in the part other connections write
//! to when they deliver, a [`DeliveryFilter`] and a [`crate::ResponseTracker`].

use crate::filter::{FilterSet, Walk};
use crate::types::{Permissions, ResponsePermission};
use natrium_subject::hash::FastBuildHasher;
use natrium_subject::{filters_overlap, has_wildcard, is_subset_of};
use std::collections::HashMap;
use std::sync::Arc;

/// The queue group nats-server reserves for itself; clients may never join it.
pub const SYSTEM_QUEUE_GROUP: &str = "_sys_";
/// nats-server's `maxPermCacheSize`: publish verdicts cached per connection.
pub const PUBLISH_CACHE_ENTRIES_MAX: usize = 128;
/// nats-server's `maxDenyPermCacheSize`: delivery deny verdicts cached per connection.
pub const DELIVERY_CACHE_ENTRIES_MAX: usize = 256;
/// nats-server's `pruneSize`: entries dropped at once when a cache is full.
pub const CACHE_PRUNE_ENTRIES: usize = 32;

/// A user's permissions, compiled into tries for matching.
#[derive(Debug)]
pub struct CompiledPermissions {
    /// `Some` even when empty: an empty allow list (from `allow_responses`) allows nothing.
    publish_allow: Option<FilterSet>,
    publish_deny: Option<FilterSet>,
    subscribe_allow: Option<FilterSet>,
    subscribe_deny: Option<FilterSet>,
    /// The subscribe deny entries, to decide whether a wildcard subscription needs filtering.
    subscribe_deny_subjects: Vec<Box<[u8]>>,
    response: Option<ResponsePermission>,
}

/// Splits `"subject queue"` as nats-server's `splitSubjectQueue` does (fields separated by
/// whitespace); `None` for more than two fields.
pub(crate) fn split_subject_queue(entry: &str) -> Option<(&str, Option<&str>)> {
    let mut fields = entry.split_whitespace();
    let subject = fields.next()?;
    let queue = fields.next();
    fields.next().is_none().then_some((subject, queue))
}

impl CompiledPermissions {
    /// Compiles `permissions` (normalized first, see [`Permissions::normalized`]). Entries that
    /// are not valid subjects are skipped, as nats-server logs and skips them; config parsing
    /// has already refused them.
    pub fn new(permissions: &Permissions) -> CompiledPermissions {
        let permissions = permissions.clone().normalized();
        let publish = &permissions.publish;
        let subscribe = &permissions.subscribe;
        let publish_allow = publish.allow.as_ref().map(|allow| {
            let mut set = FilterSet::default();
            for entry in allow {
                // A queue qualifier cannot match a publish; nats-server skips such entries.
                set.insert(entry.as_bytes(), None);
            }
            set
        });
        let publish_deny = (!publish.deny.is_empty()).then(|| {
            let mut set = FilterSet::default();
            for entry in &publish.deny {
                // A queue qualifier on a deny keeps the deny's subject scope (nats-server main).
                if let Some((subject, _)) = split_subject_queue(entry) {
                    set.insert(subject.as_bytes(), None);
                }
            }
            set
        });
        let subscribe_allow = subscribe
            .allow
            .as_ref()
            .filter(|allow| !allow.is_empty())
            .map(|allow| queue_set(allow));
        let subscribe_deny = (!subscribe.deny.is_empty()).then(|| queue_set(&subscribe.deny));
        let subscribe_deny_subjects = subscribe
            .deny
            .iter()
            .filter_map(|entry| split_subject_queue(entry))
            .map(|(subject, _)| subject.as_bytes().into())
            .collect();
        CompiledPermissions {
            publish_allow,
            publish_deny,
            subscribe_allow,
            subscribe_deny,
            subscribe_deny_subjects,
            response: permissions.response,
        }
    }

    /// Whether publishing is restricted at all (if not, the server can skip the check).
    pub fn restricts_publish(&self) -> bool {
        self.publish_allow.is_some() || self.publish_deny.is_some()
    }

    /// The response permission, if replies to received messages are allowed.
    pub fn response(&self) -> Option<ResponsePermission> {
        self.response
    }

    /// nats-server's publish check without the cache or reply subjects: allowed by the allow
    /// list (if any) and not denied.
    pub fn publish_allowed(&self, subject: &[u8]) -> bool {
        let allowed = self
            .publish_allow
            .as_ref()
            .is_none_or(|allow| allow.matches_plain(subject, Walk::Literal));
        allowed
            && !self
                .publish_deny
                .as_ref()
                .is_some_and(|deny| deny.matches_plain(subject, Walk::Literal))
    }

    /// nats-server's `canSubscribe` for a client: may it subscribe to `subject` (a filter,
    /// possibly with wildcards) in `queue`?
    ///
    /// `allow = ["foo"]` allows `foo` in any queue; `["foo v1"]` allows only queue `v1` (no
    /// plain subscription); `["foo", "foo v1"]` allows plain `foo` but only queue `v1`. A queue
    /// entry's name may itself use wildcards (`"foo v1.*"` allows queue `v1.a`). The reserved
    /// queue [`SYSTEM_QUEUE_GROUP`] is always refused (see [`queue_allowed`]).
    pub fn subscribe_allowed(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        if !queue_allowed(queue) {
            return false;
        }
        let queue = queue.filter(|q| !q.is_empty());
        let mut allowed = true;
        if let Some(allow) = &self.subscribe_allow {
            let (plain, queues) = matching(allow, subject, Walk::Covering);
            allowed = plain;
            if let Some(queue) = queue {
                if !queues.is_empty() {
                    allowed = queue_matches(queue, &queues);
                }
            }
        }
        if allowed {
            if let Some(deny) = &self.subscribe_deny {
                let (plain, queues) = matching(deny, subject, Walk::Literal);
                allowed = !plain;
                // A queue deny applies only if no plain deny did (nats-server main fixed 2.9's
                // queue check overriding a plain deny).
                if let Some(queue) = queue {
                    if allowed && !queues.is_empty() {
                        allowed = !queue_matches(queue, &queues);
                    }
                }
            }
        }
        allowed
    }

    /// Whether an allowed subscription could still receive denied messages, so the
    /// connection's [`DeliveryFilter`] must be switched on: a wildcard subscription (or a
    /// queue subscription) overlapping a subscribe deny entry. nats-server main's rule.
    pub fn needs_delivery_filter(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let queue = queue.is_some_and(|q| !q.is_empty());
        (queue || has_wildcard(subject))
            && self
                .subscribe_deny_subjects
                .iter()
                .any(|deny| filters_overlap(deny, subject))
    }

    /// nats-server's `checkDenySub`, uncached: must a message on the literal `subject` be
    /// withheld from a subscription in `queue` (empty or `None` for a plain subscription)?
    pub fn delivery_denied(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let Some(deny) = &self.subscribe_deny else {
            return false;
        };
        let (plain, queues) = matching(deny, subject, Walk::Literal);
        plain
            || queue
                .filter(|q| !q.is_empty())
                .is_some_and(|queue| !queues.is_empty() && queue_matches(queue, &queues))
    }
}

fn queue_set(entries: &[String]) -> FilterSet {
    let mut set = FilterSet::default();
    for entry in entries {
        if let Some((subject, queue)) = split_subject_queue(entry) {
            set.insert(subject.as_bytes(), queue.map(str::as_bytes));
        }
    }
    set
}

/// Whether a plain entry matched, and the queue names of matching queue entries.
fn matching<'a>(set: &'a FilterSet, subject: &[u8], walk: Walk) -> (bool, Vec<&'a [u8]>) {
    let mut plain = false;
    let mut queues: Vec<&'a [u8]> = Vec::new();
    set.visit(subject, walk, &mut |terminal| {
        plain |= terminal.plain;
        queues.extend(terminal.queues.iter().map(|q| &**q));
        false
    });
    (plain, queues)
}

/// nats-server's `queueMatches`: the queue is named literally, or by a wildcard queue entry
/// that covers it (queue names may contain `*` and `>` tokens).
fn queue_matches(queue: &[u8], names: &[&[u8]]) -> bool {
    names
        .iter()
        .any(|name| *name == queue || (has_wildcard(name) && is_subset_of(queue, name)))
}

/// Whether a client may use `queue` at all: nats-server refuses its reserved `_sys_` group to
/// clients even without permissions.
pub fn queue_allowed(queue: Option<&[u8]>) -> bool {
    queue != Some(SYSTEM_QUEUE_GROUP.as_bytes())
}

/// The outcome of a cached publish check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishVerdict {
    /// The subject is allowed.
    Allowed,
    /// The subject is denied: send `Permissions Violation for Publish to "x"`.
    Denied,
    /// Denied by the lists, but the user may reply to received messages: ask the
    /// connection's [`crate::ResponseTracker`] (under its lock) before calling it denied.
    CheckResponses,
}

/// A connection's publish gate: its user's permissions and a bounded cache of verdicts.
#[derive(Debug)]
pub struct PublishCheck {
    permissions: Arc<CompiledPermissions>,
    cache: HashMap<Box<[u8]>, bool, FastBuildHasher>,
    /// The last subject found allowed: a publisher repeating a subject (the common case)
    /// pays one comparison instead of a hash and a probe.
    last_allowed: Vec<u8>,
}

impl PublishCheck {
    /// A gate for one connection of a user with `permissions`.
    pub fn new(permissions: Arc<CompiledPermissions>) -> PublishCheck {
        PublishCheck {
            permissions,
            cache: HashMap::with_capacity_and_hasher(
                PUBLISH_CACHE_ENTRIES_MAX,
                FastBuildHasher::default(),
            ),
            last_allowed: Vec::new(),
        }
    }

    /// The permissions this gate checks against.
    pub fn permissions(&self) -> &Arc<CompiledPermissions> {
        &self.permissions
    }

    /// nats-server's `pubAllowed`: the cached verdict for `subject`, computing it on a miss.
    /// A subject that only a reply permission could allow is never cached (its answer changes).
    #[inline]
    pub fn check(&mut self, subject: &[u8]) -> PublishVerdict {
        if subject == self.last_allowed.as_slice() {
            return PublishVerdict::Allowed;
        }
        if let Some(&allowed) = self.cache.get(subject) {
            if !allowed {
                return PublishVerdict::Denied;
            }
            self.last_allowed.clear();
            self.last_allowed.extend_from_slice(subject);
            return PublishVerdict::Allowed;
        }
        self.check_miss(subject)
    }

    #[cold]
    fn check_miss(&mut self, subject: &[u8]) -> PublishVerdict {
        let allowed = self.permissions.publish_allowed(subject);
        if !allowed && self.permissions.response.is_some() {
            return PublishVerdict::CheckResponses;
        }
        if self.cache.len() >= PUBLISH_CACHE_ENTRIES_MAX {
            prune(&mut self.cache);
        }
        self.cache.insert(subject.into(), allowed);
        if allowed {
            PublishVerdict::Allowed
        } else {
            PublishVerdict::Denied
        }
    }
}

/// Drops `CACHE_PRUNE_ENTRIES` entries; which ones depends only on the hash (fixed seed), so
/// runs are reproducible.
fn prune<K: std::hash::Hash + Eq + Clone, V>(cache: &mut HashMap<K, V, FastBuildHasher>) {
    let victims: Vec<K> = cache.keys().take(CACHE_PRUNE_ENTRIES).cloned().collect();
    for key in victims {
        cache.remove(&key);
    }
}

/// A connection's deny-at-delivery filter (nats-server's `mperms`): deny clauses do not stop a
/// broader wildcard subscription, so each delivery is checked instead. Off until a
/// subscription needs it ([`CompiledPermissions::needs_delivery_filter`]); the check is one
/// branch while off.
#[derive(Debug)]
pub struct DeliveryFilter {
    permissions: Arc<CompiledPermissions>,
    active: bool,
    cache: HashMap<Box<[u8]>, bool, FastBuildHasher>,
    key: Vec<u8>,
}

impl DeliveryFilter {
    /// A filter, switched off, for a connection of a user with `permissions`.
    pub fn new(permissions: Arc<CompiledPermissions>) -> DeliveryFilter {
        DeliveryFilter {
            permissions,
            active: false,
            cache: HashMap::default(),
            key: Vec::new(),
        }
    }

    /// Switches the filter on (it stays on, as in nats-server, until permissions change).
    pub fn activate(&mut self) {
        self.active = true;
    }

    /// Whether deliveries are being checked.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether a message on `subject` must be withheld from a subscription in `queue`.
    pub fn denies(&mut self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        if !self.active {
            return false;
        }
        let queue = queue.unwrap_or_default();
        // One reused buffer as the key, `subject queue`: unambiguous since neither holds a
        // space, and a cache hit allocates nothing.
        self.key.clear();
        self.key.extend_from_slice(subject);
        self.key.push(b' ');
        self.key.extend_from_slice(queue);
        if let Some(&denied) = self.cache.get(self.key.as_slice()) {
            return denied;
        }
        let denied = self.permissions.delivery_denied(subject, Some(queue));
        if self.cache.len() >= DELIVERY_CACHE_ENTRIES_MAX {
            prune(&mut self.cache);
        }
        self.cache.insert(self.key.as_slice().into(), denied);
        denied
    }
}
