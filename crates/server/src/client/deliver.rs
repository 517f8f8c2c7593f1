//! A client's publish: checks, then routing through the connection's [`Router`], and a
//! no-responders status for requests nobody received.

use super::connection::Connection;
use crate::router::Origin;
use natrium_proto::encode::{self, Decimal};
use natrium_proto::{errors, Publish};

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
