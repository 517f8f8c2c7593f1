//! All consumers of one stream, kept beside it, and what their acks mean for the stream's
//! retention: a work queue drops a message once acked, an interest stream once no consumer
//! still needs it (nats-server's `ackMsg`, `checkInterest`, `partitionUnique`).

use super::deliver::Verdict;
use super::{advisory::AdvisoryKind, Consumer, Context};
use crate::stream::config::RetentionPolicy;
use crate::stream::Stream;
use natrium_store::SyncTicket;
use std::collections::BTreeMap;

/// The consumers of one stream, by name.
#[derive(Default)]
pub struct Consumers {
    by_name: BTreeMap<String, Consumer>,
}

impl Consumers {
    /// Consumers on the stream.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when the stream has none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// One consumer.
    pub fn get(&self, name: &str) -> Option<&Consumer> {
        self.by_name.get(name)
    }

    /// One consumer, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Consumer> {
        self.by_name.get_mut(name)
    }

    /// Names in order.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.by_name.keys()
    }

    /// Every consumer, in name order, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Consumer> {
        self.by_name.values_mut()
    }

    /// Every consumer in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Consumer> {
        self.by_name.values()
    }

    /// Adds a consumer.
    pub fn insert(&mut self, consumer: Consumer) {
        self.by_name.insert(consumer.name().to_string(), consumer);
    }

    /// Takes a consumer out (without touching its storage).
    pub fn remove(&mut self, name: &str) -> Option<Consumer> {
        self.by_name.remove(name)
    }

    /// The subjects every consumer's acks and flow control replies arrive on.
    pub fn subjects(&self) -> Vec<String> {
        self.by_name.values().flat_map(Consumer::subjects).collect()
    }

    /// A message was stored in the stream.
    pub fn on_stored(&mut self, seq: u64, subject: &str) {
        for consumer in self.by_name.values_mut() {
            consumer.on_stored(seq, subject);
        }
    }

    /// The stream was purged; `first_seq` is its new first sequence.
    pub fn purged(&mut self, first_seq: u64, store: &dyn natrium_store::MessageStore) {
        for consumer in self.by_name.values_mut() {
            consumer.purged(first_seq, store);
        }
    }

    /// Whether some consumer would deliver a message on `subject` (interest retention keeps
    /// nothing nobody wants).
    pub fn any_interested(&self, subject: &str) -> bool {
        self.by_name.values().any(|c| c.matches(subject))
    }

    /// A work-queue filter must not overlap another consumer's (2.10's `partitionUnique`,
    /// which catches overlaps 2.9's subset test missed).
    pub fn partition_unique(&self, name: &str, filters: &[String]) -> bool {
        self.by_name
            .values()
            .filter(|other| other.name() != name)
            .all(|other| {
                let theirs = other.config().filters();
                !theirs.is_empty()
                    && filters.iter().all(|ours| {
                        theirs.iter().all(|their| {
                            !natrium_subject::filters_overlap(ours.as_bytes(), their.as_bytes())
                        })
                    })
            })
    }

    /// Applies what `from` released to the stream's retention (`ackMsg`).
    pub fn apply_released(&self, from: &str, released: &[u64], stream: &mut Stream) {
        let retention = stream.config().retention;
        if retention == RetentionPolicy::Limits || released.is_empty() {
            return;
        }
        let first_seq = stream.store().state().first_seq;
        for &seq in released {
            if seq < first_seq {
                continue;
            }
            let remove = match retention {
                RetentionPolicy::WorkQueue => true,
                _ => !self.others_need(from, seq, stream),
            };
            if remove {
                // A message already gone (limits, another ack) is not an error here.
                let _ = stream.store_mut().remove(seq, false);
            }
        }
    }

    /// Whether a consumer other than `except` still needs `seq` (`checkInterest`).
    fn others_need(&self, except: &str, seq: u64, stream: &Stream) -> bool {
        let Ok(message) = stream.store().load(seq) else {
            return false;
        };
        self.by_name
            .values()
            .any(|c| c.name() != except && c.needs_ack(seq, &message.subject))
    }

    /// Deletes a consumer: closes its pull requests, removes its storage, sends the DELETED
    /// advisory, and on an interest stream drops what only it still needed.
    pub fn delete(&mut self, name: &str, stream: &mut Stream, ctx: &mut Context<'_>) -> bool {
        let Some(mut consumer) = self.by_name.remove(name) else {
            return false;
        };
        ctx.advise(consumer.stream_name(), name, AdvisoryKind::Deleted);
        consumer.release_requests(ctx.out);
        let _ = consumer.delete_storage();
        if stream.config().retention == RetentionPolicy::Interest {
            let state = stream.store().state();
            let start = consumer.ack_floor_stream_seq().max(state.first_seq);
            let unneeded: Vec<u64> = (start..=state.last_seq)
                .filter(|&seq| match stream.store().load(seq) {
                    Ok(message) => !self
                        .by_name
                        .values()
                        .any(|c| c.needs_ack(seq, &message.subject)),
                    Err(_) => false,
                })
                .collect();
            for seq in unneeded {
                let _ = stream.store_mut().remove(seq, false);
            }
        }
        true
    }

    /// Ticks every consumer; those inactive past their threshold are deleted.
    pub fn tick(
        &mut self,
        stream: &mut Stream,
        interest: &dyn Fn(&str) -> bool,
        ctx: &mut Context<'_>,
    ) {
        let mut expired = Vec::new();
        let names: Vec<String> = self.by_name.keys().cloned().collect();
        for name in names {
            let Some(consumer) = self.by_name.get_mut(&name) else {
                continue;
            };
            let verdict = consumer.tick(stream.store(), interest, ctx);
            let released = std::mem::take(&mut ctx.released);
            self.apply_released(&name, &released, stream);
            if verdict == Verdict::Delete {
                expired.push(name);
            }
        }
        for name in expired {
            self.delete(&name, stream, ctx);
        }
    }

    /// The earliest deadline of any consumer.
    pub fn next_deadline(&self) -> Option<i64> {
        self.by_name
            .values()
            .filter_map(Consumer::next_deadline)
            .min()
    }

    /// Saves every changed state, adding the tickets to wait on.
    pub fn save(&mut self, tickets: &mut Vec<SyncTicket>) {
        for consumer in self.by_name.values_mut() {
            consumer.save_if_dirty(tickets);
        }
    }
}
