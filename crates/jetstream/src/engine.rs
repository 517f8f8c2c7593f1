//! The server-wide JetStream: every account's [`JetStreamApi`], fed the messages the server's
//! internal subscriptions caught, and giving back the messages to send.
//!
//! The server owns one `JetStream` on a dedicated thread. It hands in a batch of [`Inbound`]
//! messages, calls [`JetStream::sync`] and waits on the tickets outside any lock, and only then
//! sends the batch's [`Outbound`] messages: a PubAck (or any reply) never leaves before the write
//! it acknowledges is durable under the stream's sync policy.

use crate::api::types::AccountLimits;
use crate::api::{not_enabled_answer, JetStreamApi, StoreProvider, Usage, API_PREFIX};
use crate::stream::check::ServerLimits;
use crate::stream::config::StreamSource;
use bytes::Bytes;
use natrium_store::{MessageStore, StoreError, SyncTicket};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A message caught by one of JetStream's internal subscriptions.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The account the publisher is bound to (shared: every reply carries it).
    pub account: &'a Arc<str>,
    /// The subject it was published to.
    pub subject: &'a str,
    /// The reply subject, if any.
    pub reply: Option<&'a str>,
    /// The header block (`NATS/1.0\r\n...`), empty when none.
    pub headers: &'a [u8],
    /// The payload.
    pub payload: &'a [u8],
}

/// A message JetStream sends into an account: a reply, a PubAck, a direct get's message (with
/// headers), or an advisory on `$JS.EVENT.ADVISORY.>` (sent whether or not anyone listens;
/// the server drops what no subscription matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// The account it is published in.
    pub account: Arc<str>,
    /// The subject subscribers are matched against. Shared: a consumer sends every
    /// delivery to the same one.
    pub deliver: Arc<str>,
    /// The subject the MSG line shows when it is not `deliver`: consumer deliveries go to the
    /// deliver subject but carry the stored message's own subject.
    pub subject: Option<Arc<str>>,
    /// The reply subject, if any.
    pub reply: Option<String>,
    /// The header block, empty when none. Deliveries share the store's buffer.
    pub headers: Bytes,
    /// The payload.
    pub payload: Bytes,
    /// A consumer's piece of deliveries ends here: what is queued is written out now, so
    /// its client starts reading while the rest is made.
    pub piece_end: bool,
}

impl Outbound {
    /// The subject the MSG line shows.
    pub fn shown_subject(&self) -> &str {
        self.subject.as_deref().unwrap_or(&*self.deliver)
    }

    /// The account of a message made where the account is not known yet (consumers'
    /// deliveries and advisories); [`JetStream`] sets it before handing the message out.
    pub(crate) fn unassigned_account() -> Arc<str> {
        static UNASSIGNED: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        Arc::clone(UNASSIGNED.get_or_init(|| Arc::from("")))
    }

    /// A plain reply: `payload` sent to `reply` in `account`.
    pub fn reply(account: &Arc<str>, reply: &str, payload: Vec<u8>) -> Outbound {
        Outbound {
            account: Arc::clone(account),
            deliver: Arc::from(reply),
            subject: None,
            reply: None,
            headers: Bytes::new(),
            payload: payload.into(),
            piece_end: false,
        }
    }
}

/// Where JetStream wants the server's internal subscriptions, per account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interest {
    /// Subject filters by account name.
    pub by_account: BTreeMap<String, Vec<String>>,
}

/// Settings shared by every account.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// The JetStream domain, when one is set.
    pub domain: Option<String>,
    /// Server-wide limits used to check stream configurations.
    pub server_limits: ServerLimits,
    /// Limits given to an account that has none configured.
    pub default_account_limits: AccountLimits,
    /// The server's name (or id), as API audit advisories carry it.
    pub server_name: String,
}

/// Makes the store provider of one account (file stores under the account's directory).
pub type ProviderFactory<P> = Box<dyn FnMut(&str) -> Result<P, StoreError> + Send>;

/// Every account's JetStream.
pub struct JetStream<P> {
    config: EngineConfig,
    accounts: BTreeMap<Arc<str>, JetStreamApi<P>>,
    /// Accounts without JetStream whose API requests are answered "not enabled".
    refused: std::collections::BTreeSet<String>,
    /// Per account, the API prefixes it imports from other accounts' JetStream (`$JS.API.>`
    /// service imports): a source's `external.api` names its origin's account through them.
    external_apis: BTreeMap<String, BTreeMap<String, String>>,
    make_provider: ProviderFactory<P>,
    /// Bumped whenever the subjects JetStream listens on change.
    interest_generation: u64,
}

impl<P: StoreProvider> JetStream<P> {
    /// JetStream with no accounts enabled yet.
    pub fn new(config: EngineConfig, make_provider: ProviderFactory<P>) -> Self {
        JetStream {
            config,
            accounts: BTreeMap::new(),
            refused: std::collections::BTreeSet::new(),
            external_apis: BTreeMap::new(),
            make_provider,
            interest_generation: 1,
        }
    }

    /// Answers the API requests of an account without JetStream with "JetStream not enabled
    /// for account", as nats-server does (instead of leaving them without responders).
    pub fn refuse_account(&mut self, account: &str) {
        if !self.accounts.contains_key(account) && self.refused.insert(account.to_string()) {
            self.interest_generation += 1;
        }
    }

    /// Records that `account` reaches `origin`'s JetStream API under `prefix` (e.g.
    /// `$JS.A.API`), so its mirrors and sources with that `external.api` read `origin`'s
    /// streams.
    pub fn add_external_api(&mut self, account: &str, prefix: &str, origin: &str) {
        self.external_apis
            .entry(account.to_string())
            .or_default()
            .insert(prefix.trim_end_matches('.').to_string(), origin.to_string());
    }

    /// Forgets every prefix [`add_external_api`](Self::add_external_api) recorded: a reload
    /// then records the imports its configuration has.
    pub fn clear_external_apis(&mut self) {
        self.external_apis.clear();
    }

    /// Enables JetStream for an account, recovering the streams its provider holds.
    pub fn enable_account(&mut self, account: &str) -> Result<(), StoreError> {
        self.enable_account_with_limits(account, self.config.default_account_limits)
    }

    /// Enables JetStream for an account with its own limits (nats-server's per-account
    /// `jetstream {}` block), recovering the streams its provider holds.
    pub fn enable_account_with_limits(
        &mut self,
        account: &str,
        limits: AccountLimits,
    ) -> Result<(), StoreError> {
        self.refused.remove(account);
        if self.accounts.contains_key(account) {
            return Ok(());
        }
        let provider = (self.make_provider)(account)?;
        let name: Arc<str> = Arc::from(account);
        let mut api = JetStreamApi::new(
            provider,
            limits,
            self.config.server_limits,
            self.config.domain.clone(),
        )
        .with_account(&name)
        .with_server_name(&self.config.server_name);
        api.recover()?;
        self.accounts.insert(name, api);
        self.interest_generation += 1;
        Ok(())
    }

    /// One account's JetStream, if enabled.
    pub fn account(&self, account: &str) -> Option<&JetStreamApi<P>> {
        self.accounts.get(account)
    }

    /// Each account's figures and, with `streams`, its streams as monitoring's `/jsz`
    /// details them (see [`JetStreamApi::stream_details`]).
    pub fn account_details(
        &mut self,
        streams: bool,
        consumers: bool,
        config: bool,
    ) -> Vec<(String, Usage, Vec<serde_json::Value>)> {
        self.accounts
            .iter_mut()
            .map(|(name, api)| {
                let details = if streams {
                    api.stream_details(config, consumers)
                } else {
                    Vec::new()
                };
                (name.to_string(), api.usage(), details)
            })
            .collect()
    }

    /// Every account's figures added up, and how many accounts there are.
    pub fn usage(&self) -> (Usage, usize) {
        let mut total = Usage::default();
        for api in self.accounts.values() {
            total.add(&api.usage());
        }
        (total, self.accounts.len())
    }

    /// Names of the accounts with JetStream enabled.
    pub fn account_names(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(|name| &**name)
    }

    /// Changes whenever [`interest`](Self::interest) would answer differently.
    pub fn interest_generation(&self) -> u64 {
        self.interest_generation
            + self
                .accounts
                .values()
                .map(|a| a.interest_generation())
                .sum::<u64>()
    }

    /// The subjects to subscribe internally: the API and every stream's subjects.
    pub fn interest(&self) -> Interest {
        let mut interest = Interest::default();
        for (name, api) in &self.accounts {
            let mut filters = vec![format!("{API_PREFIX}>")];
            if let Some(domain) = &self.config.domain {
                filters.push(format!("$JS.{domain}.API.>"));
            }
            filters.extend(api.stream_subjects());
            filters.extend(api.consumer_subjects());
            filters.extend(api.transfer_subjects());
            interest.by_account.insert(name.to_string(), filters);
        }
        for name in &self.refused {
            let mut filters = vec![format!("{API_PREFIX}>")];
            if let Some(domain) = &self.config.domain {
                filters.push(format!("$JS.{domain}.API.>"));
            }
            interest.by_account.insert(name.clone(), filters);
        }
        interest
    }

    /// Handles one caught message at `now` (nanoseconds since the epoch), appending what to
    /// send to `out`: replies first, then advisories. Nothing in `out` may be sent before the tickets of the next
    /// [`sync`](Self::sync) resolve.
    pub fn handle(&mut self, message: Inbound<'_>, now: i64, out: &mut Vec<Outbound>) {
        let translated = match &self.config.domain {
            Some(domain) => domain_to_api(message.subject, domain),
            None => None,
        };
        let subject = translated.as_deref().unwrap_or(message.subject);
        let Some(api) = self.accounts.get_mut(&**message.account) else {
            if self.refused.contains(&**message.account) {
                if let (Some(reply), Some(body)) = (message.reply, not_enabled_answer(subject)) {
                    out.push(Outbound::reply(message.account, reply, body));
                }
            }
            return;
        };
        if !api.consumer_message(subject, message.reply, message.payload, now) {
            api.handle(Inbound { subject, ..message }, now, out);
        }
        api.drain_outbox(message.account, out);
    }

    /// Runs age limits, mirror and source copies, consumer timers and deliveries at `now`:
    /// redeliveries, pull request expiry and
    /// heartbeats, push idle heartbeats, inactivity cleanup, and delivery of whatever is
    /// stored and wanted. `interest(account, subject)` says whether a subject has
    /// subscribers (push consumers deliver only then; pull requests whose reply subject lost
    /// its subscribers are dropped). Call it after every batch of [`handle`](Self::handle)
    /// calls, when [`next_deadline`](Self::next_deadline) passes, and when subscriptions
    /// change; then [`sync`](Self::sync) before sending `out`.
    pub fn tick(
        &mut self,
        now: i64,
        interest: &dyn Fn(&str, &str) -> bool,
        out: &mut Vec<Outbound>,
    ) {
        for api in self.accounts.values_mut() {
            api.expire(now);
        }
        self.copy_sources(now);
        for (account, api) in &mut self.accounts {
            api.tick(now, &|subject| interest(account, subject));
            api.tick_transfers(now, &|subject| interest(account, subject));
            api.drain_outbox(account, out);
        }
    }

    /// Every account's mirrors and sources copy from their origins; those that import
    /// another account's JetStream read its streams (the account is set aside meanwhile, so
    /// both can be borrowed).
    fn copy_sources(&mut self, now: i64) {
        for (name, api) in &mut self.accounts {
            if !self.external_apis.contains_key(&**name) {
                api.copy_sources(now);
            }
        }
        // Only accounts that import another's JetStream pay for the set-aside.
        let names: Vec<String> = self.external_apis.keys().cloned().collect();
        for name in names {
            let Some((key, mut api)) = self.accounts.remove_entry(name.as_str()) else {
                continue;
            };
            let accounts = &self.accounts;
            let prefixes = self.external_apis.get(&name);
            let foreign = |source: &StreamSource| -> Option<&dyn MessageStore> {
                let external = source.external.as_ref()?;
                let origin = prefixes?.get(external.api.trim_end_matches('.'))?;
                accounts.get(origin.as_str())?.stream(&source.name)
            };
            api.copy_sources_from(now, &foreign);
            self.accounts.insert(key, api);
        }
    }

    /// The earliest time [`tick`](Self::tick) has timer work, if any.
    pub fn next_deadline(&self) -> Option<i64> {
        self.accounts
            .values()
            .flat_map(|api| [api.next_deadline(), api.transfer_deadline()])
            .flatten()
            .min()
    }

    /// Hands every write since the last call to durable storage; wait on all the tickets
    /// before sending what [`handle`](Self::handle) produced. Tickets resolved from the start
    /// (memory stores, lazy sync, consumer state) are left out: with none left, the replies
    /// can go at once.
    pub fn sync(&mut self) -> Vec<SyncTicket> {
        let mut tickets = Vec::new();
        for api in self.accounts.values_mut() {
            api.sync(&mut tickets);
        }
        tickets.retain(|ticket| !ticket.is_ready());
        tickets
    }
}

/// A test's account name, shared as the server shares it (leaked: tests only).
#[cfg(test)]
pub(crate) fn account_name(name: &str) -> &'static Arc<str> {
    Box::leak(Box::new(Arc::from(name)))
}

/// `$JS.<domain>.API.x` as `$JS.API.x`, when the domain is ours.
fn domain_to_api(subject: &str, domain: &str) -> Option<String> {
    let rest = subject.strip_prefix("$JS.")?.strip_prefix(domain)?;
    let rest = rest.strip_prefix(".API.")?;
    Some(format!("{API_PREFIX}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::MemoryStores;

    fn engine() -> JetStream<MemoryStores> {
        let config = EngineConfig {
            domain: Some("hub".into()),
            ..EngineConfig::default()
        };
        let mut engine = JetStream::new(config, Box::new(|_| Ok(MemoryStores)));
        engine.enable_account("$G").unwrap();
        engine
    }

    fn inbound<'a>(subject: &'a str, reply: Option<&'a str>, payload: &'a [u8]) -> Inbound<'a> {
        Inbound {
            account: account_name("$G"),
            subject,
            reply,
            headers: b"",
            payload,
        }
    }

    #[test]
    fn api_requests_and_publishes_answer_the_reply_subject() {
        let mut engine = engine();
        let mut out = Vec::new();
        let config = br#"{"name":"ORDERS","subjects":["orders.>"],"storage":"memory"}"#;
        let generation = engine.interest_generation();
        engine.handle(
            inbound("$JS.API.STREAM.CREATE.ORDERS", Some("_INBOX.1"), config),
            1,
            &mut out,
        );
        let subjects: Vec<&str> = out.iter().map(|o| &*o.deliver).collect();
        assert_eq!(
            subjects,
            [
                "_INBOX.1",
                "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS",
                "$JS.EVENT.ADVISORY.API"
            ]
        );
        assert!(String::from_utf8_lossy(&out[0].payload).contains("stream_create_response"));
        assert!(out.iter().all(|o| &*o.account == "$G"));
        assert_ne!(engine.interest_generation(), generation);
        let interest = engine.interest();
        assert_eq!(
            interest.by_account["$G"],
            vec!["$JS.API.>", "$JS.hub.API.>", "orders.>"]
        );

        out.clear();
        engine.handle(inbound("orders.1", Some("_INBOX.2"), b"x"), 2, &mut out);
        assert_eq!(
            &out[0].payload[..],
            br#"{"stream":"ORDERS", "domain":"hub", "seq":1}"#
        );
        assert!(engine.sync().iter().all(SyncTicket::is_done));
    }

    #[test]
    fn the_domain_prefix_reaches_the_api() {
        let mut engine = engine();
        let mut out = Vec::new();
        engine.handle(inbound("$JS.hub.API.INFO", Some("r"), b""), 1, &mut out);
        assert!(String::from_utf8_lossy(&out[0].payload).contains("account_info_response"));
        out.clear();
        engine.handle(inbound("$JS.other.API.INFO", Some("r"), b""), 1, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn accounts_without_jetstream_are_ignored() {
        let mut engine = engine();
        let mut out = Vec::new();
        let mut message = inbound("$JS.API.INFO", Some("r"), b"");
        message.account = account_name("OTHER");
        engine.handle(message, 1, &mut out);
        assert!(out.is_empty());
    }
}
