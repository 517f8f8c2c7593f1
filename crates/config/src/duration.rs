//! Go's `time.ParseDuration` syntax (`"2m"`, `"1h30m"`, `"1.5s"`, `"-300ms"`), which nats-server
//! applies to duration options such as `ping_interval` and `write_deadline`.

/// Nanoseconds per unit, as Go's unitMap defines them (both micro signs are accepted).
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's limit on the magnitude of a duration, 1<<63 nanoseconds.
const LIMIT: u64 = 1 << 63;

/// Why a duration string was rejected; the messages are Go's, word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not the syntax at all, or out of the int64 nanosecond range.
    #[error("time: invalid duration {}", go_quote(.0))]
    Invalid(String),
    /// A number with no unit after it (other than a bare "0").
    #[error("time: missing unit in duration {}", go_quote(.0))]
    MissingUnit(String),
    /// A unit Go does not know.
    #[error("time: unknown unit {} in duration {}", go_quote(.unit), go_quote(.duration))]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole duration string.
        duration: String,
    },
}

/// Parses a Go duration string into signed nanoseconds, exactly as Go's `time.ParseDuration` does.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let mut rest = text.as_bytes();
    let mut negative = false;
    if let Some((&sign, tail)) = rest.split_first() {
        if sign == b'-' || sign == b'+' {
            negative = sign == b'-';
            rest = tail;
        }
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while let Some(&first) = rest.first() {
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let before = rest.len();
        let (whole, tail) = leading_int(rest).ok_or_else(invalid)?;
        rest = tail;
        let has_whole = before != rest.len();
        let mut fraction = 0u64;
        let mut scale = 1f64;
        let mut has_fraction = false;
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let before = rest.len();
            (fraction, scale, rest) = leading_fraction(rest);
            has_fraction = before != rest.len();
        }
        if !has_whole && !has_fraction {
            return Err(invalid());
        }
        let unit_len = rest
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(text.to_string()));
        }
        let (unit, tail) = rest.split_at(unit_len);
        rest = tail;
        let Some(&(_, nanos)) = UNITS.iter().find(|(name, _)| name.as_bytes() == unit) else {
            return Err(DurationError::UnknownUnit {
                unit: String::from_utf8_lossy(unit).into_owned(),
                duration: text.to_string(),
            });
        };
        if whole > LIMIT / nanos {
            return Err(invalid());
        }
        let mut component = whole * nanos;
        if fraction > 0 {
            // Go computes the fractional part in float64 and truncates; so do we, for equal results.
            component += (fraction as f64 * (nanos as f64 / scale)) as u64;
            if component > LIMIT {
                return Err(invalid());
            }
        }
        total += component;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if negative {
        // total <= 1<<63 here, so the negation fits (1<<63 becomes i64::MIN).
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Consumes leading digits as an integer; None on overflow past 1<<63.
fn leading_int(text: &[u8]) -> Option<(u64, &[u8])> {
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut value: u64 = 0;
    for &digit in &text[..digits] {
        if value > LIMIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(digit - b'0');
        if value > LIMIT {
            return None;
        }
    }
    Some((value, &text[digits..]))
}

/// Consumes leading digits as a fraction; digits beyond int64 precision are dropped, as in Go.
fn leading_fraction(text: &[u8]) -> (u64, f64, &[u8]) {
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    for &digit in &text[..digits] {
        if overflow {
            continue;
        }
        if value > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(digit - b'0');
        if next > LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, &text[digits..])
}

/// Go's time package quoting: double quotes, with `"` and `\` escaped and other bytes outside
/// printable ASCII written as `\xNN`.
fn go_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            quoted.push('\\');
            quoted.push(ch);
        } else if (' '..='~').contains(&ch) {
            quoted.push(ch);
        } else {
            let mut buffer = [0u8; 4];
            for byte in ch.encode_utf8(&mut buffer).bytes() {
                quoted.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    /// Cases from Go's time package behaviour: (input, nanoseconds or the exact error message).
    const CASES: &[(&str, Result<i64, &str>)] = &[
        ("0", Ok(0)),
        ("-0", Ok(0)),
        ("+0", Ok(0)),
        ("5s", Ok(5 * SECOND)),
        ("30s", Ok(30 * SECOND)),
        ("1478s", Ok(1478 * SECOND)),
        ("-5s", Ok(-5 * SECOND)),
        ("+5s", Ok(5 * SECOND)),
        ("-0s", Ok(0)),
        ("5.0s", Ok(5 * SECOND)),
        ("5.6s", Ok(5 * SECOND + 600_000_000)),
        ("5.s", Ok(5 * SECOND)),
        (".5s", Ok(SECOND / 2)),
        ("1.0s", Ok(SECOND)),
        ("1.004s", Ok(SECOND + 4_000_000)),
        ("100.00100s", Ok(100 * SECOND + 1_000_000)),
        ("10ns", Ok(10)),
        ("11us", Ok(11_000)),
        ("12\u{b5}s", Ok(12_000)),
        ("12\u{3bc}s", Ok(12_000)),
        ("13ms", Ok(13_000_000)),
        ("14s", Ok(14 * SECOND)),
        ("15m", Ok(15 * 60 * SECOND)),
        ("16h", Ok(16 * 3600 * SECOND)),
        ("2m", Ok(120 * SECOND)),
        ("10s", Ok(10 * SECOND)),
        ("1h30m", Ok(5400 * SECOND)),
        ("3h30m", Ok(12600 * SECOND)),
        ("10.5s4m", Ok(4 * 60 * SECOND + 10 * SECOND + SECOND / 2)),
        ("-2m3.4s", Ok(-(2 * 60 * SECOND + 3 * SECOND + 400_000_000))),
        ("1h2m3s4ms5us6ns", Ok(3723 * SECOND + 4_005_006)),
        ("39h9m14.425s", Ok(140_954_425_000_000)),
        ("52763797000ns", Ok(52_763_797_000)),
        ("0.3333333333333333333h", Ok(20 * 60 * SECOND)),
        ("9007199254740993ns", Ok(9_007_199_254_740_993)),
        ("9223372036854775807ns", Ok(i64::MAX)),
        ("9223372036854775.807us", Ok(i64::MAX)),
        ("9223372036s854ms775us807ns", Ok(i64::MAX)),
        ("-9223372036854775808ns", Ok(i64::MIN)),
        ("-9223372036854775.808us", Ok(i64::MIN)),
        ("0.100000000000000000000h", Ok(6 * 60 * SECOND)),
        (
            "0.830103483285477580700h",
            Ok(49 * 60 * SECOND + 48_372_539_827),
        ),
        ("", Err("time: invalid duration \"\"")),
        ("3", Err("time: missing unit in duration \"3\"")),
        ("-", Err("time: invalid duration \"-\"")),
        ("s", Err("time: invalid duration \"s\"")),
        (".", Err("time: invalid duration \".\"")),
        ("-.", Err("time: invalid duration \"-.\"")),
        (".s", Err("time: invalid duration \".s\"")),
        ("+.s", Err("time: invalid duration \"+.s\"")),
        ("1d", Err("time: unknown unit \"d\" in duration \"1d\"")),
        (
            "\u{85}\u{85}",
            Err("time: invalid duration \"\\xc2\\x85\\xc2\\x85\""),
        ),
        (
            "9223372036854775808ns",
            Err("time: invalid duration \"9223372036854775808ns\""),
        ),
        (
            "9223372036854775.808us",
            Err("time: invalid duration \"9223372036854775.808us\""),
        ),
        (
            "-9223372036854775809ns",
            Err("time: invalid duration \"-9223372036854775809ns\""),
        ),
        ("3000000h", Err("time: invalid duration \"3000000h\"")),
        (
            "1s 2s",
            Err("time: unknown unit \"s \" in duration \"1s 2s\""),
        ),
    ];

    fn check(input: &str, expected: &Result<i64, &str>) {
        let got = parse_duration(input).map_err(|e| e.to_string());
        let want = expected.map_err(str::to_string);
        assert_eq!(got, want, "parse_duration({input:?})");
    }

    #[test]
    fn go_parse_duration_table() {
        for (input, expected) in CASES {
            check(input, expected);
        }
    }
}
