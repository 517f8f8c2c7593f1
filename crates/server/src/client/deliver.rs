//! Routing one publish: match the subject, copy the message to each interested
//! subscriber's outbound buffer, pick one member per queue group, and answer
//! requests nobody received with a no-responders status.

use super::connection::Connection;
use super::Queued;
use crate::subscription::{Claim, SubscriptionRef};
use natrium_proto::encode::{self, Decimal};
use natrium_proto::{errors, Publish};
use natrium_sublist::MatchResult;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::info;

impl Connection {
    pub(super) fn process_publish(&mut self, publish: &Publish<'_>) {
        self.batch_in_msgs += 1;
        self.batch_in_bytes += publish.message.len() as u64;
        if self.connect.pedantic && !natrium_subject::is_valid_literal_subject(publish.subject) {
            // nats-server complains but still delivers the message.
            self.send_err(errors::INVALID_PUBLISH_SUBJECT);
        }
        if self.connect.verbose {
            self.send(encode::OK);
        }
        let matches = self.cache.lookup(&self.account.sublist, publish.subject);
        let delivered = self.deliver_all(&matches, publish);
        if !delivered && self.connect.no_responders {
            if let Some(reply) = publish.reply {
                self.send_no_responders(reply);
            }
        }
    }

    /// Delivers to every plain subscriber and one member of each queue group.
    fn deliver_all(
        &mut self,
        matches: &MatchResult<SubscriptionRef>,
        publish: &Publish<'_>,
    ) -> bool {
        let mut delivered = false;
        for sub in &matches.plain {
            delivered |= self.deliver(sub, publish);
        }
        for group in &matches.queues {
            let members = &group.members;
            let start = self.next_random() as usize % members.len();
            // Try members from a random start until one takes it (others may be closed).
            for offset in 0..members.len() {
                if self.deliver(&members[(start + offset) % members.len()], publish) {
                    delivered = true;
                    break;
                }
            }
        }
        delivered
    }

    /// Copies the message into one subscriber's outbound buffer.
    fn deliver(&mut self, sub: &SubscriptionRef, publish: &Publish<'_>) -> bool {
        let client = &sub.client;
        if !self.connect.echo && client.id == self.shared.id {
            return false;
        }
        let claim = sub.claim_delivery();
        if claim == Claim::Refused {
            return false;
        }
        // Resolved outside the closure so the count under the lock is one load and store.
        let count_here = (claim == Claim::Unlimited).then_some(&sub.delivered);
        let max_pending = self.options.max_pending;
        let with_headers =
            publish.header_len.unwrap_or(0) > 0 && client.headers.load(Ordering::Relaxed);
        // Counted as whole messages (headers included) everywhere, so the per-connection
        // totals in `/connz` add up to the server's in `/varz`.
        let message_bytes = Some(publish.message.len());
        let queued = client.queue(max_pending, message_bytes, |out| {
            if let Some(delivered) = count_here {
                // The subscriber's outbound lock, held here, serialises every delivery to
                // it, so a plain load and store count exactly (no locked add per message).
                delivered.store(delivered.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            let (subject, sid, reply) = (publish.subject, &*sub.sid, publish.reply);
            if with_headers {
                let sizes = (publish.header_token, publish.size_token);
                encode::write_hmsg(out, subject, sid, reply, sizes, publish.message);
            } else if publish.header_len.is_some() {
                // The subscriber does not take headers: send the payload alone.
                let payload = publish.payload();
                let size = Decimal::new(payload.len());
                encode::write_msg(out, subject, sid, reply, size.as_bytes(), payload);
            } else {
                encode::write_msg(
                    out,
                    subject,
                    sid,
                    reply,
                    publish.size_token,
                    publish.message,
                );
            }
        });
        if claim == Claim::Last {
            self.remove_subscription(sub);
        }
        match queued {
            Queued::NeedsFlush => self.pending_flush.push(Arc::clone(client)),
            Queued::FlushAlreadyPending => {}
            Queued::Closed => return false,
            Queued::SlowConsumer => {
                info!(
                    "{} - Slow Consumer Detected: MaxPending of {max_pending} Exceeded",
                    client.label()
                );
                self.server
                    .stats
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
                self.account
                    .stats
                    .slow_consumers
                    .fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        if client.is_backed_up() && !self.stalled_on.iter().any(|c| Arc::ptr_eq(c, client)) {
            self.stalled_on.push(Arc::clone(client));
        }
        self.batch_out_msgs += 1;
        self.batch_out_bytes += publish.message.len() as u64;
        true
    }

    /// Sends `HMSG <reply> <sid> 16 16` with status 503 on the requester's own reply
    /// subscription, as nats-server 2.9 does.
    fn send_no_responders(&mut self, reply: &[u8]) {
        let (matches, _) = self.account.sublist.match_subject(reply);
        let Some(sub) = matches
            .plain
            .iter()
            .find(|sub| sub.client.id == self.shared.id)
        else {
            return;
        };
        let size = Decimal::new(encode::NO_RESPONDERS_HEADER.len());
        let sizes = (size.as_bytes(), size.as_bytes());
        let sid = &sub.sid;
        self.send_with(|out| {
            encode::write_hmsg(out, reply, sid, None, sizes, encode::NO_RESPONDERS_HEADER)
        });
    }

    /// xorshift64: cheap, and queue spreading needs no more than that.
    fn next_random(&mut self) -> u64 {
        let mut x = self.queue_rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.queue_rng = x;
        x
    }
}
