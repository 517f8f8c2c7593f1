//! `$JS.API.STREAM.SNAPSHOT.<stream>`, as nats-server 2.9's `jsStreamSnapshotRequest` and
//! `streamSnapshot` answer it: the reply carries the stream's `{config, state}`, then the
//! archive (see `archive.rs`) goes to the request's `deliver_subject` in chunks, each with a
//! reply subject `$JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<index>` the client acks, and an empty
//! message with no reply ends it.
//!
//! Flow control is nats-server's: chunks go out while the bytes not yet acked are within the
//! window (8 MiB, or the request's `window_size`); past it, one more chunk goes every 10 ms
//! without an ack. The archive is taken whole when the request arrives (a point-in-time copy,
//! staged where the provider says until sent: a file beside the streams, or memory). The chunks wait up to 2 s for the deliver subject to get a
//! subscriber; without one, or when it goes away, the transfer ends with the empty message.

use super::archive::{self, ArchiveMeta, ArchivedConsumer, TransferEvent, SNAPSHOT_ACK_PREFIX};
use super::request::{is_empty_request, parse};
use super::{Answer, JetStreamApi, StoreProvider};
use crate::engine::{Inbound, Outbound};
use crate::errors::JsError;
use crate::provider::Staging;
use serde::Deserialize;
use std::sync::Arc;

/// nats-server's `defaultSnapshotChunkSize`.
const CHUNK_BYTES_DEFAULT: usize = 128 * 1024;
/// The smallest chunk (the jsm.go schema's minimum).
const CHUNK_BYTES_MIN: usize = 1024;
/// The largest chunk: the default `max_payload`, so chunks pass every client connection.
const CHUNK_BYTES_MAX: usize = 1024 * 1024;
/// nats-server's `defaultSnapshotWindowSize`.
const WINDOW_BYTES_DEFAULT: u64 = 8 * 1024 * 1024;
/// The window's bounds (the jsm.go schema's).
const WINDOW_BYTES_MIN: u64 = 1024;
const WINDOW_BYTES_MAX: u64 = 32 * 1024 * 1024;
/// With the window full and no ack, one more chunk goes after this (nats-server's 10 ms).
const ACK_WAIT_NANOS: i64 = 10_000_000;
/// How long the chunks wait for the deliver subject to get a subscriber.
const INTEREST_WAIT_NANOS: i64 = 2_000_000_000;

/// The body of a SNAPSHOT request. `jsck` (check every message first) is accepted and
/// ignored: writing the archive checks every message's checksum anyway.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SnapshotRequest {
    deliver_subject: String,
    no_consumers: bool,
    chunk_size: i64,
    window_size: i64,
}

/// A snapshot being sent.
pub(crate) struct SnapshotSession {
    stream: String,
    account: Arc<str>,
    deliver: String,
    ack_prefix: String,
    archive: Staging,
    sent_bytes: u64,
    next_index: u64,
    unacked_bytes: u64,
    chunk_bytes: usize,
    window_bytes: u64,
    started: i64,
    last_progress: i64,
    had_interest: bool,
}

impl SnapshotSession {
    /// `$JS.SNAPSHOT.ACK.<stream>.<id>`; acks arrive below it.
    pub(super) fn ack_prefix(&self) -> &str {
        &self.ack_prefix
    }

    /// When this transfer next has timer work: the interest wait, or the ack wait.
    pub(super) fn deadline(&self) -> i64 {
        if self.had_interest {
            self.last_progress + ACK_WAIT_NANOS
        } else {
            self.started + INTEREST_WAIT_NANOS
        }
    }

    fn window_full(&self) -> bool {
        self.unacked_bytes > self.window_bytes
    }

    /// The next chunk, with its ack subject. A staging file that cannot be read back ends
    /// the transfer early: the receiver's archive then fails its checksums and is refused.
    fn next_chunk(&mut self) -> Outbound {
        let chunk = match self.archive.read_at(self.sent_bytes, self.chunk_bytes) {
            Ok(chunk) => chunk,
            Err(_) => {
                self.sent_bytes = self.archive.len();
                Vec::new()
            }
        };
        let reply = format!("{}.{}.{}", self.ack_prefix, chunk.len(), self.next_index);
        self.sent_bytes += chunk.len() as u64;
        self.next_index += 1;
        self.unacked_bytes += chunk.len() as u64;
        let mut message = Outbound::reply(&self.account, &self.deliver, chunk);
        message.reply = Some(reply);
        message
    }

    fn done_sending(&self) -> bool {
        self.sent_bytes >= self.archive.len()
    }
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// Answers a SNAPSHOT request and starts sending the archive.
    pub(super) fn snapshot_request(
        &mut self,
        name: &str,
        message: &Inbound<'_>,
        now: i64,
    ) -> Result<serde_json::Value, JsError> {
        if is_empty_request(message.payload) {
            return Err(JsError::BadRequest);
        }
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        let request: SnapshotRequest = parse(message.payload)?;
        if !natrium_subject::is_valid_subject(request.deliver_subject.as_bytes()) {
            return Err(JsError::SnapshotDeliverSubjectInvalid);
        }
        let mut meta = ArchiveMeta {
            config: entry.stream.config().clone(),
            created: entry.created,
            consumers: Vec::new(),
        };
        let mut states = Vec::new();
        if !request.no_consumers {
            for consumer in entry.consumers.iter() {
                // Ephemerals end with their subscriber; only durables are worth restoring.
                if consumer.config().is_durable() {
                    meta.consumers.push(ArchivedConsumer {
                        name: consumer.name().to_string(),
                        config: consumer.config().clone(),
                        created: consumer.created(),
                    });
                    states.push(consumer.state());
                }
            }
        }
        let mut archive = self
            .provider
            .staging()
            .map_err(|e| JsError::StreamSnapshot(e.to_string()))?;
        let entry = self.streams.get(name).ok_or(JsError::StreamNotFound)?;
        archive::write(&meta, &states, entry.stream.store(), &mut archive)
            .map_err(|e| JsError::StreamSnapshot(e.to_string()))?;
        let info = self.info_body(name, false)?;
        let chunk_bytes = match usize::try_from(request.chunk_size) {
            Ok(0) | Err(_) => CHUNK_BYTES_DEFAULT,
            Ok(size) => size.clamp(CHUNK_BYTES_MIN, CHUNK_BYTES_MAX),
        };
        let window_bytes = match u64::try_from(request.window_size) {
            Ok(0) | Err(_) => WINDOW_BYTES_DEFAULT,
            Ok(size) => size.clamp(WINDOW_BYTES_MIN, WINDOW_BYTES_MAX),
        };
        let blocks = archive.len().div_ceil(chunk_bytes as u64);
        let id = self.ids.next_id(now);
        self.transfers.snapshots.push(SnapshotSession {
            stream: name.to_string(),
            account: Arc::clone(message.account),
            deliver: request.deliver_subject,
            ack_prefix: format!("{SNAPSHOT_ACK_PREFIX}{name}.{id}"),
            archive,
            sent_bytes: 0,
            next_index: 1,
            unacked_bytes: 0,
            chunk_bytes,
            window_bytes,
            started: now,
            last_progress: now,
            had_interest: false,
        });
        self.interest_generation += 1;
        self.advisories.transfer(
            TransferEvent::SnapshotCreate {
                blocks,
                block_size: chunk_bytes as u64,
            },
            name,
            message.account,
            self.domain.as_deref(),
            now,
        );
        Ok(serde_json::json!({"config": info["config"], "state": info["state"]}))
    }

    /// An ack of one chunk: `$JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<index>` frees its bytes
    /// from the window.
    pub(super) fn snapshot_ack(&mut self, subject: &str, now: i64) {
        let mut tokens = subject.rsplitn(3, '.');
        let (Some(_index), Some(size), Some(prefix)) =
            (tokens.next(), tokens.next(), tokens.next())
        else {
            return;
        };
        let Some(session) = self
            .transfers
            .snapshots
            .iter_mut()
            .find(|session| session.ack_prefix == prefix)
        else {
            return;
        };
        let size = size.parse::<u64>().unwrap_or(0);
        session.unacked_bytes = session.unacked_bytes.saturating_sub(size);
        session.last_progress = now;
    }

    /// Sends what each snapshot's window allows; ends those sent whole or abandoned.
    pub(super) fn tick_snapshots(&mut self, now: i64, interest: &dyn Fn(&str) -> bool) {
        let mut finished = Vec::new();
        for (at, session) in self.transfers.snapshots.iter_mut().enumerate() {
            let listening = interest(&session.deliver);
            if !listening {
                if !session.had_interest && now < session.started + INTEREST_WAIT_NANOS {
                    continue;
                }
                // Nobody to send to (never came, or went away): end the transfer.
                finished.push(at);
                continue;
            }
            if !session.had_interest {
                session.had_interest = true;
                session.last_progress = now;
            }
            if session.window_full() && now >= session.last_progress + ACK_WAIT_NANOS {
                // nats-server sends on after a short wait without acks, slowly.
                self.outbox.push(session.next_chunk());
                session.last_progress = now;
            }
            while !session.done_sending() && !session.window_full() {
                self.outbox.push(session.next_chunk());
            }
            if session.done_sending() {
                finished.push(at);
            }
        }
        for at in finished.into_iter().rev() {
            let session = self.transfers.snapshots.remove(at);
            self.outbox.push(Outbound::reply(
                &session.account,
                &session.deliver,
                Vec::new(),
            ));
            self.interest_generation += 1;
            self.advisories.transfer(
                TransferEvent::SnapshotComplete {
                    start: session.started,
                },
                &session.stream,
                &session.account,
                self.domain.as_deref(),
                now,
            );
        }
    }

    /// Routes `STREAM.SNAPSHOT.<name>` and `STREAM.RESTORE.<name>`, which need the requester's
    /// account; `None` for every other endpoint.
    pub(super) fn transfer_request(
        &mut self,
        endpoint: &str,
        message: &Inbound<'_>,
        now: i64,
    ) -> Option<Answer> {
        use super::types::response_type;
        let rest = endpoint.strip_prefix("STREAM.")?;
        if let Some(name) = rest.strip_prefix("SNAPSHOT.") {
            let name = super::single_token(name)?;
            let result = self.snapshot_request(name, message, now);
            return Some(super::json_answer(response_type::STREAM_SNAPSHOT, result));
        }
        let name = super::single_token(rest.strip_prefix("RESTORE.")?)?;
        let result = self.restore_request(name, message, now);
        Some(super::json_answer(response_type::STREAM_RESTORE, result))
    }
}

#[cfg(test)]
mod tests {
    use crate::api::MemoryStores;
    use crate::engine::{EngineConfig, Inbound, JetStream, Outbound};

    const NOW: i64 = 1_000_000_000;

    /// An engine with the memory stream `S` on `s.>`.
    fn engine() -> JetStream<MemoryStores> {
        let mut engine = JetStream::new(EngineConfig::default(), Box::new(|_| Ok(MemoryStores)));
        engine.enable_account("$G").unwrap();
        let config = br#"{"name":"S","subjects":["s.>"],"storage":"memory"}"#;
        send(
            &mut engine,
            "$JS.API.STREAM.CREATE.S",
            Some("r"),
            config,
            NOW,
        );
        engine
    }

    /// Sends one message and returns what came out (after a tick where `listening`).
    fn send(
        engine: &mut JetStream<MemoryStores>,
        subject: &str,
        reply: Option<&str>,
        payload: &[u8],
        now: i64,
    ) -> Vec<Outbound> {
        let mut out = Vec::new();
        let inbound = Inbound {
            account: crate::engine::account_name("$G"),
            subject,
            reply,
            headers: b"",
            payload,
        };
        engine.handle(inbound, now, &mut out);
        engine.tick(now, &|_, _| true, &mut out);
        out
    }

    /// Starts restoring stream `name` and returns where its chunks go.
    fn start_restore(engine: &mut JetStream<MemoryStores>, name: &str) -> String {
        let subject = format!("$JS.API.STREAM.RESTORE.{name}");
        let out = send(engine, &subject, Some("r"), br#"{"config":{}}"#, NOW);
        let deliver = &json(&out[0])["deliver_subject"];
        deliver.as_str().unwrap().to_string()
    }

    fn json(message: &Outbound) -> serde_json::Value {
        serde_json::from_slice(&message.payload).unwrap()
    }

    #[test]
    fn a_snapshot_is_paced_by_acks_and_restores_the_stream_and_its_durable() {
        let mut engine = engine();
        for i in 0..300 {
            let payload = vec![b'x'; 1000 + i];
            send(&mut engine, &format!("s.{i}"), None, &payload, NOW);
        }
        let durable =
            br#"{"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit"}}"#;
        send(
            &mut engine,
            "$JS.API.CONSUMER.DURABLE.CREATE.S.D",
            Some("r"),
            durable,
            NOW,
        );
        let next = send(
            &mut engine,
            "$JS.API.CONSUMER.MSG.NEXT.S.D",
            Some("in"),
            b"5",
            NOW,
        );
        let acked = next.iter().find(|m| &*m.deliver == "in").unwrap();
        send(
            &mut engine,
            acked.reply.as_deref().unwrap(),
            None,
            b"+ACK",
            NOW,
        );

        let request = br#"{"deliver_subject":"snap","chunk_size":4096,"window_size":8192}"#;
        let first = send(
            &mut engine,
            "$JS.API.STREAM.SNAPSHOT.S",
            Some("r"),
            request,
            NOW,
        );
        let reply = json(first.iter().find(|m| &*m.deliver == "r").unwrap());
        assert_eq!(
            reply["type"],
            "io.nats.jetstream.api.v1.stream_snapshot_response"
        );
        assert_eq!(reply["state"]["messages"], 300);
        assert_eq!(reply["config"]["name"], "S");
        assert!(first
            .iter()
            .any(|m| &*m.deliver == "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.S"));
        let mut queue: std::collections::VecDeque<Outbound> = first
            .into_iter()
            .filter(|m| &*m.deliver == "snap")
            .collect();
        // The window (8 KiB) lets three 4 KiB chunks out before the first ack.
        assert_eq!(queue.len(), 3);
        let (mut archive, mut complete) = (Vec::new(), false);
        while let Some(chunk) = queue.pop_front() {
            let Some(ack) = chunk.reply else {
                assert!(
                    chunk.payload.is_empty() && queue.is_empty(),
                    "the EOF comes last"
                );
                break;
            };
            assert!(ack.starts_with("$JS.SNAPSHOT.ACK.S."));
            archive.extend_from_slice(&chunk.payload);
            let more = send(&mut engine, &ack, None, b"", NOW);
            complete |= more
                .iter()
                .any(|m| &*m.deliver == "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.S");
            queue.extend(more.into_iter().filter(|m| &*m.deliver == "snap"));
        }
        assert!(complete);
        assert_eq!(
            engine.interest().by_account["$G"]
                .iter()
                .filter(|s| s.starts_with("$JS.SNAPSHOT"))
                .count(),
            0
        );

        send(&mut engine, "$JS.API.STREAM.DELETE.S", Some("r"), b"", NOW);
        let exists = send(
            &mut engine,
            "$JS.API.STREAM.RESTORE.S",
            Some("r"),
            br#"{"config":{"name":"S","subjects":["s.>"],"storage":"memory"},"state":{}}"#,
            NOW,
        );
        let reply = json(exists.iter().find(|m| &*m.deliver == "r").unwrap());
        let deliver = reply["deliver_subject"].as_str().unwrap().to_string();
        assert!(deliver.starts_with("$JS.SNAPSHOT.RESTORE.S."));
        assert!(engine.interest().by_account["$G"].contains(&deliver));
        for chunk in archive.chunks(5000) {
            let acks = send(&mut engine, &deliver, Some("ack"), chunk, NOW);
            assert!(acks
                .iter()
                .any(|m| &*m.deliver == "ack" && m.payload.is_empty()));
        }
        let done = send(&mut engine, &deliver, Some("done"), b"", NOW);
        let info = json(done.iter().find(|m| &*m.deliver == "done").unwrap());
        assert_eq!(
            info["type"],
            "io.nats.jetstream.api.v1.stream_create_response"
        );
        assert_eq!(info["state"]["messages"], 300, "{info}");
        assert_eq!(info["state"]["consumer_count"], 1);
        assert!(done
            .iter()
            .any(|m| &*m.deliver == "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.S"));
        let got = send(
            &mut engine,
            "$JS.API.STREAM.MSG.GET.S",
            Some("r"),
            br#"{"seq":300}"#,
            NOW,
        );
        let got = json(got.iter().find(|m| &*m.deliver == "r").unwrap());
        assert_eq!(got["message"]["subject"], "s.299");
        let consumer = send(
            &mut engine,
            "$JS.API.CONSUMER.INFO.S.D",
            Some("r"),
            b"",
            NOW,
        );
        let consumer = json(consumer.iter().find(|m| &*m.deliver == "r").unwrap());
        // Five delivered, the first acked: the restored durable resumes exactly there.
        assert_eq!(consumer["delivered"]["stream_seq"], 5, "{consumer}");
        assert_eq!(consumer["ack_floor"]["stream_seq"], 1);
        assert_eq!(consumer["num_ack_pending"], 4);
        assert_eq!(consumer["num_pending"], 295);
    }

    #[test]
    fn bad_requests_get_nats_server_errors() {
        let mut engine = engine();
        let cases: [(&str, &[u8], u64); 6] = [
            ("$JS.API.STREAM.SNAPSHOT.S", b"", 10003),
            (
                "$JS.API.STREAM.SNAPSHOT.X",
                br#"{"deliver_subject":"a"}"#,
                10059,
            ),
            (
                "$JS.API.STREAM.SNAPSHOT.S",
                br#"{"deliver_subject":""}"#,
                10015,
            ),
            ("$JS.API.STREAM.SNAPSHOT.S", b"[]", 10025),
            (
                "$JS.API.STREAM.RESTORE.S",
                br#"{"config":{"name":"S"}}"#,
                10130,
            ),
            ("$JS.API.STREAM.RESTORE.T", b"", 10003),
        ];
        for (subject, body, code) in cases {
            let out = send(&mut engine, subject, Some("r"), body, NOW);
            let reply = json(out.iter().find(|m| &*m.deliver == "r").unwrap());
            assert_eq!(reply["error"]["err_code"], code, "{subject} {reply}");
        }
        let deliver = start_restore(&mut engine, "T");
        let out = send(&mut engine, &deliver, Some("done"), b"", NOW);
        let reply = json(out.iter().find(|m| &*m.deliver == "done").unwrap());
        assert_eq!(reply["error"]["err_code"], 10062, "{reply}");
        // A restore nobody feeds is dropped after 5 s.
        let deliver = start_restore(&mut engine, "T");
        let mut out = Vec::new();
        engine.tick(NOW + 6_000_000_000, &|_, _| true, &mut out);
        assert!(!engine.interest().by_account["$G"].contains(&deliver));
    }

    #[test]
    fn a_snapshot_nobody_receives_ends_after_the_interest_wait() {
        let mut engine = engine();
        let mut out = Vec::new();
        let inbound = Inbound {
            account: crate::engine::account_name("$G"),
            subject: "$JS.API.STREAM.SNAPSHOT.S",
            reply: Some("r"),
            headers: b"",
            payload: br#"{"deliver_subject":"snap"}"#,
        };
        engine.handle(inbound, NOW, &mut out);
        engine.tick(NOW, &|_, _| false, &mut out);
        assert!(!out.iter().any(|m| &*m.deliver == "snap"));
        assert_eq!(engine.next_deadline(), Some(NOW + 2_000_000_000));
        engine.tick(NOW + 2_000_000_000, &|_, _| false, &mut out);
        let sent: Vec<_> = out.iter().filter(|m| &*m.deliver == "snap").collect();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].payload.is_empty() && sent[0].reply.is_none());
    }
}
