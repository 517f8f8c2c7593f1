//! What the server writes to clients: MSG, HMSG, INFO, PING/PONG, +OK and -ERR.
//!
//! Everything appends to a caller-owned buffer, so a connection's outbound buffer
//! collects many messages for one write.

/// `PING\r\n`.
pub const PING: &[u8] = b"PING\r\n";
/// `PONG\r\n`.
pub const PONG: &[u8] = b"PONG\r\n";
/// `+OK\r\n`, the verbose-mode acknowledgement.
pub const OK: &[u8] = b"+OK\r\n";
/// The header block of a no-responders status message (status 503, no description).
pub const NO_RESPONDERS_HEADER: &[u8] = b"NATS/1.0 503\r\n\r\n";

/// A number formatted in decimal on the stack, for size arguments and the numbers in
/// subjects the server writes (JetStream ack subjects).
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    digits: [u8; 20],
    start: usize,
}

/// "00" to "99", so decimals are written two digits per division.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

impl Decimal {
    /// Formats `n`.
    #[inline]
    pub fn new(n: usize) -> Self {
        Self::from_u64(n as u64)
    }

    /// Formats `n`.
    #[inline]
    pub fn from_u64(n: u64) -> Self {
        let mut digits = [0u8; 20];
        let start = digits.len() - decimal_width(n);
        write_decimal(&mut digits[start..], n);
        Decimal { digits, start }
    }

    /// The ASCII digits.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// Appends `n` in decimal to `out` (a JetStream delivery's ack subject carries five, one
/// of them a 19-digit timestamp).
///
/// The digits are written where they stay, into room made with one fixed-size fill that is
/// then cut to the width: formatting on the stack and copying would read back bytes stored
/// a pair at a time, a load the CPU cannot forward from those stores (perf showed half the
/// function's time on it).
pub fn append_decimal(out: &mut Vec<u8>, n: u64) {
    let width = decimal_width(n);
    let start = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    write_decimal(&mut out[start..start + width], n);
    out.truncate(start + width);
}

/// How many digits `n` has in decimal.
#[inline]
fn decimal_width(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Writes `n` into `slot`, which is exactly [`decimal_width`] long. Eight digits at a time
/// are split off and written as four independent pairs, so a long number is not one chain
/// of dependent divisions.
#[inline]
fn write_decimal(slot: &mut [u8], mut n: u64) {
    let mut end = slot.len();
    while n >= 100_000_000 {
        let chunk = (n % 100_000_000) as u32;
        n /= 100_000_000;
        write_eight_digits(&mut slot[end - 8..end], chunk);
        end -= 8;
    }
    // Below 10^8 now: the rest fits 32-bit arithmetic.
    let mut n = n as u32;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        slot[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        end -= 2;
    }
    if n >= 10 {
        let pair = n as usize * 2;
        slot[..2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        slot[0] = b'0' + n as u8;
    }
}

/// Writes `chunk` (below 10^8) as exactly eight digits, leading zeros included.
#[inline]
fn write_eight_digits(slot: &mut [u8], chunk: u32) {
    let (high, low) = (chunk / 10_000, chunk % 10_000);
    for (at, pair) in [high / 100, high % 100, low / 100, low % 100]
        .into_iter()
        .enumerate()
    {
        let pair = pair as usize * 2;
        slot[at * 2..at * 2 + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
}

fn write_prefix(out: &mut Vec<u8>, verb: &[u8], subject: &[u8], sid: &[u8], reply: Option<&[u8]>) {
    out.extend_from_slice(verb);
    out.extend_from_slice(subject);
    out.push(b' ');
    out.extend_from_slice(sid);
    out.push(b' ');
    if let Some(reply) = reply {
        out.extend_from_slice(reply);
        out.push(b' ');
    }
}

/// Appends `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`; `size` is the
/// payload length as digits (the publisher's own token, which nats-server echoes verbatim).
pub fn write_msg(
    out: &mut Vec<u8>,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    size: &[u8],
    payload: &[u8],
) {
    write_prefix(out, b"MSG ", subject, sid, reply);
    out.extend_from_slice(size);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

/// Appends `HMSG <subject> <sid> [reply] <header size> <total size>\r\n<message>\r\n`,
/// where `message` is the header block followed by the payload and the sizes are digits.
pub fn write_hmsg(
    out: &mut Vec<u8>,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    sizes: (&[u8], &[u8]),
    message: &[u8],
) {
    write_prefix(out, b"HMSG ", subject, sid, reply);
    out.extend_from_slice(sizes.0);
    out.push(b' ');
    out.extend_from_slice(sizes.1);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(message);
    out.extend_from_slice(b"\r\n");
}

/// Appends `-ERR '<message>'\r\n`.
pub fn write_err(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(b"-ERR '");
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(b"'\r\n");
}

/// Appends `INFO <json> \r\n` (nats-server puts a space before the line end).
pub fn write_info(out: &mut Vec<u8>, json: &[u8]) {
    out.extend_from_slice(b"INFO ");
    out.extend_from_slice(json);
    out.extend_from_slice(b" \r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_nats_server_bytes() {
        let mut out = Vec::new();
        write_msg(&mut out, b"foo", b"1", None, b"5", b"hello");
        write_msg(&mut out, b"foo", b"22", Some(b"bar"), b"0", b"");
        let sizes = (&b"16"[..], &b"16"[..]);
        write_hmsg(
            &mut out,
            b"_INBOX.x",
            b"1",
            None,
            sizes,
            NO_RESPONDERS_HEADER,
        );
        write_err(&mut out, "Unknown Protocol Operation");
        assert_eq!(
            out,
            b"MSG foo 1 5\r\nhello\r\nMSG foo 22 bar 0\r\n\r\n\
              HMSG _INBOX.x 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n\
              -ERR 'Unknown Protocol Operation'\r\n"
                .to_vec()
        );
    }

    #[test]
    fn decimals() {
        for n in [0usize, 7, 10, 4096, 1_048_576, usize::MAX] {
            assert_eq!(Decimal::new(n).as_bytes(), n.to_string().as_bytes());
        }
        for n in [
            0u64,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            12_345,
            99_999_999,
            100_000_000,
            100_000_001,
            1_764_165_000_000_000_007,
            10_000_000_000_000_000,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(Decimal::from_u64(n).as_bytes(), n.to_string().as_bytes());
            let mut out = b"x.".to_vec();
            append_decimal(&mut out, n);
            assert_eq!(out, format!("x.{n}").into_bytes());
        }
    }
}
