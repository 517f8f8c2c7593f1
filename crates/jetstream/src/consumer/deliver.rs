//! Choosing and sending a consumer's next messages (nats-server's `loopAndGatherMsgs`,
//! `getNextMsg`, `deliverMsg`), with push flow control, idle heartbeats, replay pacing and
//! the rate limit, all driven by [`Consumer::tick`].

use super::advisory::AdvisoryKind;
use super::config::AckPolicy;
use super::pull::WaitContext;
use super::{ack, status, Consumer, Context, ACK_WAIT_DELAY_NANOS, REPLAY_GAP_MIN_NANOS};
use crate::engine::Outbound;
use crate::stream::config::RetentionPolicy;
use bytes::Bytes;
use natrium_store::{MessageStore, Pending, StoredMsg};
use std::sync::Arc;

/// Where the next message comes from, which decides what delivering it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The head of the redelivery queue.
    Redelivery,
    /// The head of the last-per-subject list.
    SkipList,
    /// The next matching message at or after `stream_seq`.
    Next,
}

/// The most messages one consumer delivers in one tick.
const DELIVERIES_PER_TICK_MAX: usize = 1024;
/// A push consumer's deliveries are written out in pieces of this many, so its client reads
/// one piece while the next is made. A pull request's batch goes out in one write: its
/// client hands the batch over only once it is whole, and every extra write costs both
/// sides a wake-up (BENCHMARKS.md, session 6).
const PUSH_PIECE_DELIVERIES: usize = 32;

/// Why delivery stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Nothing more to deliver now.
    EndOfStream,
    /// `max_ack_pending` deliveries await acks.
    MaxAckPending,
    /// No interest, flow control, no pull requests, or pacing.
    Blocked,
}

/// What a tick decided about the consumer's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Carry on.
    Keep,
    /// Inactive past its threshold: delete it (with its advisory).
    Delete,
}

impl Consumer {
    /// Runs everything due at `ctx.now`: interest changes, redelivery checks, deliveries,
    /// pull request expiry and heartbeats, idle heartbeats and the inactivity timer.
    /// `interest` says whether a subject in the consumer's account has subscribers.
    pub fn tick(
        &mut self,
        store: &dyn MessageStore,
        interest: &dyn Fn(&str) -> bool,
        ctx: &mut Context<'_>,
    ) -> Verdict {
        let now = ctx.now;
        if self.rearm {
            self.arm_timers(now);
        }
        if self.config.is_push() {
            self.update_interest(interest(&self.config.deliver_subject), now);
        }
        if self.pending_check_due.is_some_and(|due| now >= due) {
            self.check_pending(store, now);
        }
        let stop = self.deliver(store, interest, ctx);
        if !self.config.is_push() {
            let context = self.wait_context(now, interest);
            // A consumer stalled on max_ack_pending does not close no-wait requests.
            let end_of_stream = stop != Stop::MaxAckPending;
            self.waiting.process(end_of_stream, &context, ctx.out);
        }
        if self.heartbeat_due.is_some_and(|due| now >= due) {
            if self.active {
                let message = self.heartbeat_to(&self.config.deliver_subject);
                ctx.out.push(message);
            }
            self.heartbeat_due = Some(now.saturating_add(self.config.idle_heartbeat));
        }
        if self.delete_due.is_some_and(|due| now >= due) {
            return self.check_inactive(now, interest, ctx.out);
        }
        Verdict::Keep
    }

    /// The earliest time a [`tick`](Self::tick) has something to do, if any.
    pub fn next_deadline(&self) -> Option<i64> {
        let mut deadlines = vec![self.heartbeat_due, self.pending_check_due, self.delete_due];
        deadlines.push(self.waiting.next_deadline());
        deadlines.push(self.replay.as_ref().and_then(|replay| replay.due));
        deadlines.push(self.rate_wait);
        deadlines.push(self.more_due);
        deadlines.into_iter().flatten().min()
    }

    fn wait_context<'a>(&self, now: i64, interest: &'a dyn Fn(&str) -> bool) -> WaitContext<'a> {
        WaitContext {
            now,
            last_consumer_seq: self.consumer_seq - 1,
            last_stream_seq: self.stream_seq.saturating_sub(1),
            interest,
        }
    }

    /// `100 Idle Heartbeat` with the last sequences and any stalled flow control subject.
    pub(super) fn heartbeat_to(&self, subject: &str) -> Outbound {
        let stalled = self.flow.as_ref().and_then(|f| f.outstanding.as_deref());
        super::pull::status_to(
            subject,
            status::idle_heartbeat(
                self.consumer_seq - 1,
                self.stream_seq.saturating_sub(1),
                stalled,
            ),
        )
    }

    /// Push interest came or went: arm or clear the inactivity timer.
    fn update_interest(&mut self, interest: bool, now: i64) {
        self.active = interest;
        if interest {
            self.delete_due = None;
        } else if self.delete_after > 0 && self.delete_due.is_none() {
            self.delete_due = Some(now.saturating_add(self.delete_after));
        }
    }

    /// The inactivity timer fired (`deleteNotActive`).
    fn check_inactive(
        &mut self,
        now: i64,
        interest: &dyn Fn(&str) -> bool,
        out: &mut Vec<Outbound>,
    ) -> Verdict {
        if self.config.is_push() {
            if self.active {
                self.delete_due = None;
                return Verdict::Keep;
            }
            return Verdict::Delete;
        }
        let elapsed = now.saturating_sub(self.waiting.last_active);
        if elapsed <= self.config.inactive_threshold {
            self.delete_due = Some(now.saturating_add(self.delete_after - elapsed));
            return Verdict::Keep;
        }
        let context = self.wait_context(now, interest);
        self.waiting.process(true, &context, out);
        if !self.waiting.is_empty() {
            self.delete_due = Some(now.saturating_add(self.delete_after));
            return Verdict::Keep;
        }
        Verdict::Delete
    }

    /// Delivers messages while there is somewhere to send them.
    fn deliver(
        &mut self,
        store: &dyn MessageStore,
        interest: &dyn Fn(&str) -> bool,
        ctx: &mut Context<'_>,
    ) -> Stop {
        self.rate_wait = None;
        self.more_due = None;
        let mut delivered_now = 0;
        loop {
            if delivered_now == DELIVERIES_PER_TICK_MAX {
                // The server sends (and the client starts reading) this much while the next
                // tick, due at once, makes more: a long backlog streams instead of arriving
                // all at the end.
                self.more_due = Some(ctx.now);
                return Stop::Blocked;
            }
            delivered_now += 1;
            if self.config.is_push() {
                let stalled = self
                    .flow
                    .as_ref()
                    .is_some_and(|f| f.pending_bytes > f.window_bytes);
                if !self.active || stalled {
                    return Stop::Blocked;
                }
            } else if self.waiting.is_empty() {
                return Stop::Blocked;
            }
            let (message, delivered, origin) = match self.next_message(store, ctx) {
                Ok(next) => next,
                Err(stop) => {
                    self.end_replay_if_caught_up();
                    return stop;
                }
            };
            let pending_after = match origin {
                Origin::Redelivery => self.num_pending,
                _ => self.num_pending.saturating_sub(1),
            };
            let reply = ack::ack_subject(
                &self.stream,
                &self.name,
                delivered,
                message.seq,
                self.consumer_seq,
                message.timestamp,
                pending_after,
            );
            // Deliveries share the store's buffers: no copy until the subscriber's.
            let (headers, payload) = if self.config.headers_only {
                let headers = status::headers_only(&message.headers, message.payload.len());
                (headers.into(), Bytes::new())
            } else {
                (message.headers.clone(), message.payload.clone())
            };
            let size = (message.subject.len() + reply.len() + headers.len() + payload.len()) as i64;
            if self.paced(&message, size, ctx.now) {
                return Stop::Blocked;
            }
            let deliver = if self.config.is_push() {
                Arc::clone(&self.deliver_subject)
            } else {
                let context = self.wait_context(ctx.now, interest);
                match self.waiting.next_for(size, &context, ctx.out) {
                    Some(reply) => reply,
                    None => return Stop::Blocked,
                }
            };
            self.commit(&message, origin);
            let wire_size = (deliver.len() + reply.len() + headers.len() + payload.len()) as i64;
            let (seq, timestamp) = (message.seq, message.timestamp);
            ctx.out.push(Outbound {
                piece_end: self.config.is_push() && delivered_now % PUSH_PIECE_DELIVERIES == 0,
                account: ctx.delivery_account(),
                deliver,
                subject: Some(message.subject),
                reply: Some(reply),
                headers,
                payload,
            });
            self.delivered(seq, timestamp, wire_size, ctx);
        }
    }

    /// The next message to deliver, without committing to it (`getNextMsg`). Redeliveries
    /// past `max_deliver` are dropped here with their advisory.
    fn next_message(
        &mut self,
        store: &dyn MessageStore,
        ctx: &mut Context<'_>,
    ) -> Result<(StoredMsg, u64, Origin), Stop> {
        while let Some(&seq) = self.redeliver_queue.front() {
            let delivered = self.redelivered.get(&seq).copied().unwrap_or(0) + 2;
            let max = self.config.max_deliver;
            if max > 0 && delivered > max as u64 {
                self.pop_redelivery();
                *self.redelivered.entry(seq).or_insert(0) += 1;
                if delivered == max as u64 + 1 {
                    ctx.advise(
                        &self.stream,
                        &self.name,
                        AdvisoryKind::MaxDeliveries {
                            stream_seq: seq,
                            deliveries: delivered - 1,
                        },
                    );
                }
                self.pending.remove(&seq);
                self.dirty = true;
                continue;
            }
            match store.load(seq) {
                Ok(message) => return Ok((message, delivered, Origin::Redelivery)),
                Err(_) => {
                    // Gone from the stream (limits, purge): nothing left to redeliver.
                    self.pop_redelivery();
                    self.pending.remove(&seq);
                    self.redelivered.remove(&seq);
                    self.dirty = true;
                }
            }
        }
        let max_pending = self.config.max_ack_pending;
        if max_pending > 0 && self.pending.len() as i64 >= max_pending {
            return Err(Stop::MaxAckPending);
        }
        while let Some(&seq) = self.skip_list.front() {
            match store.load(seq) {
                Ok(message) => return Ok((message, 1, Origin::SkipList)),
                Err(_) => {
                    self.skip_list.pop_front();
                    if self.skip_list.is_empty() {
                        self.stream_seq = self.stream_seq.max(self.skip_resume);
                    }
                }
            }
        }
        match self.load_next(store, self.stream_seq) {
            Some(message) => Ok((message, 1, Origin::Next)),
            None => {
                // Nothing matches up to the end: the next look starts past it.
                let last = store.state().last_seq;
                self.stream_seq = self.stream_seq.max(last + 1);
                Err(Stop::EndOfStream)
            }
        }
    }

    fn pop_redelivery(&mut self) {
        if let Some(seq) = self.redeliver_queue.pop_front() {
            self.redeliver_set.remove(&seq);
        }
    }

    /// Replay pacing and the rate limit: true when the message must wait.
    fn paced(&mut self, message: &StoredMsg, size: i64, now: i64) -> bool {
        if let Some(replay) = &mut self.replay {
            if replay.last_timestamp > 0 {
                let gap = message.timestamp - replay.last_timestamp;
                if gap > REPLAY_GAP_MIN_NANOS {
                    match replay.due {
                        None => {
                            replay.due = Some(now.saturating_add(gap));
                            return true;
                        }
                        Some(due) if now < due => return true,
                        Some(_) => replay.due = None,
                    }
                }
            }
        }
        let bytes_per_second = self.config.rate_limit_bps / 8;
        if bytes_per_second > 0 {
            if now < self.rate_next_at {
                self.rate_wait = Some(self.rate_next_at);
                return true;
            }
            let cost = (size as u128 * 1_000_000_000 / bytes_per_second as u128) as i64;
            self.rate_next_at = self.rate_next_at.max(now).saturating_add(cost);
        }
        false
    }

    /// Replay ends once the consumer has caught up with what was stored at its start.
    fn end_replay_if_caught_up(&mut self) {
        if let Some(replay) = &self.replay {
            if self.stream_seq > replay.until_seq && replay.due.is_none() {
                self.replay = None;
            }
        }
    }

    /// Moves past the chosen message.
    fn commit(&mut self, message: &StoredMsg, origin: Origin) {
        match origin {
            Origin::Redelivery => {
                self.pop_redelivery();
                *self.redelivered.entry(message.seq).or_insert(0) += 1;
            }
            Origin::SkipList => {
                self.skip_list.pop_front();
                if self.skip_list.is_empty() {
                    self.stream_seq = self.stream_seq.max(self.skip_resume);
                }
                self.stream_seq = self.stream_seq.max(message.seq + 1);
                self.num_pending = self.num_pending.saturating_sub(1);
            }
            Origin::Next => {
                self.stream_seq = message.seq + 1;
                self.num_pending = self.num_pending.saturating_sub(1);
            }
        }
    }

    /// Book-keeping after a delivery (`deliverMsg`): pending acks, ack floor for ack none,
    /// flow control, heartbeats, activity.
    fn delivered(&mut self, seq: u64, timestamp: i64, size: i64, ctx: &mut Context<'_>) {
        let now = ctx.now;
        let consumer_seq = self.consumer_seq;
        self.consumer_seq += 1;
        match self.config.ack_policy {
            AckPolicy::Explicit | AckPolicy::All => {
                if self.pending_check_due.is_none() {
                    let wait = self.config.ack_wait + ACK_WAIT_DELAY_NANOS;
                    self.pending_check_due = Some(now.saturating_add(wait));
                }
                self.pending
                    .entry(seq)
                    .and_modify(|pending| pending.timestamp = now)
                    .or_insert(Pending {
                        consumer_seq,
                        timestamp: now,
                    });
            }
            AckPolicy::None => {
                self.ack_floor.consumer_seq = consumer_seq;
                self.ack_floor.stream_seq = seq;
                if self.retention != RetentionPolicy::Limits {
                    ctx.released.push(seq);
                }
            }
        }
        if let Some(flow) = &mut self.flow {
            flow.pending_bytes += size;
            if flow.outstanding.is_none() && flow.pending_bytes > flow.window_bytes / 2 {
                let subject = format!(
                    "{}{}.{}.{}",
                    super::FLOW_CONTROL_PREFIX,
                    self.stream,
                    self.name,
                    ctx.ids.token(now, 4)
                );
                flow.outstanding_bytes = flow.pending_bytes;
                flow.outstanding = Some(subject.clone());
                let mut request = super::pull::status_to(
                    &self.config.deliver_subject,
                    status::flow_control_request(),
                );
                request.reply = Some(subject);
                ctx.out.push(request);
            } else if flow.outstanding.is_some()
                && flow.pending_bytes - flow.outstanding_bytes >= flow.window_bytes
            {
                flow.outstanding_bytes += size;
            }
        }
        if let Some(replay) = &mut self.replay {
            replay.last_timestamp = timestamp;
        }
        if self.config.is_push() && self.config.idle_heartbeat > 0 {
            self.heartbeat_due = Some(now.saturating_add(self.config.idle_heartbeat));
        }
        self.last_delivered_at = now;
        self.dirty = true;
    }

    /// A client answered flow control on `subject` (`processFlowControl`).
    pub fn flow_control_reply(&mut self, subject: &str) {
        let Some(flow) = &mut self.flow else {
            return;
        };
        if flow.outstanding.as_deref() != Some(subject) {
            return;
        }
        if flow.window_bytes < flow.limit_bytes {
            flow.window_bytes = (flow.window_bytes * 2).min(flow.limit_bytes);
        }
        flow.pending_bytes = (flow.pending_bytes - flow.outstanding_bytes).max(0);
        flow.outstanding = None;
        flow.outstanding_bytes = 0;
    }
}
