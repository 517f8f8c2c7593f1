//! Acks and pull requests arriving at a consumer (nats-server's `processAck`,
//! `processAckMsg`, `processNak`, `processTerm`, `progressUpdate`,
//! `processNextMsgRequest`), and the redelivery timer (`checkPending`).

use super::ack::{parse_ack_body, AckKind, AckSubject};
use super::advisory::AdvisoryKind;
use super::config::AckPolicy;
use super::pull::{parse_pull_request, status_to, Waiting};
use super::{status, Consumer, Context, ACK_WAIT_DELAY_NANOS};
use natrium_store::MessageStore;

impl Consumer {
    /// Handles a message on the consumer's ack subject. A reply gets an empty confirmation
    /// (the double ack), except for `+NXT`, whose reply is a pull request instead, and for
    /// acks whose subject carried no stream sequence.
    pub fn ack(
        &mut self,
        subject: &AckSubject<'_>,
        body: &[u8],
        reply: Option<&str>,
        store: &dyn MessageStore,
        ctx: &mut Context<'_>,
    ) {
        let (stream_seq, consumer_seq, delivered) =
            (subject.stream_seq, subject.consumer_seq, subject.delivered);
        let mut confirm = stream_seq != 0;
        match parse_ack_body(body) {
            AckKind::Ack => self.ack_message(stream_seq, consumer_seq, ctx),
            AckKind::Next(request) => {
                self.ack_message(stream_seq, consumer_seq, ctx);
                if let Some(reply) = reply {
                    self.next_request(reply, request, store, ctx);
                }
                confirm = false;
            }
            AckKind::Nak(delay) => self.nak(stream_seq, consumer_seq, delivered, delay, ctx),
            AckKind::Progress => {
                if let Some(pending) = self.pending.get_mut(&stream_seq) {
                    pending.timestamp = ctx.now;
                    self.dirty = true;
                }
            }
            AckKind::Term(reason) => {
                self.ack_message(stream_seq, consumer_seq, ctx);
                ctx.advise(
                    &self.stream,
                    &self.name,
                    AdvisoryKind::Terminated {
                        consumer_seq,
                        stream_seq,
                        deliveries: delivered,
                        reason,
                    },
                );
            }
            AckKind::Unknown => {}
        }
        if let (true, Some(reply)) = (confirm, reply) {
            ctx.out.push(status_to(reply, Vec::new()));
        }
    }

    /// Acknowledges a delivery (`processAckMsg`), moving the ack floor.
    fn ack_message(&mut self, stream_seq: u64, consumer_seq: u64, ctx: &mut Context<'_>) {
        match self.config.ack_policy {
            AckPolicy::Explicit => {
                let mut consumer_seq = consumer_seq;
                if let Some(pending) = self.pending.remove(&stream_seq) {
                    // The first delivery's sequence, which a redelivery's subject does not carry.
                    consumer_seq = pending.consumer_seq;
                }
                if self.pending.is_empty() {
                    self.ack_floor.consumer_seq = self.consumer_seq - 1;
                    self.ack_floor.stream_seq = self.stream_seq.saturating_sub(1);
                } else if consumer_seq == self.ack_floor.consumer_seq + 1 {
                    self.ack_floor.consumer_seq = consumer_seq;
                    self.ack_floor.stream_seq = stream_seq;
                    // Up to just below the oldest delivery still pending.
                    if let Some((&seq, pending)) = self.pending.range(stream_seq + 1..).next() {
                        if seq < self.stream_seq && pending.consumer_seq > 0 {
                            self.ack_floor.consumer_seq = pending.consumer_seq - 1;
                            self.ack_floor.stream_seq = seq - 1;
                        }
                    }
                }
                self.redelivered.remove(&stream_seq);
                self.remove_redelivery(stream_seq);
                ctx.released.push(stream_seq);
            }
            AckPolicy::All => {
                if consumer_seq <= self.ack_floor.consumer_seq
                    || stream_seq <= self.ack_floor.stream_seq
                {
                    return;
                }
                let old_floor = self.ack_floor.stream_seq;
                self.ack_floor.consumer_seq = consumer_seq;
                self.ack_floor.stream_seq = stream_seq;
                let above = self.pending.split_off(&(stream_seq + 1));
                self.pending = above;
                let redelivered_above = self.redelivered.split_off(&(stream_seq + 1));
                self.redelivered = redelivered_above;
                let acked: Vec<u64> = self.redeliver_set.range(..=stream_seq).copied().collect();
                for seq in acked {
                    self.remove_redelivery(seq);
                }
                ctx.released.extend(old_floor + 1..=stream_seq);
            }
            AckPolicy::None => return,
        }
        self.last_acked_at = ctx.now;
        self.dirty = true;
    }

    /// `-NAK`: redeliver now, or after `delay` (`processNak`).
    fn nak(
        &mut self,
        stream_seq: u64,
        consumer_seq: u64,
        delivered: u64,
        delay: Option<i64>,
        ctx: &mut Context<'_>,
    ) {
        if consumer_seq <= self.ack_floor.consumer_seq || consumer_seq > self.consumer_seq {
            return;
        }
        if !self.pending.is_empty() && !self.pending.contains_key(&stream_seq) {
            return;
        }
        ctx.advise(
            &self.stream,
            &self.name,
            AdvisoryKind::Nak {
                consumer_seq,
                stream_seq,
                deliveries: delivered,
            },
        );
        if let Some(delay) = delay {
            self.remove_redelivery(stream_seq);
            if let Some(pending) = self.pending.get_mut(&stream_seq) {
                // Due again `delay` from now: its ack wait counts from that far back.
                pending.timestamp = ctx.now - self.config.ack_wait + delay;
                self.dirty = true;
                let check = ctx.now.saturating_add(10 * 1_000_000);
                self.pending_check_due =
                    Some(self.pending_check_due.map_or(check, |d| d.min(check)));
            }
            return;
        }
        self.add_redelivery(stream_seq);
    }

    /// A pull request (`MSG.NEXT` or `+NXT`) for `reply` (`processNextMsgRequest`); refused
    /// requests are answered at once with a status.
    pub fn next_request(
        &mut self,
        reply: &str,
        body: &[u8],
        store: &dyn MessageStore,
        ctx: &mut Context<'_>,
    ) {
        let mut refuse = |code: u16, text: &str| {
            ctx.out.push(status_to(reply, status::plain(code, text)));
        };
        if self.config.is_push() {
            return refuse(409, "Consumer is push based");
        }
        let mut request = match parse_pull_request(body) {
            Ok(request) => request,
            Err(error) => return refuse(400, &format!("Bad Request - {error}")),
        };
        if self.config.max_batch > 0 && request.batch > self.config.max_batch {
            let text = format!("Exceeded MaxRequestBatch of {}", self.config.max_batch);
            return refuse(409, &text);
        }
        if request.expires > 0
            && self.config.max_expires > 0
            && request.expires > self.config.max_expires
        {
            let limit = natrium_gofmt::go_duration(self.config.max_expires as u64);
            return refuse(409, &format!("Exceeded MaxRequestExpires of {limit}"));
        }
        if request.max_bytes > 0
            && self.config.max_bytes > 0
            && request.max_bytes > self.config.max_bytes
        {
            let text = format!("Exceeded MaxRequestMaxBytes of {}", self.config.max_bytes);
            return refuse(409, &text);
        }
        // A batch of zero or less would never complete; nats-server clients never send one.
        request.batch = request.batch.max(1);
        let now = ctx.now;
        if self.waiting.is_full() {
            let context = self.pull_context(now);
            self.waiting.process(false, &context, ctx.out);
        }
        if request.no_wait {
            self.recount_pending(store);
            let messages = self.num_pending + self.redeliver_queue.len() as u64;
            if messages == 0 && request.expires == 0 {
                self.waiting.last_active = now;
                ctx.out
                    .push(status_to(reply, status::plain(404, "No Messages")));
                return;
            }
            if messages > 0 {
                let context = self.pull_context(now);
                self.waiting.process(false, &context, ctx.out);
                if (messages as i64) < self.waiting.batch_pending() {
                    self.waiting.last_active = now;
                    ctx.out
                        .push(status_to(reply, status::plain(408, "Requests Pending")));
                    return;
                }
            }
        }
        if self
            .waiting
            .add(Waiting::new(reply, &request, now), now)
            .is_err()
        {
            ctx.out
                .push(status_to(reply, status::plain(409, "Exceeded MaxWaiting")));
        }
    }

    /// The waiting-queue context when no interest function is at hand: requests are kept
    /// (interest is checked again on the next tick).
    fn pull_context(&self, now: i64) -> super::pull::WaitContext<'static> {
        fn everyone(_: &str) -> bool {
            true
        }
        super::pull::WaitContext {
            now,
            last_consumer_seq: self.consumer_seq - 1,
            last_stream_seq: self.stream_seq.saturating_sub(1),
            interest: &everyone,
        }
    }

    /// The redelivery timer fired (`checkPending`): queue every delivery whose ack wait (or
    /// backoff step) has passed, drop ones the stream no longer holds, and set the next
    /// check.
    pub(super) fn check_pending(&mut self, store: &dyn MessageStore, now: i64) {
        let first_seq = store.state().first_seq;
        let ack_wait = self.config.ack_wait;
        let backoff = self.config.backoff.clone();
        let mut next = backoff
            .last()
            .copied()
            .unwrap_or(ack_wait + ACK_WAIT_DELAY_NANOS);
        let gone: Vec<u64> = self
            .pending
            .range(..first_seq)
            .map(|(&seq, _)| seq)
            .collect();
        for seq in gone {
            self.pending.remove(&seq);
            self.redelivered.remove(&seq);
            self.remove_redelivery(seq);
            self.dirty = true;
        }
        let mut expired = Vec::new();
        for (&seq, pending) in &self.pending {
            let elapsed = now - pending.timestamp;
            let mut deadline = ack_wait;
            if !backoff.is_empty() {
                let count = self.redelivered.get(&seq).copied().unwrap_or(0) as usize;
                let index = count.min(backoff.len() - 1);
                let next_index = (count + 1).min(backoff.len() - 1);
                deadline = backoff[index];
                next = next.min(backoff[next_index]);
            }
            if elapsed >= deadline {
                if !self.redeliver_set.contains(&seq) {
                    expired.push(seq);
                }
            } else if deadline - elapsed < next {
                next = deadline - elapsed;
            }
        }
        if let Some(&first) = expired.first() {
            // Later redeliveries keep their order: shift every timestamp by the same amount.
            let shift = now - self.pending[&first].timestamp;
            for &seq in &expired {
                self.add_redelivery(seq);
                if let Some(pending) = self.pending.get_mut(&seq) {
                    pending.timestamp += shift;
                }
            }
        }
        self.pending_check_due = if self.pending.is_empty() {
            None
        } else {
            Some(now.saturating_add(next.max(0) + ACK_WAIT_DELAY_NANOS))
        };
    }

    fn add_redelivery(&mut self, seq: u64) {
        if self.redeliver_set.insert(seq) {
            self.redeliver_queue.push_back(seq);
        }
    }

    fn remove_redelivery(&mut self, seq: u64) {
        if self.redeliver_set.remove(&seq) {
            self.redeliver_queue.retain(|&queued| queued != seq);
        }
    }
}
