//! Consumers: a stream's readers, as nats-server's `consumer.go` runs them, without I/O.
//!
//! A [`Consumer`] is a state machine over its stream's store. Time comes in as `now`
//! (nanoseconds since the epoch), interest in subjects as a function, and everything it
//! wants sent (deliveries, pull statuses, heartbeats, flow control, advisories, ack
//! confirmations) goes out as [`Outbound`] values. Its sequences follow nats-server's:
//! `stream_seq` is the next stream sequence to look at, `consumer_seq` the next delivery
//! number, `ack_floor` the pair below which everything is acknowledged, and `pending` the
//! deliveries awaiting acks (explicit and all policies).
//!
//! - `config`, `check`: the configuration and nats-server's defaults and validation.
//! - `deliver`: choosing and sending the next message; push flow control and heartbeats.
//! - `acks`: acks, naks, progress, terms, pull requests, redelivery and inactivity timers.
//! - `ack`, `pull`, `status`, `advisory`: wire formats (ack subjects and bodies, pull
//!   requests and the waiting queue, status headers, advisories).
//! - `set`: all consumers of one stream, and what acks mean for retention.
//! - `storage`: where state survives restarts.

pub mod ack;
mod acks;
pub mod advisory;
pub mod check;
pub mod config;
mod deliver;
pub mod pull;
pub mod set;
pub mod status;
pub mod storage;

use crate::engine::Outbound;
use crate::stream::config::RetentionPolicy;
use advisory::{AdvisoryContext, AdvisoryKind, IdGenerator};
use config::{ConsumerConfig, DeliverPolicy, ReplayPolicy};
use natrium_store::{ConsumerState, MessageStore, Pending, SequencePair};
use pull::WaitQueue;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use storage::ConsumerStorage;

/// The flow control window's upper bound: 32 MiB outstanding.
const FLOW_CONTROL_BYTES_MAX: i64 = 32 * 1024 * 1024;
/// Fired redelivery checks run this much after the earliest deadline, so bursts share one.
const ACK_WAIT_DELAY_NANOS: i64 = 1_000_000;
/// Added to inactive thresholds (nats-server adds 100 ms plus up to 900 ms of jitter).
const INACTIVE_GRACE_NANOS: i64 = 100_000_000;
/// A replayed gap shorter than this is not waited for.
const REPLAY_GAP_MIN_NANOS: i64 = 1_000_000;

/// What a consumer call needs besides the consumer: the time, where messages go, and what
/// advisories carry.
pub struct Context<'a> {
    /// Time now, nanoseconds since the epoch.
    pub now: i64,
    /// The JetStream domain, if any.
    pub domain: Option<&'a str>,
    /// Advisory ids and other generated tokens.
    pub ids: &'a mut IdGenerator,
    /// Messages to send, in order.
    pub out: &'a mut Vec<Outbound>,
    /// The account deliveries are published in, when known here; otherwise the engine sets
    /// it when it drains them.
    pub account: Option<&'a Arc<str>>,
    /// Stream sequences the consumer no longer needs (acked, terminated, or delivered with
    /// no ack policy), for interest and work-queue retention to act on.
    pub released: Vec<u64>,
}

impl<'a> Context<'a> {
    /// A context at `now` sending into `out`, with nothing released yet.
    pub fn new(
        now: i64,
        domain: Option<&'a str>,
        ids: &'a mut IdGenerator,
        out: &'a mut Vec<Outbound>,
    ) -> Self {
        Context {
            now,
            domain,
            ids,
            out,
            account: None,
            released: Vec::new(),
        }
    }

    /// The same context, publishing deliveries in `account` from the start: the engine then
    /// leaves them as they are instead of swapping a placeholder for it on each.
    pub fn in_account(mut self, account: &'a Arc<str>) -> Self {
        self.account = Some(account);
        self
    }

    /// The account deliveries are published in, or the placeholder the engine replaces.
    pub(crate) fn delivery_account(&self) -> Arc<str> {
        self.account
            .map_or_else(Outbound::unassigned_account, Arc::clone)
    }

    /// Sends an advisory about `consumer` on `stream`.
    pub fn advise(&mut self, stream: &str, consumer: &str, kind: AdvisoryKind) {
        let mut advisory_context = AdvisoryContext {
            domain: self.domain,
            now: self.now,
            ids: self.ids,
        };
        let message = advisory::advisory(stream, consumer, &kind, &mut advisory_context);
        self.out.push(message);
    }
}

/// Push flow control: bytes sent since the last answered request, and the window.
#[derive(Debug, Clone, Default)]
struct FlowControl {
    /// The window may grow to this.
    limit_bytes: i64,
    /// Delivery stalls past this many unanswered bytes.
    window_bytes: i64,
    /// Bytes delivered and not yet covered by an answered request.
    pending_bytes: i64,
    /// The subject of the unanswered request, if one is out.
    outstanding: Option<String>,
    /// The bytes the unanswered request covers.
    outstanding_bytes: i64,
}

/// Stored-time pacing for `replay_policy: original`.
#[derive(Debug, Clone, Default)]
struct Replay {
    /// Timestamp of the last message delivered.
    last_timestamp: i64,
    /// When the held message may go.
    due: Option<i64>,
    /// Replay ends (instant from then on) once past this stream sequence.
    until_seq: u64,
}

/// A consumer of one stream.
pub struct Consumer {
    name: String,
    stream: String,
    config: ConsumerConfig,
    /// `config.deliver_subject`, shared by every push delivery.
    deliver_subject: Arc<str>,
    created: i64,
    filters: Vec<String>,
    retention: RetentionPolicy,
    /// The next stream sequence to look at.
    stream_seq: u64,
    /// The next consumer (delivery) sequence.
    consumer_seq: u64,
    ack_floor: SequencePair,
    pending: BTreeMap<u64, Pending>,
    redelivered: BTreeMap<u64, u64>,
    redeliver_queue: VecDeque<u64>,
    redeliver_set: BTreeSet<u64>,
    /// `last_per_subject`: the sequences still to deliver first, ascending.
    skip_list: VecDeque<u64>,
    skip_resume: u64,
    waiting: WaitQueue,
    last_delivered_at: i64,
    last_acked_at: i64,
    /// Push: the deliver subject has subscribers.
    active: bool,
    flow: Option<FlowControl>,
    heartbeat_due: Option<i64>,
    pending_check_due: Option<i64>,
    delete_due: Option<i64>,
    /// How long inactivity lasts before deletion; 0 for never.
    delete_after: i64,
    replay: Option<Replay>,
    /// `rate_limit_bps`: the earliest time the next message may go.
    rate_next_at: i64,
    /// A message waits for the rate limit until this time.
    rate_wait: Option<i64>,
    /// A tick stopped at its delivery limit: the next one is due at this time.
    more_due: Option<i64>,
    /// Matching messages at or after `stream_seq`, kept up to date between recounts.
    num_pending: u64,
    /// Changed since the state was last saved.
    dirty: bool,
    /// Timers wait for the next tick's `now` to be set.
    rearm: bool,
    storage: Box<dyn ConsumerStorage>,
}

/// `delivered` and `ack_floor` of ConsumerInfo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceInfo {
    /// Consumer sequence.
    pub consumer_seq: u64,
    /// Stream sequence.
    pub stream_seq: u64,
    /// When it last moved (RFC 3339), if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
}

/// `ConsumerInfo` as nats-server 2.9 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerInfo {
    /// The stream.
    pub stream_name: String,
    /// The consumer.
    pub name: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// Its configuration with defaults.
    pub config: ConsumerConfig,
    /// The last delivery.
    pub delivered: SequenceInfo,
    /// Everything at or below is acknowledged.
    pub ack_floor: SequenceInfo,
    /// Deliveries awaiting acks.
    pub num_ack_pending: usize,
    /// Messages delivered more than once and not yet acked.
    pub num_redelivered: usize,
    /// Pull requests waiting.
    pub num_waiting: usize,
    /// Matching messages not yet delivered.
    pub num_pending: u64,
    /// Push: the deliver subject has subscribers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub push_bound: bool,
}

/// How a consumer begins: fresh at a starting position, or from saved state.
pub struct Start {
    /// Its name.
    pub name: String,
    /// Its checked configuration with defaults.
    pub config: ConsumerConfig,
    /// When it was created.
    pub created: i64,
    /// Saved state to resume from, if any.
    pub state: Option<ConsumerState>,
    /// Where it saves its state.
    pub storage: Box<dyn ConsumerStorage>,
}

impl Consumer {
    /// A consumer of `stream` (named `stream_name`, with `retention`), positioned by its
    /// deliver policy or its saved state. Its timers start at `now`, or at its first tick
    /// when `now` is not known (recovery).
    pub fn new(
        start: Start,
        stream_name: &str,
        retention: RetentionPolicy,
        store: &dyn MessageStore,
        now: Option<i64>,
    ) -> Consumer {
        let Start {
            name,
            mut config,
            created,
            state,
            storage,
        } = start;
        let delete_after = inactive_delay(&mut config);
        let filters = config.filters();
        let flow = config.flow_control.then(|| FlowControl {
            limit_bytes: FLOW_CONTROL_BYTES_MAX,
            window_bytes: (FLOW_CONTROL_BYTES_MAX / 16).max(1),
            ..FlowControl::default()
        });
        let max_waiting = usize::try_from(config.max_waiting).unwrap_or(0);
        let mut consumer = Consumer {
            name,
            stream: stream_name.to_string(),
            filters,
            retention,
            stream_seq: 1,
            consumer_seq: 1,
            ack_floor: SequencePair::default(),
            pending: BTreeMap::new(),
            redelivered: BTreeMap::new(),
            redeliver_queue: VecDeque::new(),
            redeliver_set: BTreeSet::new(),
            skip_list: VecDeque::new(),
            skip_resume: 0,
            waiting: WaitQueue::new(max_waiting),
            last_delivered_at: 0,
            last_acked_at: 0,
            active: false,
            flow,
            heartbeat_due: None,
            pending_check_due: None,
            delete_due: None,
            delete_after,
            replay: None,
            rate_next_at: 0,
            rate_wait: None,
            more_due: None,
            num_pending: 0,
            dirty: false,
            rearm: false,
            storage,
            created,
            deliver_subject: Arc::from(config.deliver_subject.as_str()),
            config,
        };
        match state {
            Some(state) => consumer.apply_state(state, store),
            None => consumer.select_start(store),
        }
        if consumer.config.replay_policy == ReplayPolicy::Original {
            consumer.replay = Some(Replay {
                until_seq: store.state().last_seq,
                ..Replay::default()
            });
        }
        match now {
            Some(now) => consumer.arm_timers(now),
            None => consumer.rearm = true,
        }
        consumer.recount_pending(store);
        consumer
    }

    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its configuration with defaults.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// When it was created.
    pub fn created(&self) -> i64 {
        self.created
    }

    /// The subjects its acks and flow control replies arrive on.
    pub fn subjects(&self) -> Vec<String> {
        let mut subjects = vec![format!(
            "{}{}.{}.*.*.*.*.*",
            ack::ACK_PREFIX,
            self.stream,
            self.name
        )];
        if self.flow.is_some() {
            subjects.push(format!(
                "{FLOW_CONTROL_PREFIX}{}.{}.*",
                self.stream, self.name
            ));
        }
        subjects
    }

    /// Sets `stream_seq` from the deliver policy (`selectStartingSeqNo`).
    fn select_start(&mut self, store: &dyn MessageStore) {
        let state = store.state();
        let mut seq = match self.config.deliver_policy {
            DeliverPolicy::All => state.first_seq,
            DeliverPolicy::Last => match self.filters.is_empty() {
                true => state.last_seq,
                false => self.last_matching(store).unwrap_or(0),
            },
            DeliverPolicy::LastPerSubject => {
                let mut lasts: Vec<u64> = self
                    .filter_list()
                    .iter()
                    .flat_map(|filter| store.subject_counts(filter).into_keys())
                    .filter_map(|subject| store.load_last(&subject).ok().map(|m| m.seq))
                    .collect();
                lasts.sort_unstable();
                match lasts.first() {
                    Some(&first) => {
                        self.skip_list = lasts.into();
                        self.skip_resume = state.last_seq + 1;
                        first
                    }
                    None => state.last_seq,
                }
            }
            DeliverPolicy::ByStartSequence => self.config.opt_start_seq,
            DeliverPolicy::ByStartTime => {
                let time = self
                    .config
                    .opt_start_time
                    .as_deref()
                    .and_then(crate::time::parse_rfc3339)
                    .unwrap_or(0);
                seq_from_time(store, time)
            }
            DeliverPolicy::New => state.last_seq + 1,
        };
        if state.first_seq == 0 {
            seq = 1;
        } else if seq < state.first_seq {
            seq = state.first_seq;
        } else if seq > state.last_seq {
            seq = state.last_seq + 1;
        }
        self.stream_seq = seq;
        self.consumer_seq = 1;
        self.ack_floor = SequencePair {
            consumer_seq: 0,
            stream_seq: seq.saturating_sub(1),
        };
    }

    /// Resumes from saved state (`applyState`), dropping redelivery counts that no longer
    /// make sense and checking pending deliveries soon.
    fn apply_state(&mut self, state: ConsumerState, store: &dyn MessageStore) {
        self.stream_seq = self.stream_seq.max(state.delivered.stream_seq + 1);
        self.consumer_seq = state.delivered.consumer_seq + 1;
        self.ack_floor = state.ack_floor;
        self.pending = state.pending;
        let last_seq = store.state().last_seq;
        self.redelivered = state.redelivered;
        let floor = self.ack_floor.stream_seq;
        self.redelivered
            .retain(|&seq, _| seq >= floor && (last_seq == 0 || seq <= last_seq));
    }

    /// The durable part of the consumer, as saved.
    pub fn state(&self) -> ConsumerState {
        ConsumerState {
            delivered: SequencePair {
                consumer_seq: self.consumer_seq - 1,
                stream_seq: self.stream_seq.saturating_sub(1),
            },
            ack_floor: self.ack_floor,
            pending: self.pending.clone(),
            redelivered: self.redelivered.clone(),
        }
    }

    /// Saves the state if it changed, adding the ticket to wait on.
    pub fn save_if_dirty(&mut self, tickets: &mut Vec<natrium_store::SyncTicket>) {
        if !std::mem::take(&mut self.dirty) || !self.storage.persists() {
            return;
        }
        let state = self.state();
        let ticket = self
            .storage
            .save_state(&state)
            .and_then(|()| self.storage.sync())
            .unwrap_or_else(natrium_store::SyncTicket::failed);
        tickets.push(ticket);
    }

    /// Removes what the consumer kept.
    pub fn delete_storage(&mut self) -> Result<(), natrium_store::StoreError> {
        self.storage.delete()
    }

    /// Info as `CONSUMER.INFO` reports it; recounts `num_pending` exactly.
    pub fn info(&mut self, store: &dyn MessageStore) -> ConsumerInfo {
        self.recount_pending(store);
        let time = |nanos: i64| (nanos != 0).then(|| natrium_gofmt::rfc3339_or_zero(nanos));
        ConsumerInfo {
            stream_name: self.stream.clone(),
            name: self.name.clone(),
            created: natrium_gofmt::rfc3339_or_zero(self.created),
            config: self.config.clone(),
            delivered: SequenceInfo {
                consumer_seq: self.consumer_seq - 1,
                stream_seq: self.stream_seq.saturating_sub(1),
                last_active: time(self.last_delivered_at),
            },
            ack_floor: SequenceInfo {
                consumer_seq: self.ack_floor.consumer_seq,
                stream_seq: self.ack_floor.stream_seq,
                last_active: time(self.last_acked_at),
            },
            num_ack_pending: self.pending.len(),
            num_redelivered: self.redelivered.len(),
            num_waiting: self.waiting.len(),
            num_pending: self.num_pending,
            push_bound: self.config.is_push() && self.active,
        }
    }

    /// True when `subject` passes the filters.
    pub fn matches(&self, subject: &str) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|f| natrium_subject::matches(f.as_bytes(), subject.as_bytes()))
    }

    /// The filters to load with: `>` when unfiltered.
    fn filter_list(&self) -> Vec<String> {
        if self.filters.is_empty() {
            vec![">".to_string()]
        } else {
            self.filters.clone()
        }
    }

    fn last_matching(&self, store: &dyn MessageStore) -> Option<u64> {
        self.filters
            .iter()
            .filter_map(|filter| store.load_last(filter).ok().map(|m| m.seq))
            .max()
    }

    /// The first matching message at or after `seq`.
    fn load_next(&self, store: &dyn MessageStore, seq: u64) -> Option<natrium_store::StoredMsg> {
        if self.filters.len() <= 1 {
            let filter = self.filters.first().map_or(">", String::as_str);
            return store.load_next(filter, seq).ok();
        }
        self.filters
            .iter()
            .filter_map(|filter| store.load_next(filter, seq).ok())
            .min_by_key(|message| message.seq)
    }

    /// Counts matching messages at or after `stream_seq` exactly (nats-server's
    /// `streamNumPending`).
    pub fn recount_pending(&mut self, store: &dyn MessageStore) {
        self.num_pending = count_pending(self, store);
    }

    /// A message was stored: count it if it is ahead of the consumer and matches.
    pub fn on_stored(&mut self, seq: u64, subject: &str) {
        if seq >= self.stream_seq && self.matches(subject) {
            self.num_pending += 1;
        }
    }

    /// Whether the consumer still needs an ack for `seq` (`needAck`), for retention.
    pub fn needs_ack(&self, seq: u64, subject: &str) -> bool {
        if !self.matches(subject) || seq <= self.ack_floor.stream_seq {
            return false;
        }
        match self.config.ack_policy {
            config::AckPolicy::None | config::AckPolicy::All => true,
            config::AckPolicy::Explicit => {
                seq >= self.stream_seq || self.pending.contains_key(&seq)
            }
        }
    }

    /// Closes waiting pull requests with `409 Consumer Deleted`.
    pub fn release_requests(&mut self, out: &mut Vec<Outbound>) {
        self.waiting.release_all(out);
    }

    /// The ack floor's stream sequence.
    pub fn ack_floor_stream_seq(&self) -> u64 {
        self.ack_floor.stream_seq
    }

    /// The stream this consumer reads.
    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    /// The stream was purged up to `first_seq` (the new first sequence): nothing below is
    /// pending or due any more (`purge`).
    pub fn purged(&mut self, first_seq: u64, store: &dyn MessageStore) {
        self.stream_seq = self.stream_seq.max(first_seq);
        if self.ack_floor.stream_seq < first_seq {
            self.ack_floor.stream_seq = first_seq.saturating_sub(1);
            self.ack_floor.consumer_seq = self.consumer_seq - 1;
        }
        self.pending.clear();
        let keep = self.stream_seq;
        self.redeliver_queue.retain(|&seq| seq >= keep);
        self.redeliver_set.retain(|&seq| seq >= keep);
        self.skip_list.retain(|&seq| seq >= first_seq);
        self.pending_check_due = None;
        self.recount_pending(store);
        self.dirty = true;
    }

    /// Push: the deliver subject had subscribers at the last tick.
    pub fn is_push_bound(&self) -> bool {
        self.config.is_push() && self.active
    }

    /// Takes an updated configuration that [`check::check_update`] allowed (`updateConfig`).
    /// A new deliver subject makes every pending delivery due again.
    pub fn update_config(
        &mut self,
        mut config: ConsumerConfig,
        store: &dyn MessageStore,
    ) -> Result<(), natrium_store::StoreError> {
        self.storage.save_config(&config, self.created)?;
        self.delete_after = inactive_delay(&mut config);
        if config.deliver_subject != self.config.deliver_subject {
            let pending: Vec<u64> = self.pending.keys().copied().collect();
            for seq in pending {
                if self.redeliver_set.insert(seq) {
                    self.redeliver_queue.push_back(seq);
                }
            }
            self.active = false;
        }
        let refilter = config.filters() != self.filters;
        self.filters = config.filters();
        self.deliver_subject = Arc::from(config.deliver_subject.as_str());
        self.config = config;
        if refilter {
            self.recount_pending(store);
        }
        self.rearm = true;
        Ok(())
    }

    /// Sets the timers that count from now: on creation, after recovery (whose `now` is only
    /// known at the first tick) and after an update.
    fn arm_timers(&mut self, now: i64) {
        self.rearm = false;
        if self.delete_after > 0 && !self.config.is_push() {
            // Pull consumers check for inactivity all the time.
            self.delete_due = Some(now.saturating_add(self.delete_after));
        }
        if self.config.is_push() && self.config.idle_heartbeat > 0 {
            self.heartbeat_due = Some(now.saturating_add(self.config.idle_heartbeat));
        }
        if !self.pending.is_empty() && self.pending_check_due.is_none_or(|due| due > now) {
            let delay = (500 * 1_000_000).min(self.config.ack_wait + ACK_WAIT_DELAY_NANOS);
            self.pending_check_due = Some(now.saturating_add(delay));
        }
    }
}

/// The prefix of flow control reply subjects.
pub const FLOW_CONTROL_PREFIX: &str = "$JS.FC.";

/// Stamps the ephemeral default threshold and returns the delay before an inactive consumer
/// is deleted (`updateInactiveThreshold`; the jitter is fixed at its minimum).
fn inactive_delay(config: &mut ConsumerConfig) -> i64 {
    if !config.is_durable() && config.inactive_threshold <= 0 {
        config.inactive_threshold = check::INACTIVE_THRESHOLD_DEFAULT_NANOS;
        return config.inactive_threshold + INACTIVE_GRACE_NANOS;
    }
    if config.inactive_threshold > 0 {
        if config.is_push() {
            return config.inactive_threshold;
        }
        return config.inactive_threshold + INACTIVE_GRACE_NANOS;
    }
    0
}

/// The first sequence whose message was stored at or after `time` (binary search over the
/// store's sequences; timestamps grow with sequences).
pub(crate) fn seq_from_time(store: &dyn MessageStore, time: i64) -> u64 {
    let state = store.state();
    let (mut low, mut high) = (state.first_seq, state.last_seq + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        match store.load_next(">", middle) {
            Ok(message) if message.timestamp >= time => high = middle,
            Ok(message) => low = message.seq + 1,
            Err(_) => high = middle,
        }
    }
    low
}

/// Matching messages at or after the consumer's `stream_seq`.
fn count_pending(consumer: &Consumer, store: &dyn MessageStore) -> u64 {
    let state = store.state();
    let from = consumer.stream_seq.max(state.first_seq);
    if state.msgs == 0 || from > state.last_seq {
        return 0;
    }
    if consumer.config.deliver_policy == DeliverPolicy::LastPerSubject
        && !consumer.skip_list.is_empty()
    {
        // Still delivering the last message per subject: one per subject at or ahead.
        return consumer
            .skip_list
            .iter()
            .filter(|&&seq| seq >= consumer.stream_seq)
            .count() as u64
            + count_range(consumer, store, consumer.skip_resume, state.last_seq);
    }
    count_range(consumer, store, from, state.last_seq)
}

/// Matching live messages in `from..=last`.
fn count_range(consumer: &Consumer, store: &dyn MessageStore, from: u64, last: u64) -> u64 {
    if from > last {
        return 0;
    }
    // A filter that matches every stored message (most often the stream's own subject) counts
    // like no filter: by sequence arithmetic instead of a walk over every message. The subject
    // index answers the check without touching messages.
    let matches_everything = || {
        let matching: u64 = consumer
            .filters
            .iter()
            .flat_map(|filter| store.subject_counts(filter).into_values())
            .sum();
        matching == store.state().msgs
    };
    if consumer.filters.is_empty() || matches_everything() {
        if store.state().num_deleted == 0 {
            // The common case, and `deleted()` walks the whole sequence range.
            return last - from + 1;
        }
        let deleted = store
            .deleted()
            .iter()
            .filter(|&&seq| seq >= from && seq <= last)
            .count() as u64;
        return (last - from + 1).saturating_sub(deleted);
    }
    let mut count = 0;
    for filter in &consumer.filters {
        let mut seq = from;
        while let Ok(message) = store.load_next(filter, seq) {
            if message.seq > last {
                break;
            }
            count += 1;
            seq = message.seq + 1;
        }
    }
    count
}

#[cfg(test)]
mod tests;
