//! `republish`: once a message is stored, nats-server's `processJetStreamMsg` sends a copy to
//! the subject its `src` → `dest` transform maps the stored subject to, with `Nats-Stream`,
//! `Nats-Subject`, `Nats-Sequence` and `Nats-Last-Sequence` headers (and `Nats-Msg-Size`
//! instead of the payload when `headers_only`).
//!
//! It is a core publish (no reply, no acknowledgement), sent with the PubAck of the write.

use super::config::StreamConfig;
use crate::engine::Outbound;
use crate::headers;
use natrium_store::MessageStore;

/// A republish decided before the message is stored: where it goes, and the previous
/// sequence of the same subject (which must be read before the write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Republish {
    destination: String,
    last_subject_seq: u64,
    headers_only: bool,
}

impl Republish {
    /// The republish of a message about to be stored on `subject`, if the stream republishes
    /// that subject; `random` feeds a destination's `{{random(n)}}`.
    pub fn prepare(
        config: &StreamConfig,
        store: &dyn MessageStore,
        subject: &str,
        random: u32,
    ) -> Option<Republish> {
        let republish = config.republish.as_ref()?;
        let destination =
            super::transform::apply(&republish.src, &republish.dest, subject, random)?;
        let last_subject_seq = store.load_last(subject).map_or(0, |message| message.seq);
        Some(Republish {
            destination,
            last_subject_seq,
            headers_only: republish.headers_only,
        })
    }

    /// The message to send once the original is stored at `seq` (the account is filled in when
    /// the outbox is drained).
    pub fn message(
        self,
        stream: &str,
        subject: &str,
        seq: u64,
        header_block: &[u8],
        payload: &[u8],
    ) -> Outbound {
        let mut block = headers::append(header_block, headers::STREAM, stream);
        block = headers::append(&block, headers::SUBJECT, subject);
        block = headers::append(&block, headers::SEQUENCE, &seq.to_string());
        block = headers::append(
            &block,
            headers::LAST_SEQUENCE,
            &self.last_subject_seq.to_string(),
        );
        let payload = if self.headers_only {
            block = headers::append(&block, headers::MSG_SIZE, &payload.len().to_string());
            Vec::new()
        } else {
            payload.to_vec()
        };
        Outbound {
            account: Outbound::unassigned_account(),
            deliver: self.destination.into(),
            subject: None,
            reply: None,
            headers: block.into(),
            payload: payload.into(),
            piece_end: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::config::RePublish;
    use natrium_store::{MemoryStore, StoreConfig};

    fn config(headers_only: bool) -> StreamConfig {
        StreamConfig {
            name: "S".into(),
            republish: Some(RePublish {
                src: "orders.*".into(),
                dest: "rp.$1".into(),
                headers_only,
            }),
            ..StreamConfig::default()
        }
    }

    #[test]
    fn headers_carry_the_stored_position_and_the_last_of_the_subject() {
        let mut store = MemoryStore::new(StoreConfig::default()).unwrap();
        store.store("orders.a", b"", b"one", 1).unwrap();
        let prepared = Republish::prepare(&config(false), &store, "orders.a", 0).unwrap();
        let sent = prepared.message("S", "orders.a", 2, b"", b"two");
        assert_eq!(&*sent.deliver, "rp.a");
        assert_eq!(
            &sent.headers[..],
            b"NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: orders.a\r\nNats-Sequence: 2\r\n\
              Nats-Last-Sequence: 1\r\n\r\n"
        );
        assert_eq!(&sent.payload[..], b"two");
        assert_eq!(
            Republish::prepare(&config(false), &store, "other.a", 0),
            None
        );
    }

    #[test]
    fn headers_only_sends_the_size_instead_of_the_payload() {
        let store = MemoryStore::new(StoreConfig::default()).unwrap();
        let prepared = Republish::prepare(&config(true), &store, "orders.b", 0).unwrap();
        let sent = prepared.message("S", "orders.b", 1, b"NATS/1.0\r\nA: 1\r\n\r\n", b"12345");
        assert!(sent.payload.is_empty());
        assert_eq!(headers::get_str(&sent.headers, "A"), Some("1"));
        assert_eq!(headers::get_u64(&sent.headers, headers::MSG_SIZE), Some(5));
        assert_eq!(
            headers::get_u64(&sent.headers, headers::LAST_SEQUENCE),
            Some(0)
        );
    }
}
