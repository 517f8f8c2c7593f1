//! Snapshot stream: the whole store as bytes, and back.
//!
//! Format: the 8-byte magic `NATRSNP1`, then one message record per live message in ascending
//! sequence (the block record format, so every message carries its checksums), then a floor
//! record whose sequence is `last_seq + 1`, marking a complete stream. A truncated, reordered or
//! bit-flipped stream is refused.

use std::io::{Read, Write};

use bytes::Bytes;

use crate::record::{self, Header, Kind, NewRecord, HEADER_BYTES};
use crate::{StoreError, StoredMsg};

const MAGIC: &[u8; 8] = b"NATRSNP1";

/// One item read back from a snapshot.
pub(crate) enum Event {
    /// A live message.
    Msg(StoredMsg),
    /// The end marker with the store's last sequence.
    End { last_seq: u64 },
}

/// Writes a snapshot of `msgs` (ascending) and `last_seq`.
pub(crate) fn write(
    out: &mut dyn Write,
    msgs: impl Iterator<Item = Result<StoredMsg, StoreError>>,
    last_seq: u64,
) -> Result<(), StoreError> {
    let io = StoreError::io("writing a snapshot");
    let mut buffer = Vec::with_capacity(64 * 1024);
    buffer.extend_from_slice(MAGIC);
    for msg in msgs {
        let msg = msg?;
        let record = NewRecord {
            kind: Kind::Msg,
            flags: 0,
            seq: msg.seq,
            timestamp: msg.timestamp,
            subject: msg.subject.as_bytes(),
            headers: &msg.headers,
            payload: &msg.payload,
        };
        record.encode_into(&mut buffer);
        if buffer.len() >= 64 * 1024 {
            out.write_all(&buffer)
                .map_err(StoreError::io("writing a snapshot"))?;
            buffer.clear();
        }
    }
    NewRecord::marker(Kind::Floor, last_seq + 1, 0).encode_into(&mut buffer);
    out.write_all(&buffer).map_err(io)
}

/// Reads a snapshot, calling `apply` per item; fails on any damage or a missing end marker.
pub(crate) fn read(
    input: &mut dyn Read,
    mut apply: impl FnMut(Event) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut magic = [0u8; 8];
    input
        .read_exact(&mut magic)
        .map_err(|_| StoreError::InvalidSnapshot("missing header"))?;
    if &magic != MAGIC {
        return Err(StoreError::InvalidSnapshot("not a natrium snapshot"));
    }
    let mut last = 0;
    let mut bytes = vec![0u8; HEADER_BYTES];
    loop {
        bytes.truncate(HEADER_BYTES);
        input
            .read_exact(&mut bytes)
            .map_err(|_| StoreError::InvalidSnapshot("truncated"))?;
        let header =
            Header::decode(&bytes).ok_or(StoreError::InvalidSnapshot("damaged record header"))?;
        bytes.resize(header.record_len(), 0);
        input
            .read_exact(&mut bytes[HEADER_BYTES..])
            .map_err(|_| StoreError::InvalidSnapshot("truncated"))?;
        let found =
            record::decode(&bytes).map_err(|_| StoreError::InvalidSnapshot("damaged record"))?;
        if found.header.seq <= last {
            return Err(StoreError::InvalidSnapshot("sequences out of order"));
        }
        match found.header.kind {
            Kind::Msg => {
                let subject = std::str::from_utf8(found.subject)
                    .ok()
                    .filter(|subject| crate::subject::is_valid_literal(subject))
                    .ok_or(StoreError::InvalidSnapshot("bad subject"))?;
                last = found.header.seq;
                apply(Event::Msg(StoredMsg {
                    seq: found.header.seq,
                    subject: subject.into(),
                    headers: Bytes::copy_from_slice(found.headers),
                    payload: Bytes::copy_from_slice(found.payload),
                    timestamp: found.header.timestamp,
                }))?;
            }
            Kind::Floor => {
                return apply(Event::End {
                    last_seq: found.header.seq - 1,
                })
            }
            Kind::Tombstone | Kind::Salt => {
                return Err(StoreError::InvalidSnapshot("unexpected record kind"))
            }
        }
    }
}
