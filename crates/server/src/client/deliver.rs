//! A client's publish: subject mapping, checks, then routing through the connection's
//! [`Router`], and a no-responders status for requests nobody received.

use super::connection::Connection;
use crate::router::Origin;
use natrium_proto::encode::{self, Decimal};
use natrium_proto::Publish;
use natrium_subject::mapping::Mapped;
use tracing::trace;

/// The cluster whose scoped mapping destinations apply: none, as Natrium does not cluster
/// (nats-server's cluster name is empty then, so only unscoped destinations apply).
pub(crate) const CLUSTER_NAME: &str = "";

impl Connection {
    /// Maps the subject through the account's mappings, as nats-server does before any
    /// other check: permissions, subscribers and JetStream all see the mapped subject.
    pub(super) fn process_mapped_publish(&mut self, publish: &Publish<'_>) {
        let Some(mappings) = &self.mappings else {
            return self.process_permitted_publish(publish);
        };
        let random = self.router.next_random();
        // Taken out for the call (and put back), so the buffer is reused, never reallocated.
        let mut subject = std::mem::take(&mut self.mapped_subject);
        match mappings.map(publish.subject, CLUSTER_NAME, random, &mut subject) {
            Mapped::Unmapped => self.process_permitted_publish(publish),
            Mapped::To => {
                self.trace_mapping(publish.subject, &subject);
                self.process_permitted_publish(&Publish {
                    subject: &subject,
                    ..*publish
                });
            }
            Mapped::Dropped => {
                self.trace_mapping(publish.subject, b"");
                self.process_dropped_publish(publish);
            }
        }
        self.mapped_subject = subject;
    }

    fn trace_mapping(&self, from: &[u8], to: &[u8]) {
        if self.trace {
            trace!(
                "{} - <<- [MAPPING {} -> {}]",
                self.label,
                String::from_utf8_lossy(from),
                String::from_utf8_lossy(to)
            );
        }
    }

    /// The publish check (for users with publish rules), then delivery.
    pub(super) fn process_permitted_publish(&mut self, publish: &Publish<'_>) {
        if self.checks_publish() && !self.publish_permitted(publish.subject) {
            // Counted as received, not delivered, as nats-server does.
            self.batch_in_msgs += 1;
            self.batch_in_bytes += publish.message.len() as u64;
            return;
        }
        self.process_publish(publish)
    }

    /// A message a weighted mapping drops: received, acknowledged in verbose mode, delivered
    /// nowhere (nats-server routes it on an empty subject, which matches nothing). Unlike
    /// nats-server, the empty subject is not put to the publish permissions.
    fn process_dropped_publish(&mut self, publish: &Publish<'_>) {
        self.batch_in_msgs += 1;
        self.batch_in_bytes += publish.message.len() as u64;
        if self.connect.verbose {
            self.send(encode::OK);
        }
        if self.connect.no_responders {
            if let Some(reply) = publish.reply {
                self.send_no_responders(reply);
            }
        }
    }

    fn process_publish(&mut self, publish: &Publish<'_>) {
        self.batch_in_msgs += 1;
        self.batch_in_bytes += publish.message.len() as u64;
        if self.connect.verbose {
            self.send(encode::OK);
        }
        let origin = Origin {
            client_id: self.shared.id,
            echo: self.connect.echo,
            max_pending: self.options.max_pending,
            trace: self.trace,
        };
        let delivered = self.router.route(
            &self.server,
            &self.account,
            publish.subject,
            publish,
            origin,
        );
        if !delivered && self.connect.no_responders {
            if let Some(reply) = publish.reply {
                self.send_no_responders(reply);
            }
        }
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
}
