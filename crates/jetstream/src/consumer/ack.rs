//! Ack reply subjects and ack bodies, as nats-server writes and reads them.
//!
//! A delivery's reply subject is `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.
//! <timestamp>.<pending>`. nats-server reads only this nine-token form (2.10 included; the
//! longer form with domain and account hash is produced by no server), so only it is read.

use natrium_proto::encode::append_decimal;
use serde::Deserialize;

/// The prefix of every ack subject.
pub const ACK_PREFIX: &str = "$JS.ACK.";

/// The sequences an ack subject carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckSubject<'a> {
    /// The stream's name.
    pub stream: &'a str,
    /// The consumer's name.
    pub consumer: &'a str,
    /// How many times the message had been delivered.
    pub delivered: u64,
    /// Stream sequence; 0 when a number token was malformed (such acks are not confirmed).
    pub stream_seq: u64,
    /// Consumer sequence.
    pub consumer_seq: u64,
}

/// Reads an ack subject; `None` unless it has nine tokens under `$JS.ACK`. Malformed numbers
/// read as 0, as nats-server's `parseAckReplyNum` leaves them.
pub fn parse_ack_subject(subject: &str) -> Option<AckSubject<'_>> {
    let rest = subject.strip_prefix(ACK_PREFIX)?;
    let mut tokens = rest.split('.');
    let mut next = || tokens.next();
    let stream = next()?;
    let consumer = next()?;
    let delivered = parse_number(next()?);
    let stream_seq = parse_number(next()?);
    let consumer_seq = parse_number(next()?);
    let _timestamp = next()?;
    let _pending = next()?;
    if next().is_some() {
        return None;
    }
    Some(AckSubject {
        stream,
        consumer,
        delivered,
        stream_seq,
        consumer_seq,
    })
}

/// A decimal token, or 0 when empty or not all digits (Go's -1 cast to an unsigned 0 check).
fn parse_number(token: &str) -> u64 {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    token.parse().unwrap_or(0)
}

/// The ack subject of one delivery. Every delivery makes one, so it is written straight into
/// a buffer of its final size rather than through `format!`.
pub fn ack_subject(
    stream: &str,
    consumer: &str,
    delivered: u64,
    stream_seq: u64,
    consumer_seq: u64,
    timestamp: i64,
    pending: u64,
) -> String {
    // Five numbers of at most 20 digits, their dots and a sign.
    let capacity = ACK_PREFIX.len() + stream.len() + consumer.len() + 1 + 5 * 21 + 1;
    let mut subject = Vec::with_capacity(capacity);
    subject.extend_from_slice(ACK_PREFIX.as_bytes());
    subject.extend_from_slice(stream.as_bytes());
    subject.push(b'.');
    subject.extend_from_slice(consumer.as_bytes());
    for number in [delivered, stream_seq, consumer_seq] {
        subject.push(b'.');
        append_decimal(&mut subject, number);
    }
    subject.push(b'.');
    if timestamp < 0 {
        subject.push(b'-');
    }
    append_decimal(&mut subject, timestamp.unsigned_abs());
    subject.push(b'.');
    append_decimal(&mut subject, pending);
    // Names are strings and the rest is ASCII: this never fails.
    String::from_utf8(subject).unwrap_or_default()
}

/// What an ack body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckKind<'a> {
    /// `+ACK`, `+OK` or an empty body.
    Ack,
    /// `+NXT`, with the pull request that follows it.
    Next(&'a [u8]),
    /// `-NAK`, with an optional redelivery delay in nanoseconds.
    Nak(Option<i64>),
    /// `+WPI`: still working, restart the ack wait.
    Progress,
    /// `+TERM`, with an optional reason: never redeliver.
    Term(String),
    /// Anything else, which nats-server ignores (though it still confirms it).
    Unknown,
}

/// The delay of `-NAK {"delay": ns}`.
#[derive(Deserialize)]
struct NakOptions {
    #[serde(default)]
    delay: i64,
}

/// Reads an ack body as nats-server's `processAck` does: exact words, prefixes for the
/// kinds that take arguments.
pub fn parse_ack_body(body: &[u8]) -> AckKind<'_> {
    if body.is_empty() || body == b"+ACK" || body == b"+OK" {
        return AckKind::Ack;
    }
    if let Some(rest) = body.strip_prefix(b"+NXT") {
        return AckKind::Next(rest);
    }
    if let Some(rest) = body.strip_prefix(b"-NAK") {
        return AckKind::Nak(nak_delay(rest.trim_ascii()));
    }
    if body == b"+WPI" {
        return AckKind::Progress;
    }
    if let Some(rest) = body.strip_prefix(b"+TERM") {
        return AckKind::Term(String::from_utf8_lossy(rest.trim_ascii()).into_owned());
    }
    AckKind::Unknown
}

/// A NAK's delay: JSON `{"delay": ns}` or a Go duration (`"5s"`); unreadable is no delay,
/// which nats-server treats as a plain NAK.
fn nak_delay(argument: &[u8]) -> Option<i64> {
    if argument.is_empty() {
        return None;
    }
    if argument[0] == b'{' {
        return serde_json::from_slice::<NakOptions>(argument)
            .ok()
            .map(|options| options.delay);
    }
    parse_go_duration(std::str::from_utf8(argument).ok()?)
}

/// Go's `time.ParseDuration` for the units NAK delays use (`ns us µs ms s m h`), signed,
/// with fractions: `1.5s`, `300ms`, `1h2m`.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    let (sign, mut rest) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .bytes()
            .take_while(|b| !b.is_ascii_digit() && *b != b'.')
            .count();
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    Some((sign * total) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_subjects_round_trip_and_only_nine_tokens_are_read() {
        assert_eq!(
            ack_subject("S", "C", 0, u64::MAX, 10, -7, 1),
            "$JS.ACK.S.C.0.18446744073709551615.10.-7.1"
        );
        let subject = ack_subject("ORDERS", "C1", 2, 17, 9, 1_700_000_000, 5);
        assert_eq!(subject, "$JS.ACK.ORDERS.C1.2.17.9.1700000000.5");
        assert_eq!(
            parse_ack_subject(&subject),
            Some(AckSubject {
                stream: "ORDERS",
                consumer: "C1",
                delivered: 2,
                stream_seq: 17,
                consumer_seq: 9,
            })
        );
        assert_eq!(
            parse_ack_subject("$JS.ACK.ORDERS.C1.2.17.9.1700000000"),
            None
        );
        assert_eq!(
            parse_ack_subject("$JS.ACK.hub.ACC.ORDERS.C1.2.17.9.1700000000.5.rand"),
            None
        );
        let bad = parse_ack_subject("$JS.ACK.S.C.x.-1.9.0.0").unwrap();
        assert_eq!((bad.delivered, bad.stream_seq), (0, 0));
    }

    #[test]
    fn ack_bodies_are_read_as_nats_server_reads_them() {
        assert_eq!(parse_ack_body(b""), AckKind::Ack);
        assert_eq!(parse_ack_body(b"+ACK"), AckKind::Ack);
        assert_eq!(parse_ack_body(b"+OK"), AckKind::Ack);
        assert_eq!(parse_ack_body(b"+ACK "), AckKind::Unknown);
        assert_eq!(
            parse_ack_body(b"+NXT {\"batch\":2}"),
            AckKind::Next(b" {\"batch\":2}")
        );
        assert_eq!(parse_ack_body(b"-NAK"), AckKind::Nak(None));
        assert_eq!(
            parse_ack_body(b"-NAK {\"delay\":2000000000}"),
            AckKind::Nak(Some(2_000_000_000))
        );
        assert_eq!(
            parse_ack_body(b"-NAK 1.5s"),
            AckKind::Nak(Some(1_500_000_000))
        );
        assert_eq!(parse_ack_body(b"-NAK {bad"), AckKind::Nak(None));
        assert_eq!(parse_ack_body(b"+WPI"), AckKind::Progress);
        assert_eq!(parse_ack_body(b"+TERM"), AckKind::Term(String::new()));
        assert_eq!(
            parse_ack_body(b"+TERM bad payload "),
            AckKind::Term("bad payload".into())
        );
        assert_eq!(parse_ack_body(b"hello"), AckKind::Unknown);
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_go_duration("1h2m"), Some(3_720_000_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("5x"), None);
    }
}
