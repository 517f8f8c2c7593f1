//! The on-disk record codec shared by block files and snapshots. Pure: bytes in, bytes out.
//!
//! A record is a 40-byte header and a body (subject, headers, payload):
//!
//! | offset | size | field                                                    |
//! |--------|------|----------------------------------------------------------|
//! | 0      | 4    | magic `A7 4E 52 43`, lets recovery resynchronise         |
//! | 4      | 1    | kind: 1 message, 2 tombstone, 3 floor, 4 salt            |
//! | 5      | 1    | flags: bit 0 erased, bit 1 encrypted                     |
//! | 6      | 2    | subject length (LE, as all integers)                     |
//! | 8      | 4    | headers length                                           |
//! | 12     | 4    | payload length                                           |
//! | 16     | 8    | sequence (floor: first live sequence)                    |
//! | 24     | 8    | timestamp, nanoseconds since the epoch                   |
//! | 32     | 4    | CRC-32C of the body                                      |
//! | 36     | 4    | CRC-32C of bytes 0..36                                   |
//!
//! The header has its own checksum so a corrupt length is never trusted: recovery can skip a
//! record whose body is damaged, and search forward for the next magic when the header is.

use crate::limits::MAX_BODY_BYTES;

/// Bytes in a record header.
pub(crate) const HEADER_BYTES: usize = 40;
/// Marks the start of every record.
pub(crate) const MAGIC: [u8; 4] = [0xA7, 0x4E, 0x52, 0x43];
/// Flag: the record's body was overwritten with zeros by `remove(seq, erase = true)`.
pub(crate) const FLAG_ERASED: u8 = 1;
/// Flag: the record's payload is a sealed message body (see `encrypt.rs`); subject and headers
/// lengths are zero.
pub(crate) const FLAG_ENCRYPTED: u8 = 2;

/// What a record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A stored message.
    Msg = 1,
    /// The message at `seq` was removed.
    Tombstone = 2,
    /// Every message below `seq` was removed, and `seq - 1` was assigned.
    Floor = 3,
    /// The block's encryption salt, carried in the sequence field.
    Salt = 4,
}

/// A decoded, checksum-verified header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub kind: Kind,
    pub flags: u8,
    pub subject_len: u16,
    pub headers_len: u32,
    pub payload_len: u32,
    pub seq: u64,
    pub timestamp: i64,
    pub body_crc: u32,
}

impl Header {
    /// Body length in bytes.
    pub fn body_len(&self) -> usize {
        usize::from(self.subject_len) + self.headers_len as usize + self.payload_len as usize
    }

    /// Whole record length in bytes.
    pub fn record_len(&self) -> usize {
        HEADER_BYTES + self.body_len()
    }

    /// Decodes and verifies a header; `None` if the magic, checksum, kind or lengths are wrong.
    pub fn decode(bytes: &[u8]) -> Option<Header> {
        let bytes: &[u8; HEADER_BYTES] = bytes.get(..HEADER_BYTES)?.try_into().ok()?;
        if bytes[..4] != MAGIC || crc32c::crc32c(&bytes[..36]) != le_u32(bytes, 36) {
            return None;
        }
        let kind = match bytes[4] {
            1 => Kind::Msg,
            2 => Kind::Tombstone,
            3 => Kind::Floor,
            4 => Kind::Salt,
            _ => return None,
        };
        let header = Header {
            kind,
            flags: bytes[5],
            subject_len: u16::from_le_bytes([bytes[6], bytes[7]]),
            headers_len: le_u32(bytes, 8),
            payload_len: le_u32(bytes, 12),
            seq: u64::from_le_bytes(bytes[16..24].try_into().ok()?),
            timestamp: i64::from_le_bytes(bytes[24..32].try_into().ok()?),
            body_crc: le_u32(bytes, 32),
        };
        let body_ok =
            u64::from(header.headers_len) + u64::from(header.payload_len) <= MAX_BODY_BYTES;
        let shape_ok = kind == Kind::Msg || header.body_len() == 0;
        (body_ok && shape_ok && header.seq > 0).then_some(header)
    }
}

fn le_u32(bytes: &[u8; HEADER_BYTES], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A verified record borrowing its body from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub header: Header,
    pub subject: &'a [u8],
    pub headers: &'a [u8],
    pub payload: &'a [u8],
}

/// Why a record failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Header magic or checksum wrong: the lengths cannot be trusted.
    Header,
    /// Header fine but the input ends before the body does.
    Truncated(Header),
    /// Header fine, body checksum wrong.
    Body(Header),
}

/// Decodes and verifies the record at the start of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record<'_>, DecodeError> {
    let header = Header::decode(bytes).ok_or(DecodeError::Header)?;
    let body = bytes
        .get(HEADER_BYTES..header.record_len())
        .ok_or(DecodeError::Truncated(header))?;
    if crc32c::crc32c(body) != header.body_crc {
        return Err(DecodeError::Body(header));
    }
    let (subject, rest) = body.split_at(usize::from(header.subject_len));
    let (headers, payload) = rest.split_at(header.headers_len as usize);
    Ok(Record {
        header,
        subject,
        headers,
        payload,
    })
}

/// Fields of a record to encode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRecord<'a> {
    pub kind: Kind,
    pub flags: u8,
    pub seq: u64,
    pub timestamp: i64,
    pub subject: &'a [u8],
    pub headers: &'a [u8],
    pub payload: &'a [u8],
}

impl NewRecord<'_> {
    /// A body-less record (tombstone or floor).
    pub fn marker(kind: Kind, seq: u64, timestamp: i64) -> NewRecord<'static> {
        NewRecord {
            kind,
            flags: 0,
            seq,
            timestamp,
            subject: b"",
            headers: b"",
            payload: b"",
        }
    }

    /// Encoded length.
    pub fn len(&self) -> usize {
        HEADER_BYTES + self.subject.len() + self.headers.len() + self.payload.len()
    }

    /// Appends the encoded record to `out`. Lengths are checked by the caller (`limits::admit`).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut body_crc = crc32c::crc32c(self.subject);
        body_crc = crc32c::crc32c_append(body_crc, self.headers);
        body_crc = crc32c::crc32c_append(body_crc, self.payload);
        out.extend_from_slice(&MAGIC);
        out.push(self.kind as u8);
        out.push(self.flags);
        out.extend_from_slice(&(self.subject.len() as u16).to_le_bytes());
        out.extend_from_slice(&(self.headers.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.timestamp.to_le_bytes());
        out.extend_from_slice(&body_crc.to_le_bytes());
        let header_crc = crc32c::crc32c(&out[start..start + 36]);
        out.extend_from_slice(&header_crc.to_le_bytes());
        out.extend_from_slice(self.subject);
        out.extend_from_slice(self.headers);
        out.extend_from_slice(self.payload);
        // Assert at the write end of the storage boundary too: what we hand to the disk decodes.
        debug_assert!(decode(&out[start..]).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(record: NewRecord<'_>) {
        let mut out = Vec::new();
        record.encode_into(&mut out);
        assert_eq!(out.len(), record.len());
        let decoded = decode(&out).expect("round trip");
        assert_eq!(decoded.header.seq, record.seq);
        assert_eq!(decoded.header.kind, record.kind);
        assert_eq!(decoded.header.timestamp, record.timestamp);
        assert_eq!(
            (decoded.subject, decoded.headers, decoded.payload),
            (record.subject, record.headers, record.payload)
        );
        // Every single-bit flip anywhere in the record is caught.
        for bit in 0..out.len() * 8 {
            let mut flipped = out.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(decode(&flipped).is_err(), "bit {bit} flip went unnoticed");
        }
        assert!(matches!(
            decode(&out[..out.len() - 1]),
            Err(DecodeError::Truncated(_)) | Err(DecodeError::Header)
        ));
    }

    #[test]
    fn round_trip_and_bit_flips() {
        check(NewRecord {
            kind: Kind::Msg,
            flags: 0,
            seq: 7,
            timestamp: -3,
            subject: b"a.b",
            headers: b"NATS/1.0\r\n\r\n",
            payload: b"hi",
        });
        check(NewRecord {
            kind: Kind::Msg,
            flags: 0,
            seq: u64::MAX,
            timestamp: i64::MAX,
            subject: b"x",
            headers: b"",
            payload: b"",
        });
        check(NewRecord::marker(Kind::Tombstone, 9, 0));
        check(NewRecord::marker(Kind::Floor, 1, 5));
    }
}
