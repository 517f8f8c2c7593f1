//! Reading RFC 3339 times as Go's `time.Time` unmarshals them from JSON (`opt_start_time`,
//! the `Created` field of `meta.inf`), into nanoseconds since the Unix epoch.
//!
//! The writing side is `natrium_gofmt`; this is its inverse for the texts the API carries.

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Go's zero `time.Time`, which `natrium_gofmt::rfc3339_or_zero` writes for 0.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Nanoseconds since the epoch of an RFC 3339 text (`2025-11-26T13:50:00.5+01:00`), or `None`
/// when it is not one. Go's zero time reads as 0, so a time written for 0 reads back as 0.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    if text == GO_ZERO_TIME {
        return Some(0);
    }
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't') || bytes[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    if second > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction_nanos = 0;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let scale = 10_i64.pow(9 - digits as u32);
        fraction_nanos = after_dot[..digits].parse::<i64>().ok()? * scale;
        rest = &after_dot[digits..];
    }
    let offset_seconds = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let value = |a: u8, b: u8| i64::from(a - b'0') * 10 + i64::from(b - b'0');
            let (hours, minutes) = (value(digits[0], digits[1]), value(digits[2], digits[3]));
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'+' {
                seconds
            } else {
                -seconds
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(fraction_nanos)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use natrium_gofmt::rfc3339_or_zero;

    #[test]
    fn texts_written_by_gofmt_read_back() {
        for nanos in [
            0,
            1,
            1_764_165_000_000_000_000,
            1_764_165_000_123_456_789,
            951_782_400_000_000_000, // 2000-02-29
        ] {
            assert_eq!(
                parse_rfc3339(&rfc3339_or_zero(nanos)),
                Some(nanos),
                "{nanos}"
            );
        }
    }

    #[test]
    fn offsets_fractions_and_garbage() {
        assert_eq!(
            parse_rfc3339("2025-11-26T14:50:00.5+01:00"),
            Some(1_764_165_000_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:00-00:30"),
            Some(1800 * NANOS_PER_SECOND)
        );
        for bad in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-11-26T14:50:00",
            "2025-11-26T14:50:00.Z",
            "2025-11-26 14:50:00Z",
            "2025-11-26T14:50:00+0100",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn go_times_parse_to_unix_nanoseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2025-11-26T13:50:00.5Z"),
            Some(1_764_165_000_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2025-11-26T14:50:00.000000001+01:00"),
            Some(1_764_165_000_000_000_001)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000_000_000)
        );
        for bad in [
            "",
            "2025-11-26",
            "2025-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2025-11-26T13:50:00",
            "2025-11-26T13:50:00.Z",
            "2025-11-26T13:50:00+0100",
            "2025-11-26T13:50:00+24:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
