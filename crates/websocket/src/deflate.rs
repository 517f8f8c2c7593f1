//! permessage-deflate (RFC 7692) as nats-server speaks it: raw deflate with no context kept
//! between messages in either direction, so every message stands alone and no connection
//! holds a 32 KiB window between messages.

use crate::frame::{write_frame_header_byte, OpCode, FINAL_BIT, RSV1_BIT};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const EXTENSION: &str = "permessage-deflate";

/// The response header line accepting the extension: nats-server keeps no context, and asks
/// the client to keep none either.
pub const EXTENSION_RESPONSE: &str = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";

/// Outgoing batches of at most this many bytes go uncompressed (nats-server's
/// `wsCompressThreshold`): deflate would not shrink them enough to pay for itself.
pub const COMPRESS_THRESHOLD_BYTES: usize = 64;

/// What a sync flush ends with, and what a compressed message is sent without (RFC 7692
/// 7.2.1); the receiver puts it back, with an empty final block so the stream ends cleanly.
const SYNC_FLUSH_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const INFLATE_TAIL: [u8; 9] = [0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff];

/// Inflated bytes are produced in steps of this size, so the bound is checked as they come.
const INFLATE_STEP_BYTES: usize = 32 * 1024;

/// A compressed message that cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeflateError {
    /// The message inflates (or its compressed frames add up) past the bound; nats-server's
    /// `ErrMaxPayload` text.
    #[error("maximum payload exceeded")]
    TooLarge,
    /// The payload is not a valid deflate stream.
    #[error("invalid compressed data: {0}")]
    Corrupt(String),
    /// The compressor failed (it should not: its input is any bytes).
    #[error("compression failed: {0}")]
    Compress(String),
}

/// Compresses outgoing messages; one per connection, reset for every message.
pub struct Compressor {
    deflate: Compress,
    scratch: Vec<u8>,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").finish_non_exhaustive()
    }
}

impl Compressor {
    /// A compressor at nats-server's level (`flate.BestSpeed`).
    pub fn new() -> Compressor {
        Compressor {
            deflate: Compress::new(Compression::fast(), false),
            scratch: Vec::new(),
        }
    }

    /// Appends `data` to `out` as one compressed binary message, unmasked, cut into frames of
    /// at most `fragment_bytes_max` payload bytes (the first flagged RSV1, the rest
    /// continuations), as nats-server's `wsCollapsePtoNB` does.
    pub fn write_message(
        &mut self,
        out: &mut Vec<u8>,
        data: &[u8],
        fragment_bytes_max: usize,
    ) -> Result<(), DeflateError> {
        self.deflate.reset();
        self.scratch.clear();
        let mut consumed = 0;
        loop {
            let written = self.scratch.len();
            // Deflate adds a few bytes per block at worst; the loop covers any shortfall.
            let room = data.len() - consumed + 64;
            self.scratch.resize(written + room, 0);
            let (in_before, out_before) = (self.deflate.total_in(), self.deflate.total_out());
            let result = self.deflate.compress(
                &data[consumed..],
                &mut self.scratch[written..],
                FlushCompress::Sync,
            );
            let taken = (self.deflate.total_in() - in_before) as usize;
            let produced = (self.deflate.total_out() - out_before) as usize;
            self.scratch.truncate(written + produced);
            result.map_err(|e| DeflateError::Compress(e.to_string()))?;
            consumed += taken;
            // The flush is complete once all input is in and the output did not fill up.
            if consumed == data.len() && produced < room {
                break;
            }
            if taken == 0 && produced == 0 {
                return Err(DeflateError::Compress("no progress".to_string()));
            }
        }
        if !self.scratch.ends_with(&SYNC_FLUSH_TAIL) {
            return Err(DeflateError::Compress(
                "sync flush marker missing".to_string(),
            ));
        }
        self.scratch
            .truncate(self.scratch.len() - SYNC_FLUSH_TAIL.len());
        let fragment_bytes_max = fragment_bytes_max.max(1);
        let count = self.scratch.len().div_ceil(fragment_bytes_max).max(1);
        for index in 0..count {
            let start = index * fragment_bytes_max;
            let end = (start + fragment_bytes_max).min(self.scratch.len());
            let mut first = if index == 0 {
                RSV1_BIT | OpCode::Binary.bits()
            } else {
                OpCode::Continuation.bits()
            };
            if index + 1 == count {
                first |= FINAL_BIT;
            }
            write_frame_header_byte(out, first, end - start);
            out.extend_from_slice(&self.scratch[start..end]);
        }
        Ok(())
    }
}

/// Inflates incoming messages; one per connection, reset for every message.
pub(crate) struct Inflater {
    inflate: Decompress,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    pub(crate) fn new() -> Inflater {
        Inflater {
            inflate: Decompress::new(false),
        }
    }

    /// Inflates one whole message (`compressed` holds all its frames' payload) onto `out`,
    /// refusing more than `inflated_bytes_max` bytes as nats-server's `wsDecompressAndParse`
    /// does. `compressed` gets the sync-flush tail appended.
    pub(crate) fn inflate(
        &mut self,
        compressed: &mut Vec<u8>,
        out: &mut Vec<u8>,
        inflated_bytes_max: usize,
    ) -> Result<(), DeflateError> {
        self.inflate.reset(false);
        compressed.extend_from_slice(&INFLATE_TAIL);
        let start = out.len();
        let mut consumed = 0;
        loop {
            let produced = out.len() - start;
            // One byte past the bound is enough to know it is crossed.
            let room = (inflated_bytes_max + 1 - produced).min(INFLATE_STEP_BYTES);
            out.resize(start + produced + room, 0);
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self.inflate.decompress(
                &compressed[consumed..],
                &mut out[start + produced..],
                FlushDecompress::None,
            );
            let taken = (self.inflate.total_in() - in_before) as usize;
            let made = (self.inflate.total_out() - out_before) as usize;
            out.truncate(start + produced + made);
            consumed += taken;
            if out.len() - start > inflated_bytes_max {
                out.truncate(start);
                return Err(DeflateError::TooLarge);
            }
            match status {
                Ok(Status::StreamEnd) => return Ok(()),
                Ok(_) if taken == 0 && made == 0 => {
                    out.truncate(start);
                    return Err(DeflateError::Corrupt("unexpected EOF".to_string()));
                }
                Ok(_) => {}
                Err(e) => {
                    out.truncate(start);
                    return Err(DeflateError::Corrupt(e.to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payloads of the frames `write_message` wrote, checking their first bytes.
    fn frames(mut wire: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut firsts = Vec::new();
        let mut payloads = Vec::new();
        while !wire.is_empty() {
            firsts.push(wire[0]);
            let (length, header) = match wire[1] {
                126 => (usize::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
                127 => (
                    u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (usize::from(n), 2),
            };
            payloads.push(wire[header..header + length].to_vec());
            wire = &wire[header + length..];
        }
        (firsts, payloads)
    }

    #[test]
    fn messages_round_trip_without_context() {
        let mut compressor = Compressor::new();
        let mut inflater = Inflater::new();
        for data in [
            b"MSG a 1 11\r\nhello world\r\n".repeat(40),
            vec![7u8; 100_000],
            (0..5000u32).flat_map(|n| n.to_le_bytes()).collect(),
        ] {
            let mut wire = Vec::new();
            compressor
                .write_message(&mut wire, &data, usize::MAX)
                .unwrap();
            let (firsts, payloads) = frames(&wire);
            assert_eq!(firsts, [0xC2]);
            let mut compressed = payloads.concat();
            let mut out = Vec::new();
            inflater
                .inflate(&mut compressed, &mut out, 1 << 20)
                .unwrap();
            assert_eq!(out, data);
        }
    }

    #[test]
    fn fragments_flag_only_the_first_frame() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|n| n.to_be_bytes()).collect();
        let mut wire = Vec::new();
        Compressor::new()
            .write_message(&mut wire, &data, 4096)
            .unwrap();
        let (firsts, payloads) = frames(&wire);
        assert!(payloads.len() > 2);
        assert_eq!(firsts[0], 0x42);
        assert!(firsts[1..firsts.len() - 1].iter().all(|&b| b == 0x00));
        assert_eq!(firsts[firsts.len() - 1], 0x80);
        assert!(payloads.iter().all(|p| p.len() <= 4096));
        let mut out = Vec::new();
        Inflater::new()
            .inflate(&mut payloads.concat(), &mut out, 1 << 20)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn inflating_past_the_bound_or_garbage_is_refused() {
        let mut wire = Vec::new();
        Compressor::new()
            .write_message(&mut wire, &[0u8; 10_000], usize::MAX)
            .unwrap();
        let mut compressed = frames(&wire).1.concat();
        let mut out = Vec::new();
        let mut inflater = Inflater::new();
        assert_eq!(
            inflater.inflate(&mut compressed.clone(), &mut out, 9_999),
            Err(DeflateError::TooLarge)
        );
        assert!(out.is_empty());
        inflater.inflate(&mut compressed, &mut out, 10_000).unwrap();
        assert_eq!(out.len(), 10_000);
        assert!(matches!(
            inflater.inflate(&mut vec![0xFF; 20], &mut Vec::new(), 100),
            Err(DeflateError::Corrupt(_))
        ));
    }
}
