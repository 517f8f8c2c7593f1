//! WebSocket frames: a streaming decoder for what clients send and the header writer for what
//! the server sends, with nats-server's checks and close texts (`server/websocket.go`).
//!
//! The decoder never buffers a data frame: payload bytes are unmasked as they arrive and
//! appended to the caller's buffer, so a frame split across reads at any byte decodes the
//! same, and memory stays bounded by the read size. Control frames (at most 125 bytes) are
//! gathered whole and reported as [`Event`]s. A compressed message (permessage-deflate) is
//! the exception: its frames are gathered, bounded, and inflated once the message is whole,
//! into [`Decoder::pending`].

use crate::deflate::{DeflateError, Inflater};

/// The largest control frame payload (RFC 6455 5.5).
pub const MAX_CONTROL_PAYLOAD_BYTES: usize = 125;

pub(crate) const FINAL_BIT: u8 = 0x80;
pub(crate) const RSV1_BIT: u8 = 0x40;
const RSV2_RSV3_BITS: u8 = 0x30;
const MASK_BIT: u8 = 0x80;

/// A frame's opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// 0: the rest of a fragmented message.
    Continuation,
    /// 1: a text message (NATS protocol, as a binary message).
    Text,
    /// 2: a binary message.
    Binary,
    /// 8: close, with an optional status and reason.
    Close,
    /// 9: ping.
    Ping,
    /// 10: pong.
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0 => OpCode::Continuation,
            1 => OpCode::Text,
            2 => OpCode::Binary,
            8 => OpCode::Close,
            9 => OpCode::Ping,
            10 => OpCode::Pong,
            _ => return None,
        })
    }

    pub(crate) fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0,
            OpCode::Text => 1,
            OpCode::Binary => 2,
            OpCode::Close => 8,
            OpCode::Ping => 9,
            OpCode::Pong => 10,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// Close statuses nats-server sends (RFC 6455 7.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseStatus {
    /// The client closed.
    NormalClosure = 1000,
    /// The server is shutting down.
    GoingAway = 1001,
    /// A frame or protocol error.
    ProtocolError = 1002,
    /// A close frame without a status.
    NoStatusReceived = 1005,
    /// Read or write errors, a stale connection.
    AbnormalClosure = 1006,
    /// A close reason that is not UTF-8.
    InvalidPayloadData = 1007,
    /// Authentication, limits, slow consumers.
    PolicyViolation = 1008,
    /// A message or frame too large.
    MessageTooBig = 1009,
    /// Anything else.
    InternalServerError = 1011,
    /// A failed TLS handshake.
    TlsHandshake = 1015,
}

/// What a client frame asks of the connection, besides payload bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Answer with a pong carrying this payload.
    Ping(Vec<u8>),
    /// The client closed; the server answers with this status and reason, then closes.
    Close {
        /// The status to echo; 1005 when the client sent none, answered with an empty close
        /// frame since 1005 may not be sent (see [`Event::close_payload`]).
        status: u16,
        /// The reason to echo.
        reason: String,
    },
}

impl Event {
    /// For a `Close`, the payload of the close frame that answers it: empty when the client
    /// sent no status, else the status and reason (cut to fit).
    pub fn close_payload(&self) -> Option<Vec<u8>> {
        match self {
            Event::Close { status, .. } if *status == CloseStatus::NoStatusReceived as u16 => {
                Some(Vec::new())
            }
            Event::Close { status, reason } => Some(close_payload(*status, reason)),
            Event::Ping(_) => None,
        }
    }
}

/// A frame that ends the connection: the close frame to send and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameError {
    /// The close status.
    pub status: CloseStatus,
    /// The close reason, as nats-server words it.
    pub message: String,
}

impl FrameError {
    fn protocol(message: impl Into<String>) -> FrameError {
        FrameError {
            status: CloseStatus::ProtocolError,
            message: message.into(),
        }
    }
}

impl From<DeflateError> for FrameError {
    fn from(error: DeflateError) -> FrameError {
        let status = match error {
            DeflateError::TooLarge => CloseStatus::MessageTooBig,
            _ => CloseStatus::ProtocolError,
        };
        FrameError {
            status,
            message: error.to_string(),
        }
    }
}

/// Where the decoder is within the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Gathering a frame header (2 to 14 bytes).
    Header,
    /// Inside a data frame's payload.
    Payload,
    /// Inside a control frame's payload.
    Control(OpCode),
}

/// Buffers a connection keeps between messages are given back past this capacity, so one
/// large compressed message does not pin its memory for the connection's life.
const RETAINED_BYTES_MAX: usize = 64 * 1024;

/// The inbound half of permessage-deflate.
#[derive(Debug)]
struct Inflation {
    inflater: Inflater,
    /// The largest message inflated (nats-server: `max_payload`).
    inflated_bytes_max: usize,
    /// The compressed payload of the message in progress, unmasked.
    compressed: Vec<u8>,
}

/// Decodes the frames a client sends.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    header: [u8; 14],
    header_len: usize,
    /// Clients must mask; trusted peers that asked for `Nats-No-Masking` do not.
    masked: bool,
    mask_key: [u8; 4],
    mask_pos: usize,
    /// Payload bytes left in the current frame.
    remaining: u64,
    /// A text or binary message has begun and its final frame has not come yet.
    in_message: bool,
    /// The message in progress is compressed (its first frame had RSV1).
    compressed_message: bool,
    control: Vec<u8>,
    frame_payload_bytes_max: u64,
    /// Set when permessage-deflate was negotiated.
    inflation: Option<Inflation>,
    /// Payload decoded but not yet handed over, from `pending_taken` on.
    pending: Vec<u8>,
    pending_taken: usize,
}

impl Decoder {
    /// A decoder for a client that masks (`masked`) or not, refusing data frames larger than
    /// `frame_payload_bytes_max`.
    pub fn new(masked: bool, frame_payload_bytes_max: u64) -> Decoder {
        Decoder {
            state: State::Header,
            header: [0; 14],
            header_len: 0,
            masked,
            mask_key: [0; 4],
            mask_pos: 0,
            remaining: 0,
            in_message: false,
            compressed_message: false,
            control: Vec::new(),
            frame_payload_bytes_max,
            inflation: None,
            pending: Vec::new(),
            pending_taken: 0,
        }
    }

    /// Accepts compressed messages (permessage-deflate was negotiated), inflating each to at
    /// most `inflated_bytes_max` bytes. Their compressed frames together are bounded by the
    /// data-frame bound.
    pub fn with_compression(mut self, inflated_bytes_max: usize) -> Decoder {
        self.inflation = Some(Inflation {
            inflater: Inflater::new(),
            inflated_bytes_max,
            compressed: Vec::new(),
        });
        self
    }

    /// Payload decoded but not placed at the front of the buffer by
    /// [`Decoder::decode_in_place`]: inflated messages, and whatever followed one in the same
    /// input. It comes after the bytes `decode_in_place` returned, and must be taken (see
    /// [`Decoder::consume_pending`]) before more input is decoded. Always empty without
    /// compression.
    pub fn pending(&self) -> &[u8] {
        &self.pending[self.pending_taken..]
    }

    /// Marks the first `count` bytes of [`Decoder::pending`] as handed over.
    pub fn consume_pending(&mut self, count: usize) {
        self.pending_taken = (self.pending_taken + count).min(self.pending.len());
        if self.pending_taken == self.pending.len() {
            self.pending.clear();
            self.pending_taken = 0;
            if self.pending.capacity() > RETAINED_BYTES_MAX {
                self.pending = Vec::new();
            }
        }
    }

    /// Decodes all of `input`: data payload is appended to `payload`, control frames are
    /// pushed to `events`. After a `Close` event the rest of `input` is ignored. An error
    /// ends the connection; its status and text go into the server's close frame.
    pub fn decode(
        &mut self,
        input: &[u8],
        payload: &mut Vec<u8>,
        events: &mut Vec<Event>,
    ) -> Result<(), FrameError> {
        let start = payload.len();
        payload.extend_from_slice(input);
        let (written, result) = self.decode_in_place(&mut payload[start..], events);
        payload.truncate(start + written);
        payload.extend_from_slice(self.pending());
        self.consume_pending(usize::MAX);
        result
    }

    /// Decodes `buf` where it lies: the data payload it holds is moved to its front (payload
    /// never outruns the bytes it came in, so nothing is overwritten before it is read) and
    /// unmasked there. Returns how many payload bytes now lead `buf`, and the error, if any,
    /// that stopped decoding; as [`Decoder::decode`] otherwise.
    pub fn decode_in_place(
        &mut self,
        buf: &mut [u8],
        events: &mut Vec<Event>,
    ) -> (usize, Result<(), FrameError>) {
        let mut read = 0;
        let mut written = 0;
        while read < buf.len() {
            let available = buf.len() - read;
            match self.state {
                State::Header => {
                    let take = (self.header_bytes_needed() - self.header_len).min(available);
                    self.header[self.header_len..self.header_len + take]
                        .copy_from_slice(&buf[read..read + take]);
                    self.header_len += take;
                    read += take;
                    // The length bytes may reveal that more header is needed.
                    if self.header_len == self.header_bytes_needed() {
                        match self.start_frame(events) {
                            Ok(false) => {}
                            Ok(true) => break,
                            Err(error) => return (written, Err(error)),
                        }
                    }
                }
                State::Payload => {
                    let take = usize::try_from(self.remaining)
                        .unwrap_or(usize::MAX)
                        .min(available);
                    if !self.compressed_message && self.pending.is_empty() {
                        buf.copy_within(read..read + take, written);
                        self.unmask_payload(&mut buf[written..written + take]);
                        written += take;
                    } else {
                        self.unmask_payload(&mut buf[read..read + take]);
                        let chunk = &buf[read..read + take];
                        match &mut self.inflation {
                            Some(inflation) if self.compressed_message => {
                                inflation.compressed.extend_from_slice(chunk)
                            }
                            // Payload after an inflated message waits behind it.
                            _ => self.pending.extend_from_slice(chunk),
                        }
                    }
                    read += take;
                    self.remaining -= take as u64;
                    if self.remaining == 0 {
                        self.state = State::Header;
                        if let Err(error) = self.end_data_frame() {
                            return (written, Err(error));
                        }
                    }
                }
                State::Control(op) => {
                    let take = (self.remaining as usize).min(available);
                    let start = self.control.len();
                    self.control.extend_from_slice(&buf[read..read + take]);
                    let mut control = std::mem::take(&mut self.control);
                    self.unmask_payload(&mut control[start..]);
                    self.control = control;
                    read += take;
                    self.remaining -= take as u64;
                    if self.remaining == 0 {
                        self.state = State::Header;
                        if self.end_control(op, events) {
                            break;
                        }
                    }
                }
            }
        }
        (written, Ok(()))
    }

    /// How long the header in progress is, as far as its first two bytes tell.
    fn header_bytes_needed(&self) -> usize {
        if self.header_len < 2 {
            return 2;
        }
        let length_bytes = match self.header[1] & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask_bytes = if self.header[1] & MASK_BIT != 0 { 4 } else { 0 };
        2 + length_bytes + mask_bytes
    }

    /// Checks a complete header, in nats-server's order, and enters its payload; true when
    /// it was an empty close frame (nothing after it counts).
    fn start_frame(&mut self, events: &mut Vec<Event>) -> Result<bool, FrameError> {
        let b0 = self.header[0];
        let b1 = self.header[1];
        self.header_len = 0;
        let is_final = b0 & FINAL_BIT != 0;
        let compressed = b0 & RSV1_BIT != 0;
        if b0 & RSV2_RSV3_BITS != 0 {
            return Err(FrameError::protocol("RSV2 and RSV3 must be clear"));
        }
        if compressed && self.inflation.is_none() {
            return Err(FrameError::protocol(
                "compressed frame received without negotiated permessage-deflate",
            ));
        }
        if self.masked && b1 & MASK_BIT == 0 {
            return Err(FrameError::protocol("mask bit missing"));
        }
        let bits = b0 & 0x0F;
        let op = OpCode::from_bits(bits)
            .ok_or_else(|| FrameError::protocol(format!("unknown opcode {bits}")))?;
        let (length, rest) = match b1 & 0x7F {
            126 => (
                u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
                4,
            ),
            127 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&self.header[2..10]);
                (u64::from_be_bytes(bytes), 10)
            }
            short => (u64::from(short), 2),
        };
        match op {
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                if length > MAX_CONTROL_PAYLOAD_BYTES as u64 {
                    return Err(FrameError::protocol(format!(
                        "control frame length bigger than maximum allowed of {MAX_CONTROL_PAYLOAD_BYTES} bytes"
                    )));
                }
                if !is_final {
                    return Err(FrameError::protocol(
                        "control frame does not have final bit set",
                    ));
                }
                if compressed {
                    return Err(FrameError::protocol("control frame must not be compressed"));
                }
            }
            OpCode::Text | OpCode::Binary => {
                if self.in_message {
                    return Err(FrameError::protocol(
                        "new message started before final frame for previous message was received",
                    ));
                }
                self.in_message = !is_final;
                self.compressed_message = compressed;
            }
            OpCode::Continuation => {
                if !self.in_message || compressed {
                    return Err(FrameError::protocol("invalid continuation frame"));
                }
                self.in_message = !is_final;
            }
        }
        if length >> 63 != 0 {
            return Err(FrameError::protocol("invalid 64-bit payload length"));
        }
        if let Some(inflation) = self.inflation.as_ref().filter(|_| self.compressed_message) {
            // nats-server bounds a compressed message's frames together, as it gathers them.
            if !op.is_control()
                && inflation.compressed.len() as u64 + length > self.frame_payload_bytes_max
            {
                return Err(DeflateError::TooLarge.into());
            }
        } else if !op.is_control() && length > self.frame_payload_bytes_max {
            return Err(FrameError {
                status: CloseStatus::MessageTooBig,
                message: format!(
                    "frame payload of {length} bytes exceeds the maximum of {} bytes",
                    self.frame_payload_bytes_max
                ),
            });
        }
        if b1 & MASK_BIT != 0 {
            self.mask_key.copy_from_slice(&self.header[rest..rest + 4]);
        } else {
            self.mask_key = [0; 4];
        }
        self.mask_pos = 0;
        self.remaining = length;
        if op.is_control() {
            self.control.clear();
            self.state = State::Control(op);
            if length == 0 {
                self.state = State::Header;
                return Ok(self.end_control(op, events));
            }
        } else if length > 0 {
            self.state = State::Payload;
        } else {
            self.end_data_frame()?;
        }
        Ok(false)
    }

    /// A data frame's payload is all in: a compressed message that it ends is inflated.
    fn end_data_frame(&mut self) -> Result<(), FrameError> {
        if !self.compressed_message || self.in_message {
            return Ok(());
        }
        self.compressed_message = false;
        let Some(inflation) = &mut self.inflation else {
            return Ok(());
        };
        let result = inflation.inflater.inflate(
            &mut inflation.compressed,
            &mut self.pending,
            inflation.inflated_bytes_max,
        );
        inflation.compressed.clear();
        if inflation.compressed.capacity() > RETAINED_BYTES_MAX {
            inflation.compressed = Vec::new();
        }
        Ok(result?)
    }

    /// Reports a complete control frame; true for a close (nothing after it counts).
    fn end_control(&mut self, op: OpCode, events: &mut Vec<Event>) -> bool {
        let payload = std::mem::take(&mut self.control);
        match op {
            OpCode::Ping => events.push(Event::Ping(payload)),
            OpCode::Close => {
                events.push(close_event(&payload));
                return true;
            }
            _ => {}
        }
        false
    }

    fn unmask_payload(&mut self, data: &mut [u8]) {
        if self.mask_key == [0; 4] {
            return;
        }
        // The key rotated so that data[0] meets the key byte due next.
        let mut key = [0u8; 4];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = self.mask_key[(self.mask_pos + i) & 3];
        }
        // Eight bytes per step: unmasking is on every byte a client sends.
        let wide = u64::from_ne_bytes([
            key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
        ]);
        let mut chunks = data.chunks_exact_mut(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
        }
        for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
            *byte ^= key[i & 3];
        }
        self.mask_pos = (self.mask_pos + data.len()) & 3;
    }
}

/// The answer to a client's close frame, as nats-server's `wsHandleControlFrame` builds it
/// (2.12.15 on): the status echoed (none if none), 1007 for a reason that is not UTF-8, and
/// a protocol error for a 1-byte payload or a status that may not be sent.
fn close_event(payload: &[u8]) -> Event {
    match payload.len() {
        0 => {
            return Event::Close {
                status: CloseStatus::NoStatusReceived as u16,
                reason: String::new(),
            }
        }
        1 => {
            return Event::Close {
                status: CloseStatus::ProtocolError as u16,
                reason: "close frame payload cannot be 1 byte".to_string(),
            }
        }
        _ => {}
    }
    let status = u16::from_be_bytes([payload[0], payload[1]]);
    if !close_status_may_be_sent(status) {
        return Event::Close {
            status: CloseStatus::ProtocolError as u16,
            reason: format!("invalid close status code {status}"),
        };
    }
    match std::str::from_utf8(&payload[2..]) {
        Ok(reason) => Event::Close {
            status,
            reason: reason.to_string(),
        },
        Err(_) => Event::Close {
            status: CloseStatus::InvalidPayloadData as u16,
            reason: "invalid utf8 body in close frame".to_string(),
        },
    }
}

/// Whether `status` may appear in a close frame (RFC 6455 7.4, nats-server's
/// `wsIsValidCloseStatus`): not 1004-1006 or 1015, not the reserved 1016-2999.
fn close_status_may_be_sent(status: u16) -> bool {
    matches!(status, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Appends an unmasked, final, uncompressed frame header for `length` payload bytes.
pub fn write_frame_header(out: &mut Vec<u8>, op: OpCode, length: usize) {
    write_frame_header_byte(out, FINAL_BIT | op.bits(), length);
}

/// Appends an unmasked frame header whose first byte (final bit, RSV1, opcode) is `first`.
pub(crate) fn write_frame_header_byte(out: &mut Vec<u8>, first: u8, length: usize) {
    out.push(first);
    if length <= 125 {
        out.push(length as u8);
    } else if length <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(length as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(length as u64).to_be_bytes());
    }
}

/// A close frame's payload: the status, then the reason cut to fit a control frame with
/// "..." as nats-server's `wsCreateCloseMessage` does.
pub fn close_payload(status: u16, reason: &str) -> Vec<u8> {
    let mut reason = reason;
    let mut ellipsis = "";
    if reason.len() > MAX_CONTROL_PAYLOAD_BYTES - 2 {
        let mut cut = MAX_CONTROL_PAYLOAD_BYTES - 5;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason = &reason[..cut];
        ellipsis = "...";
    }
    let mut payload = Vec::with_capacity(2 + reason.len() + ellipsis.len());
    payload.extend_from_slice(&status.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    payload.extend_from_slice(ellipsis.as_bytes());
    payload
}

#[cfg(test)]
mod tests;
