//! WebSocket frames: a streaming decoder for what clients send and the header writer for what
//! the server sends, with nats-server's checks and close texts (`server/websocket.go`).
//!
//! The decoder never buffers a data frame: payload bytes are unmasked as they arrive and
//! appended to the caller's buffer, so a frame split across reads at any byte decodes the
//! same, and memory stays bounded by the read size. Control frames (at most 125 bytes) are
//! gathered whole and reported as [`Event`]s.

/// The largest control frame payload (RFC 6455 5.5).
pub const MAX_CONTROL_PAYLOAD_BYTES: usize = 125;

const FINAL_BIT: u8 = 0x80;
const RSV1_BIT: u8 = 0x40;
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

    fn bits(self) -> u8 {
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
        /// The status to echo (1005 when the client sent none).
        status: u16,
        /// The reason to echo.
        reason: String,
    },
}

/// A frame that ends the connection: the close frame to send and why.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FrameError {}

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
    control: Vec<u8>,
    frame_payload_bytes_max: u64,
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
            control: Vec::new(),
            frame_payload_bytes_max,
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
                    buf.copy_within(read..read + take, written);
                    self.unmask_payload(&mut buf[written..written + take]);
                    written += take;
                    read += take;
                    self.remaining -= take as u64;
                    if self.remaining == 0 {
                        self.state = State::Header;
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
            }
            OpCode::Text | OpCode::Binary => {
                if self.in_message {
                    return Err(FrameError::protocol(
                        "new message started before final frame for previous message was received",
                    ));
                }
                self.in_message = !is_final;
            }
            OpCode::Continuation => {
                if !self.in_message || compressed {
                    return Err(FrameError::protocol("invalid continuation frame"));
                }
                self.in_message = !is_final;
            }
        }
        // No extension is negotiated that would give the reserved bits a meaning.
        if compressed || b0 & RSV2_RSV3_BITS != 0 {
            return Err(FrameError::protocol("reserved bits set without extension"));
        }
        if !op.is_control() && length > self.frame_payload_bytes_max {
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
        }
        Ok(false)
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

/// The answer to a client's close frame, as nats-server's `wsHandleControlFrame` builds it:
/// the status echoed (1005 if none), and 1007 for a reason that is not UTF-8.
fn close_event(payload: &[u8]) -> Event {
    if payload.len() < 2 {
        return Event::Close {
            status: CloseStatus::NoStatusReceived as u16,
            reason: String::new(),
        };
    }
    let status = u16::from_be_bytes([payload[0], payload[1]]);
    if !close_status_may_be_sent(status) {
        // nats-server echoes any status; RFC 6455 forbids sending these back, so Natrium
        // answers as a protocol error (what Autobahn's close tests expect).
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

/// Whether `status` may appear in a close frame (RFC 6455 7.4): the defined codes that
/// are not reserved for local use, and the registered and private ranges.
fn close_status_may_be_sent(status: u16) -> bool {
    matches!(status, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// Appends an unmasked, final, uncompressed frame header for `length` payload bytes.
pub fn write_frame_header(out: &mut Vec<u8>, op: OpCode, length: usize) {
    out.push(FINAL_BIT | op.bits());
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
mod tests {
    use super::*;

    fn masked_frame(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut frame = vec![first];
        if payload.len() <= 125 {
            frame.push(MASK_BIT | payload.len() as u8);
        } else {
            frame.push(MASK_BIT | 126);
            frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        frame
    }

    /// Decodes `input` fed in pieces of every size from 1 up, and checks each gives `expected`.
    fn check(input: &[u8], expected: Result<(&[u8], Vec<Event>), FrameError>) {
        for piece in 1..=input.len().max(1) {
            let mut decoder = Decoder::new(true, 1 << 20);
            let mut payload = Vec::new();
            let mut events = Vec::new();
            let mut result = Ok(());
            for chunk in input.chunks(piece) {
                result = decoder.decode(chunk, &mut payload, &mut events);
                if result.is_err() || matches!(events.last(), Some(Event::Close { .. })) {
                    break;
                }
            }
            match &expected {
                Ok((data, want)) => {
                    assert_eq!(result, Ok(()), "piece {piece}");
                    assert_eq!(&payload[..], *data, "piece {piece}");
                    assert_eq!(&events, want, "piece {piece}");
                }
                Err(error) => assert_eq!(result.as_ref(), Err(error), "piece {piece}"),
            }
        }
    }

    #[test]
    fn fragmented_messages_and_control_frames_between_fragments() {
        let mut input = masked_frame(0x02, b"PUB a 2\r\n", [1, 2, 3, 4]);
        input.extend(masked_frame(0x89, b"hi", [5, 6, 7, 8]));
        input.extend(masked_frame(0x80, b"ok\r\n", [9, 9, 9, 9]));
        input.extend(masked_frame(0x81, &[b'x'; 300], [1, 0, 0, 1]));
        let mut data = b"PUB a 2\r\nok\r\n".to_vec();
        data.extend([b'x'; 300]);
        check(&input, Ok((&data, vec![Event::Ping(b"hi".to_vec())])));
    }

    #[test]
    fn close_frames_echo_their_status_or_1005_or_1007() {
        let mut close = 1001u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"bye");
        let event = |status, reason: &str| Event::Close {
            status,
            reason: reason.into(),
        };
        check(
            &masked_frame(0x88, &close, [1, 2, 3, 4]),
            Ok((b"", vec![event(1001, "bye")])),
        );
        check(
            &masked_frame(0x88, b"", [1, 2, 3, 4]),
            Ok((b"", vec![event(1005, "")])),
        );
        check(
            &masked_frame(0x88, &[0x03, 0xE8, 0xFF, 0xFE], [1, 2, 3, 4]),
            Ok((b"", vec![event(1007, "invalid utf8 body in close frame")])),
        );
        check(
            &masked_frame(0x88, &1005u16.to_be_bytes(), [1, 2, 3, 4]),
            Ok((b"", vec![event(1002, "invalid close status code 1005")])),
        );
    }

    #[test]
    fn protocol_errors_as_nats_server_words_them() {
        let protocol = |text: &str| Err(FrameError::protocol(text));
        check(&[0x82, 0x01, b'x'], protocol("mask bit missing"));
        check(
            &masked_frame(0x83, b"", [1; 4]),
            protocol("unknown opcode 3"),
        );
        check(
            &masked_frame(0x09, b"", [1; 4]),
            protocol("control frame does not have final bit set"),
        );
        check(
            &masked_frame(0x80, b"x", [1; 4]),
            protocol("invalid continuation frame"),
        );
        let mut two_starts = masked_frame(0x02, b"a", [1; 4]);
        two_starts.extend(masked_frame(0x02, b"b", [1; 4]));
        check(
            &two_starts,
            protocol("new message started before final frame for previous message was received"),
        );
        check(
            &masked_frame(0xC2, b"x", [1; 4]),
            protocol("reserved bits set without extension"),
        );
    }

    #[test]
    fn a_data_frame_over_the_bound_is_message_too_big() {
        let mut decoder = Decoder::new(true, 100);
        let frame = masked_frame(0x82, &[0; 101], [1; 4]);
        let error = decoder
            .decode(&frame, &mut Vec::new(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(error.status, CloseStatus::MessageTooBig);
    }

    #[test]
    fn unmasked_frames_from_a_no_masking_peer() {
        let mut decoder = Decoder::new(false, 100);
        let mut payload = Vec::new();
        decoder
            .decode(
                &[0x82, 0x03, b'a', b'b', b'c'],
                &mut payload,
                &mut Vec::new(),
            )
            .unwrap();
        assert_eq!(payload, b"abc");
    }

    #[test]
    fn headers_and_close_payloads() {
        let mut out = Vec::new();
        write_frame_header(&mut out, OpCode::Binary, 5);
        write_frame_header(&mut out, OpCode::Binary, 300);
        write_frame_header(&mut out, OpCode::Binary, 70_000);
        assert_eq!(
            out,
            [
                &[0x82, 5][..],
                &[0x82, 126, 1, 44],
                &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
            ]
            .concat()
        );
        let long = close_payload(1008, &"é".repeat(100));
        assert!(long.len() <= MAX_CONTROL_PAYLOAD_BYTES && long.ends_with(b"..."));
        assert_eq!(
            close_payload(1000, "Client Closed"),
            b"\x03\xe8Client Closed"
        );
    }
}
