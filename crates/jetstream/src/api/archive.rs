//! Natrium's stream archive: the bytes `$JS.API.STREAM.SNAPSHOT` sends in chunks and
//! `$JS.API.STREAM.RESTORE` reads back, and the bookkeeping both transfers share (the subjects
//! they listen on, their timers, and the snapshot/restore advisories).
//!
//! Clients treat an archive as opaque bytes, so its format is Natrium's own, not
//! nats-server's tar+S2: a nats-server snapshot cannot be restored into Natrium, nor the
//! reverse. Layout: the magic `NATRARC1`; a section holding the JSON of the stream's
//! configuration, creation time and durable consumers; one section per consumer with its
//! encoded state; then the store's own snapshot (`MessageStore::snapshot`, every message
//! checksummed, ending in a marker). A section is a little-endian `u32` length, the bytes,
//! and their CRC-32C, so damage anywhere is refused, never restored.

use super::advisory::Advisories;
use super::restore::RestoreSession;
use super::snapshot::SnapshotSession;
use super::{JetStreamApi, StoreProvider};
use crate::consumer::config::ConsumerConfig;
use crate::engine::{Inbound, Outbound};
use crate::stream::config::StreamConfig;
use natrium_gofmt::rfc3339_or_zero;
use natrium_store::{ConsumerState, MessageStore, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"NATRARC1";

/// Where snapshot acks arrive (nats-server's `jsSnapshotAckT`): `.<stream>.<id>`, then the
/// chunk's size and index.
pub(super) const SNAPSHOT_ACK_PREFIX: &str = "$JS.SNAPSHOT.ACK.";
/// Where restore chunks arrive (nats-server's `jsRestoreDeliverT`): `.<stream>.<id>`.
pub(super) const RESTORE_DELIVER_PREFIX: &str = "$JS.SNAPSHOT.RESTORE.";

/// What the first section describes.
#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(default)]
pub(super) struct ArchiveMeta {
    pub config: StreamConfig,
    pub created: i64,
    pub consumers: Vec<ArchivedConsumer>,
}

/// A durable consumer in an archive; its state is in its own section.
#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(default)]
pub(super) struct ArchivedConsumer {
    pub name: String,
    pub config: ConsumerConfig,
    pub created: i64,
}

/// The head of an archive read back: its description and each consumer's state (in the order
/// of `meta.consumers`). The store's snapshot follows in the input.
pub(super) struct ArchiveHead {
    pub meta: ArchiveMeta,
    pub states: Vec<ConsumerState>,
}

/// Writes a stream's archive into `out`.
pub(super) fn write(
    meta: &ArchiveMeta,
    states: &[ConsumerState],
    store: &dyn MessageStore,
    out: &mut dyn Write,
) -> Result<(), StoreError> {
    let io = |_| StoreError::InvalidSnapshot("archive could not be staged");
    out.write_all(MAGIC).map_err(io)?;
    let json = serde_json::to_vec(meta)
        .map_err(|_| StoreError::InvalidSnapshot("configuration not serializable"))?;
    put_section(out, &json).map_err(io)?;
    for state in states {
        put_section(out, &state.encode()).map_err(io)?;
    }
    store.snapshot(out)
}

/// Reads an archive's head from `input`, whose `size` bytes bound every section, leaving
/// it at the store's snapshot (whose bytes are checked when the store is rebuilt).
pub(super) fn read(input: &mut dyn Read, size: u64) -> Result<ArchiveHead, String> {
    let mut magic = [0u8; 8];
    if input.read_exact(&mut magic).is_err() || &magic != MAGIC {
        return Err(
            "not a Natrium stream snapshot (nats-server snapshots cannot be restored)".into(),
        );
    }
    let json = take_section(input, size)?;
    let meta: ArchiveMeta = super::request::parse(&json)
        .map_err(|_| "snapshot has a malformed stream configuration".to_string())?;
    let mut states = Vec::with_capacity(meta.consumers.len());
    for _ in &meta.consumers {
        let section = take_section(input, size)?;
        states.push(ConsumerState::decode(&section).map_err(|e| e.to_string())?);
    }
    Ok(ArchiveHead { meta, states })
}

fn put_section(out: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(bytes)?;
    out.write_all(&crc32c::crc32c(bytes).to_le_bytes())
}

/// One section; a length past the archive's `size` is truncation, not an allocation.
fn take_section(input: &mut dyn Read, size: u64) -> Result<Vec<u8>, String> {
    let truncated = || "snapshot is truncated".to_string();
    let mut length = [0u8; 4];
    input.read_exact(&mut length).map_err(|_| truncated())?;
    let length = u32::from_le_bytes(length);
    if u64::from(length) > size {
        return Err(truncated());
    }
    let mut section = vec![0u8; length as usize];
    input.read_exact(&mut section).map_err(|_| truncated())?;
    let mut checksum = [0u8; 4];
    input.read_exact(&mut checksum).map_err(|_| truncated())?;
    if crc32c::crc32c(&section).to_le_bytes() != checksum {
        return Err("snapshot section fails its checksum".into());
    }
    Ok(section)
}

/// The snapshots being sent and the restores being received, in one account.
#[derive(Default)]
pub(crate) struct Transfers {
    pub snapshots: Vec<SnapshotSession>,
    pub restores: Vec<RestoreSession>,
}

/// The client a transfer advisory names; only its account is known to the engine.
#[derive(Serialize)]
pub(super) struct Client<'a> {
    pub acc: &'a str,
}

/// `$JS.EVENT.ADVISORY.STREAM.{SNAPSHOT,RESTORE}_{CREATE,COMPLETE}.<stream>`, shaped as the
/// jsm.go schemas require (`blocks` and `block_size` in `snapshot_create`, where nats-server
/// 2.9 sends the stream state instead).
#[derive(Serialize)]
pub(super) struct TransferAdvisory<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub id: String,
    pub timestamp: String,
    pub stream: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    pub client: Client<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
}

/// Which transfer advisory.
#[derive(Debug, Clone, Copy)]
pub(super) enum TransferEvent {
    SnapshotCreate { blocks: u64, block_size: u64 },
    SnapshotComplete { start: i64 },
    RestoreCreate,
    RestoreComplete { start: i64, bytes: u64 },
}

impl Advisories {
    /// Queues a snapshot or restore advisory about `stream`, asked for from `account`.
    pub(super) fn transfer(
        &mut self,
        event: TransferEvent,
        stream: &str,
        account: &str,
        domain: Option<&str>,
        now: i64,
    ) {
        const TYPE_PREFIX: &str = "io.nats.jetstream.advisory.v1.";
        let (suffix, kind) = match event {
            TransferEvent::SnapshotCreate { .. } => ("SNAPSHOT_CREATE", "snapshot_create"),
            TransferEvent::SnapshotComplete { .. } => ("SNAPSHOT_COMPLETE", "snapshot_complete"),
            TransferEvent::RestoreCreate => ("RESTORE_CREATE", "restore_create"),
            TransferEvent::RestoreComplete { .. } => ("RESTORE_COMPLETE", "restore_complete"),
        };
        let kind = format!("{TYPE_PREFIX}{kind}");
        let mut advisory = TransferAdvisory {
            kind: &kind,
            id: self.id(now),
            timestamp: rfc3339_or_zero(now),
            stream,
            blocks: None,
            block_size: None,
            start: None,
            end: None,
            bytes: None,
            client: Client { acc: account },
            domain,
        };
        match event {
            TransferEvent::SnapshotCreate { blocks, block_size } => {
                advisory.blocks = Some(blocks);
                advisory.block_size = Some(block_size);
            }
            TransferEvent::SnapshotComplete { start } => {
                advisory.start = Some(rfc3339_or_zero(start));
                advisory.end = Some(rfc3339_or_zero(now));
            }
            TransferEvent::RestoreCreate => {}
            TransferEvent::RestoreComplete { start, bytes } => {
                advisory.start = Some(rfc3339_or_zero(start));
                advisory.end = Some(rfc3339_or_zero(now));
                advisory.bytes = Some(bytes);
            }
        }
        self.push(
            format!("$JS.EVENT.ADVISORY.STREAM.{suffix}.{stream}"),
            &advisory,
        );
    }
}

impl<P: StoreProvider> JetStreamApi<P> {
    /// Takes a snapshot ack or a restore chunk; false when `message` is neither.
    pub(super) fn transfer_message(
        &mut self,
        message: &Inbound<'_>,
        now: i64,
        out: &mut Vec<Outbound>,
    ) -> bool {
        if message.subject.starts_with(SNAPSHOT_ACK_PREFIX) {
            self.snapshot_ack(message.subject, now);
            return true;
        }
        if message.subject.starts_with(RESTORE_DELIVER_PREFIX) {
            self.restore_chunk(message, now, out);
            for (subject, body) in self.advisories.drain() {
                out.push(Outbound::reply(message.account, &subject, body));
            }
            return true;
        }
        false
    }

    /// The subjects transfers in progress listen on: snapshot acks and restore chunks.
    pub fn transfer_subjects(&self) -> Vec<String> {
        let acks = self
            .transfers
            .snapshots
            .iter()
            .map(|session| format!("{}.>", session.ack_prefix()));
        let chunks = self
            .transfers
            .restores
            .iter()
            .map(|session| session.deliver().to_string());
        acks.chain(chunks).collect()
    }

    /// Sends the snapshot chunks acks allow, ends transfers that stalled or lost their
    /// receiver, and queues what they produced for [`drain_outbox`](Self::drain_outbox).
    /// `interest` says whether a subject has subscribers.
    pub fn tick_transfers(&mut self, now: i64, interest: &dyn Fn(&str) -> bool) {
        if self.transfers.snapshots.is_empty() && self.transfers.restores.is_empty() {
            return;
        }
        self.tick_snapshots(now, interest);
        self.tick_restores(now);
        for (subject, body) in self.advisories.drain() {
            self.outbox.push(Outbound::reply(
                &Outbound::unassigned_account(),
                &subject,
                body,
            ));
        }
    }

    /// The earliest time [`tick_transfers`](Self::tick_transfers) has work.
    pub fn transfer_deadline(&self) -> Option<i64> {
        let snapshots = self
            .transfers
            .snapshots
            .iter()
            .map(SnapshotSession::deadline);
        let restores = self.transfers.restores.iter().map(RestoreSession::deadline);
        snapshots.chain(restores).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natrium_store::{MemoryStore, StoreConfig};

    #[test]
    fn an_archive_reads_back_and_refuses_damage() {
        let mut store = MemoryStore::new(StoreConfig::default()).unwrap();
        store.store("a", b"", b"one", 1).unwrap();
        let meta = ArchiveMeta {
            config: StreamConfig {
                name: "S".into(),
                ..StreamConfig::default()
            },
            created: 7,
            consumers: vec![ArchivedConsumer {
                name: "C".into(),
                ..ArchivedConsumer::default()
            }],
        };
        let mut bytes = Vec::new();
        write(&meta, &[ConsumerState::default()], &store, &mut bytes).unwrap();
        let size = bytes.len() as u64;
        let mut input = &bytes[..];
        let head = read(&mut input, size).unwrap();
        assert_eq!(head.meta.config.name, "S");
        assert_eq!(head.meta.created, 7);
        assert_eq!(head.states, [ConsumerState::default()]);
        assert!(!input.is_empty(), "the store's snapshot follows");
        for at in [0, 10, 20] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            let refused = read(&mut &damaged[..], size).is_err();
            assert!(refused, "a flipped bit at {at} is refused");
        }
        assert!(read(&mut &bytes[..12], 12).is_err());
        // A length field claiming more than the archive holds is refused without allocating.
        let mut huge = bytes[..8].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(read(&mut &huge[..], huge.len() as u64).is_err());
    }
}
