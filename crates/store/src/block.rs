//! Block file format and the pure recovery scan over a block's bytes.
//!
//! A block starts with a 16-byte file header (`NATRBLK1`, a flags word reserved for per-block
//! compression and encryption, and a CRC-32C of the first 12 bytes) followed by records (see
//! [`crate::record`]). [`scan`] classifies every byte of a block as a verified record or damage;
//! the file store then truncates torn tails and quarantines damaged regions.

use crate::record::{self, DecodeError, Header, Kind, HEADER_BYTES, MAGIC};

/// Bytes in a block file header.
pub(crate) const FILE_HEADER_BYTES: usize = 16;
const FILE_MAGIC: &[u8; 8] = b"NATRBLK1";

/// Block header flag: the records after the header are LZ4-compressed (see `compress.rs`).
pub(crate) const FLAG_LZ4: u32 = 1;

/// The header of a plain block file (records stored as written).
pub(crate) fn file_header() -> [u8; FILE_HEADER_BYTES] {
    file_header_with(0)
}

/// A block file header with `flags` (compression today; encryption is reserved a bit later).
pub(crate) fn file_header_with(flags: u32) -> [u8; FILE_HEADER_BYTES] {
    let mut header = [0u8; FILE_HEADER_BYTES];
    header[..8].copy_from_slice(FILE_MAGIC);
    header[8..12].copy_from_slice(&flags.to_le_bytes());
    let crc = crc32c::crc32c(&header[..12]);
    header[12..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The flags of a verified block file header, `None` if the header is damaged or absent.
pub(crate) fn header_flags(bytes: &[u8]) -> Option<u32> {
    let header = bytes.get(..FILE_HEADER_BYTES)?;
    let flags = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    (header == file_header_with(flags)).then_some(flags)
}

/// A well-formed block of message records `(seq, timestamp, subject, payload)`, for tests and
/// fuzzing that start from valid bytes and damage them. Subjects must be valid literals.
pub fn build<'a>(msgs: impl IntoIterator<Item = (u64, i64, &'a str, &'a [u8])>) -> Vec<u8> {
    let mut bytes = file_header().to_vec();
    for (seq, timestamp, subject, payload) in msgs {
        let record = record::NewRecord {
            kind: Kind::Msg,
            flags: 0,
            seq,
            timestamp,
            subject: subject.as_bytes(),
            headers: b"",
            payload,
        };
        record.encode_into(&mut bytes);
    }
    bytes
}

/// A verified record found by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedRecord {
    /// Offset of the record in the block.
    pub offset: usize,
    /// Record length.
    pub len: usize,
    pub(crate) header: Header,
}

impl ScannedRecord {
    /// The record's sequence (for a floor record, the first live sequence).
    pub fn seq(&self) -> u64 {
        self.header.seq
    }
}

/// A damaged byte range found by [`scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// The block file header is missing or wrong; records after it are still scanned.
    FileHeader,
    /// Bytes that are not a valid record, followed by a valid one. Quarantined.
    Region {
        /// Offset in the block.
        offset: usize,
        /// Length in bytes.
        len: usize,
    },
    /// A record whose header verified but whose body did not; its sequence is known and lost.
    /// Quarantined.
    Record {
        /// Offset in the block.
        offset: usize,
        /// Length in bytes.
        len: usize,
        /// The lost sequence.
        seq: u64,
    },
    /// Bytes after the last valid record: an interrupted write. Truncated.
    TornTail {
        /// Offset in the block (the new length).
        offset: usize,
        /// Length in bytes.
        len: usize,
    },
}

/// What [`scan`] found in a block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockScan {
    /// Verified records in file order.
    pub records: Vec<ScannedRecord>,
    /// Damaged ranges in file order.
    pub damage: Vec<Damage>,
    /// Length of the block once a torn tail is cut off.
    pub valid_len: usize,
}

/// Scans a whole block. Never panics and never reports a record whose checksums fail; this is
/// the function the `store_recovery` fuzz target drives.
pub fn scan(bytes: &[u8]) -> BlockScan {
    let mut scan = BlockScan::default();
    let mut pos = 0;
    if bytes.len() >= FILE_HEADER_BYTES && bytes[..FILE_HEADER_BYTES] == file_header() {
        pos = FILE_HEADER_BYTES;
    } else if !bytes.is_empty() {
        scan.damage.push(Damage::FileHeader);
        pos = FILE_HEADER_BYTES.min(bytes.len());
    }
    while pos < bytes.len() {
        match record::decode(&bytes[pos..]) {
            Ok(found) => {
                let len = found.header.record_len();
                // Sealed and erased records carry no readable subject.
                let opaque =
                    found.header.flags & (record::FLAG_ENCRYPTED | record::FLAG_ERASED) != 0;
                if found.header.kind == Kind::Msg && !opaque && !valid_subject(found.subject) {
                    scan.damage.push(Damage::Record {
                        offset: pos,
                        len,
                        seq: found.header.seq,
                    });
                } else {
                    scan.records.push(ScannedRecord {
                        offset: pos,
                        len,
                        header: found.header,
                    });
                }
                pos += len;
            }
            Err(DecodeError::Body(header)) => {
                let len = header.record_len();
                scan.damage.push(Damage::Record {
                    offset: pos,
                    len,
                    seq: header.seq,
                });
                pos += len;
            }
            Err(DecodeError::Header) | Err(DecodeError::Truncated(_)) => {
                match next_header(bytes, pos + 1) {
                    Some(next) => {
                        scan.damage.push(Damage::Region {
                            offset: pos,
                            len: next - pos,
                        });
                        pos = next;
                    }
                    None => {
                        scan.damage.push(Damage::TornTail {
                            offset: pos,
                            len: bytes.len() - pos,
                        });
                        scan.valid_len = pos;
                        return scan;
                    }
                }
            }
        }
    }
    scan.valid_len = bytes.len();
    scan
}

/// Scans a block file as stored: decompresses it first if it is a compressed block. `None` if
/// it is compressed and its data fails the checksum (the whole block is lost).
pub fn scan_file(raw: &[u8]) -> Option<BlockScan> {
    match crate::compress::decode(raw, 1 << 30) {
        Ok(Some(plain)) => Some(scan(&plain)),
        Ok(None) => Some(scan(raw)),
        Err(_) => None,
    }
}

fn valid_subject(subject: &[u8]) -> bool {
    std::str::from_utf8(subject).is_ok_and(crate::subject::is_valid_literal)
}

/// The offset of the next verifiable record at or after `from`, if any.
fn next_header(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + HEADER_BYTES <= bytes.len() {
        let window = &bytes[at..];
        let hit = window
            .windows(MAGIC.len())
            .position(|candidate| candidate == MAGIC)?;
        at += hit;
        if let Some(header) = Header::decode(&bytes[at..]) {
            // A header whose body runs past the end is a torn write, not a resync point.
            if at + header.record_len() <= bytes.len() {
                return Some(at);
            }
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::NewRecord;

    fn block(msgs: &[(u64, &str, &str)]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = file_header().to_vec();
        let mut offsets = Vec::new();
        for &(seq, subject, payload) in msgs {
            offsets.push(bytes.len());
            let record = NewRecord {
                kind: Kind::Msg,
                flags: 0,
                seq,
                timestamp: 1,
                subject: subject.as_bytes(),
                headers: b"",
                payload: payload.as_bytes(),
            };
            record.encode_into(&mut bytes);
        }
        (bytes, offsets)
    }

    /// Mutates a three-record block and checks the sequences recovered and the damage reported.
    fn check(
        mutate: impl Fn(&mut Vec<u8>, &[usize]),
        seqs: &[u64],
        damage: impl Fn(&[Damage]) -> bool,
    ) {
        let (mut bytes, offsets) = block(&[(1, "a", "one"), (2, "b.c", "two"), (3, "d", "three")]);
        mutate(&mut bytes, &offsets);
        let scan = scan(&bytes);
        let got: Vec<u64> = scan.records.iter().map(ScannedRecord::seq).collect();
        assert_eq!(got, seqs);
        assert!(damage(&scan.damage), "{:?}", scan.damage);
    }

    #[test]
    fn damage_is_classified() {
        check(|_, _| {}, &[1, 2, 3], |d| d.is_empty());
        check(
            |b, _| b.truncate(b.len() - 2),
            &[1, 2],
            |d| matches!(d, [Damage::TornTail { .. }]),
        );
        check(
            |b, o| b[o[1] + 2] ^= 4,
            &[1, 3],
            |d| matches!(d, [Damage::Region { .. }]),
        );
        check(
            |b, o| b[o[1] + HEADER_BYTES + 1] ^= 4,
            &[1, 3],
            |d| matches!(d, [Damage::Record { seq: 2, .. }]),
        );
        check(
            |b, o| b[o[1] + 33] ^= 1,
            &[1, 3],
            |d| matches!(d, [Damage::Region { .. }]),
        );
        check(
            |b, _| b[3] ^= 1,
            &[1, 2, 3],
            |d| matches!(d, [Damage::FileHeader]),
        );
        check(
            |b, o| b.truncate(o[0] + 5),
            &[],
            |d| matches!(d, [Damage::TornTail { .. }]),
        );
        assert_eq!(scan(&[]), BlockScan::default());
    }
}
