//! Times and durations written as Go writes them, because nats-server's JSON (monitoring,
//! the JetStream API) and log lines carry Go's forms and clients and tools parse them.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Go's zero `time.Time` in JSON, which nats-server sends for "no time".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Year, month and day of the `days`-th day after 1970-01-01 (proleptic Gregorian), after
/// Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// A UTC instant broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarTime {
    /// The year.
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// Hours, 0 to 23.
    pub hour: u64,
    /// Minutes, 0 to 59.
    pub minute: u64,
    /// Seconds, 0 to 59.
    pub second: u64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl CalendarTime {
    /// The calendar fields of `nanos` since the Unix epoch, in UTC.
    pub fn from_unix_nanos(nanos: i64) -> Self {
        let seconds = nanos.div_euclid(NANOS_PER_SECOND as i64);
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let of_day = seconds.rem_euclid(86_400) as u64;
        CalendarTime {
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day % 3600 / 60,
            second: of_day % 60,
            nanos: nanos.rem_euclid(NANOS_PER_SECOND as i64) as u32,
        }
    }

    /// The calendar fields of a system time, in UTC.
    pub fn from_system_time(time: SystemTime) -> Self {
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self::from_unix_nanos(i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// Go's `time.Time` JSON form in UTC: `2026-11-26T14:23:32.236941249Z`, the fraction without
/// trailing zeros and left out when zero.
pub fn rfc3339_nanos(time: CalendarTime) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year, time.month, time.day, time.hour, time.minute, time.second
    );
    push_fraction(&mut out, u64::from(time.nanos), 9);
    out.push('Z');
    out
}

/// Like [`rfc3339_nanos`] for nanoseconds since the epoch, with 0 meaning Go's zero time.
pub fn rfc3339_or_zero(unix_nanos: i64) -> String {
    if unix_nanos == 0 {
        ZERO_TIME.to_string()
    } else {
        rfc3339_nanos(CalendarTime::from_unix_nanos(unix_nanos))
    }
}

/// Appends `.digits` (`width` wide, trailing zeros trimmed) unless `value` is zero.
fn push_fraction(out: &mut String, value: u64, width: usize) {
    if value == 0 {
        return;
    }
    let digits = format!("{value:0width$}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

/// Go's `time.Duration.String()`: `0s`, `750ns`, `484µs`, `1.5ms`, `2m3.5s`, `1h0m0s`.
pub fn go_duration(nanos: u64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    let mut out = String::new();
    if nanos < 1_000_000 {
        let _ = write!(out, "{}", nanos / 1_000);
        push_fraction(&mut out, nanos % 1_000, 3);
        out.push_str("µs");
        return out;
    }
    if nanos < NANOS_PER_SECOND {
        let _ = write!(out, "{}", nanos / 1_000_000);
        push_fraction(&mut out, nanos % 1_000_000, 6);
        out.push_str("ms");
        return out;
    }
    let seconds = nanos / NANOS_PER_SECOND;
    let (hours, minutes) = (seconds / 3600, (seconds / 60) % 60);
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let _ = write!(out, "{}", seconds % 60);
    push_fraction(&mut out, nanos % NANOS_PER_SECOND, 9);
    out.push('s');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn times_as_go_marshals_them() {
        assert_eq!(rfc3339_or_zero(0), "0001-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_or_zero(1_764_165_000_000_000_000),
            "2025-11-26T13:50:00Z"
        );
        assert_eq!(
            rfc3339_or_zero(1_764_165_000_120_000_000),
            "2025-11-26T13:50:00.12Z"
        );
        assert_eq!(
            rfc3339_or_zero(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
    }

    #[test]
    fn durations_as_go_prints_them() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (750, "750ns"),
            (484_000, "484µs"),
            (1_500_000, "1.5ms"),
            (123_500_000_000, "2m3.5s"),
            (3_600_000_000_000, "1h0m0s"),
            (60_000_000_000, "1m0s"),
        ];
        for &(nanos, text) in cases {
            assert_eq!(go_duration(nanos), text);
        }
    }
}
