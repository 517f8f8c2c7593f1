//! What reaches consumers outside the request/response API: pull requests
//! (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`), acks (`$JS.ACK.…`) and flow control
//! replies (`$JS.FC.…`); the timer tick; new messages; saving state; recovery.
//!
//! Everything consumers send collects in the account's outbox, which the engine drains
//! after each call, in order.

use super::{JetStreamApi, StoreProvider, StreamEntry, API_PREFIX};
use crate::consumer::ack::{parse_ack_subject, ACK_PREFIX};
use crate::consumer::{Consumer, Context, Start, FLOW_CONTROL_PREFIX};
use crate::engine::Outbound;
use crate::stream::config::RetentionPolicy;
use crate::stream::Stream;
use natrium_store::{StoreError, SyncTicket};
use std::sync::Arc;

/// The pull request prefix, under the API.
const NEXT_PREFIX: &str = "CONSUMER.MSG.NEXT.";

impl<P: StoreProvider> JetStreamApi<P> {
    /// Handles a pull request, ack or flow control reply; false when `subject` is none of
    /// these. Messages for unknown consumers are dropped, as nats-server has no
    /// subscription for them.
    pub fn consumer_message(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        payload: &[u8],
        now: i64,
    ) -> bool {
        if let Some(rest) = subject
            .strip_prefix(API_PREFIX)
            .and_then(|rest| rest.strip_prefix(NEXT_PREFIX))
        {
            let Some((stream, consumer)) = rest.split_once('.') else {
                return true;
            };
            let Some(reply) = reply else {
                return true;
            };
            self.with_consumer(stream, consumer, now, |consumer, stream, ctx| {
                consumer.next_request(reply, payload, stream.store(), ctx);
            });
            return true;
        }
        if subject.starts_with(ACK_PREFIX) {
            if let Some(ack) = parse_ack_subject(subject) {
                self.with_consumer(ack.stream, ack.consumer, now, |consumer, stream, ctx| {
                    consumer.ack(&ack, payload, reply, stream.store(), ctx);
                });
            }
            return true;
        }
        if let Some(rest) = subject.strip_prefix(FLOW_CONTROL_PREFIX) {
            let mut tokens = rest.split('.');
            if let (Some(stream), Some(consumer)) = (tokens.next(), tokens.next()) {
                self.with_consumer(stream, consumer, now, |consumer, _, _| {
                    consumer.flow_control_reply(subject);
                });
            }
            return true;
        }
        false
    }

    /// Runs `action` on one consumer, then applies what it released to the stream's
    /// retention.
    fn with_consumer(
        &mut self,
        stream: &str,
        name: &str,
        now: i64,
        action: impl FnOnce(&mut Consumer, &Stream, &mut Context<'_>),
    ) {
        let Some(StreamEntry {
            stream, consumers, ..
        }) = self.streams.get_mut(stream)
        else {
            return;
        };
        let Some(consumer) = consumers.get_mut(name) else {
            return;
        };
        let mut ctx = Context::new(now, self.domain.as_deref(), &mut self.ids, &mut self.outbox)
            .in_account(&self.account);
        action(consumer, stream, &mut ctx);
        consumers.apply_released(name, &ctx.released, stream);
    }

    /// Runs every consumer's timers and deliveries at `now`; `interest` says whether a
    /// subject in this account has subscribers.
    pub fn tick(&mut self, now: i64, interest: &dyn Fn(&str) -> bool) {
        let mut ctx = Context::new(now, self.domain.as_deref(), &mut self.ids, &mut self.outbox)
            .in_account(&self.account);
        let mut changed = false;
        for entry in self.streams.values_mut() {
            let before = entry.consumers.len();
            entry.consumers.tick(&mut entry.stream, interest, &mut ctx);
            changed |= entry.consumers.len() != before;
        }
        if changed {
            self.interest_generation += 1;
        }
    }

    /// The earliest time [`tick`](Self::tick) has timer work.
    pub fn next_deadline(&self) -> Option<i64> {
        self.streams
            .values()
            .filter_map(|entry| entry.consumers.next_deadline())
            .min()
    }

    /// Moves everything consumers produced into `out`, in `account`.
    pub fn drain_outbox(&mut self, account: &Arc<str>, out: &mut Vec<Outbound>) {
        for message in &mut self.outbox {
            if !Arc::ptr_eq(&message.account, account) {
                message.account = Arc::clone(account);
            }
        }
        // A push consumer's round is up to a thousand messages: they move in one block
        // (or none, when `out` is empty) rather than one by one.
        if out.is_empty() {
            std::mem::swap(out, &mut self.outbox);
        } else {
            out.append(&mut self.outbox);
        }
    }

    /// Every consumer's ack and flow control subjects.
    pub fn consumer_subjects(&self) -> Vec<String> {
        self.streams
            .values()
            .flat_map(|entry| entry.consumers.subjects())
            .collect()
    }

    /// Consumers in the account.
    pub fn consumer_count(&self) -> usize {
        self.streams
            .values()
            .map(|entry| entry.consumers.len())
            .sum()
    }

    /// Saves every consumer state changed since the last call, adding the tickets to wait
    /// on.
    pub(super) fn sync_consumers(&mut self, tickets: &mut Vec<SyncTicket>) {
        for entry in self.streams.values_mut() {
            entry.consumers.save(tickets);
        }
    }

    /// Tells a stream's consumers about a message it stored at `seq`, and on an interest
    /// stream drops it at once when no consumer wants it (nats-server skips storing it).
    pub(super) fn stored(entry: &mut StreamEntry, seq: u64, subject: &str) {
        entry.consumers.on_stored(seq, subject);
        if entry.stream.config().retention == RetentionPolicy::Interest
            && !entry.consumers.any_interested(subject)
        {
            let _ = entry.stream.store_mut().remove(seq, false);
        }
    }

    /// Closes the pull requests of a deleted stream's consumers with `409 Consumer Deleted`
    /// and removes what they kept.
    pub(super) fn stream_deleted(&mut self, mut entry: StreamEntry) {
        for consumer in entry.consumers.iter_mut() {
            consumer.release_requests(&mut self.outbox);
            let _ = consumer.delete_storage();
        }
    }

    /// Brings back a recovered stream's durable consumers from its provider.
    pub(super) fn recover_consumers(&mut self, stream: &str) -> Result<(), StoreError> {
        let Some(entry) = self.streams.get_mut(stream) else {
            return Ok(());
        };
        let config = entry.stream.config().clone();
        for recovered in self.provider.recover_consumers(&config)? {
            let start = Start {
                name: recovered.name,
                config: recovered.config,
                created: recovered.created,
                state: recovered.state,
                storage: recovered.storage,
            };
            let consumer = Consumer::new(
                start,
                &config.name,
                config.retention,
                entry.stream.store(),
                None,
            );
            entry.consumers.insert(consumer);
        }
        Ok(())
    }
}
