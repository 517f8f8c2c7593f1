//! Time and duration texts exactly as nats-server's Go encoders write them: RFC 3339 with
//! nanoseconds for `time.Time`, `time.Duration.String()` for round trips, and the
//! `1d2h3m4s` uptime form.

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Go's `time.Time` JSON form in UTC: `2026-11-26T14:23:32.236941249Z`, the fraction
/// without trailing zeros and left out when zero.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        (in_day / 60) % 60,
        in_day % 60
    );
    push_fraction(&mut out, u64::from(since_epoch.subsec_nanos()), 9);
    out.push('Z');
    out
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

/// Year, month and day of the `days`-th day after 1970-01-01 (proleptic Gregorian),
/// after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = (z - era * 146_097) as u64;
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
    let year = year_of_era as i64 + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

/// A round trip as nats-server shows it: truncated to microseconds between 1µs and 1ms.
pub fn rtt(nanos: u64) -> String {
    if nanos > 1_000 && nanos < 1_000_000 {
        go_duration(nanos - nanos % 1_000)
    } else {
        go_duration(nanos)
    }
}

/// nats-server's uptime text (`myUptime`): whole seconds as `1y2d3h4m5s`, leading zero
/// units left out.
pub fn uptime(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (minutes, hours) = (seconds / 60, seconds / 3600);
    let (days, years) = (hours / 24, hours / 24 / 365);
    if years > 0 {
        format!(
            "{years}y{}d{}h{}m{}s",
            days % 365,
            hours % 24,
            minutes % 60,
            seconds % 60
        )
    } else if days > 0 {
        format!("{days}d{}h{}m{}s", hours % 24, minutes % 60, seconds % 60)
    } else if hours > 0 {
        format!("{hours}h{}m{}s", minutes % 60, seconds % 60)
    } else if minutes > 0 {
        format!("{minutes}m{}s", seconds % 60)
    } else {
        format!("{seconds}s")
    }
}

/// Serialises a float as Go's `encoding/json` does: whole numbers without a fraction
/// (`2`, not `2.0`), others in their shortest form. Use with `#[serde(serialize_with)]`.
pub fn go_float<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Whole nanoseconds of `duration`, as Go's `time.Duration` JSON number.
pub fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: String, want: &str) {
        assert_eq!(got, want);
    }

    #[test]
    fn times_match_go() {
        let at = |seconds: u64, nanos: u32| UNIX_EPOCH + Duration::new(seconds, nanos);
        check(rfc3339_nanos(at(0, 0)), "1970-01-01T00:00:00Z");
        check(
            rfc3339_nanos(at(1_795_703_012, 236_941_249)),
            "2026-11-26T14:23:32.236941249Z",
        );
        check(
            rfc3339_nanos(at(951_782_400, 500_000_000)),
            "2000-02-29T00:00:00.5Z",
        );
        check(rfc3339_nanos(at(4_107_542_399, 0)), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn durations_match_go() {
        for (nanos, want) in [
            (0, "0s"),
            (750, "750ns"),
            (484_000, "484µs"),
            (484_123, "484.123µs"),
            (1_500_000, "1.5ms"),
            (2_000_000_000, "2s"),
            (123_500_000_000, "2m3.5s"),
            (3_600_000_000_000, "1h0m0s"),
        ] {
            check(go_duration(nanos), want);
        }
        check(rtt(484_123), "484µs");
        check(rtt(1_234_567), "1.234567ms");
    }

    #[test]
    fn floats_match_go() {
        #[derive(serde::Serialize)]
        struct Figures(
            #[serde(serialize_with = "go_float")] f64,
            #[serde(serialize_with = "go_float")] f64,
            #[serde(serialize_with = "go_float")] f64,
        );
        let json = serde_json::to_string(&Figures(2.0, 0.0, 0.7142857142857143)).unwrap();
        assert_eq!(json, "[2,0,0.7142857142857143]");
    }

    #[test]
    fn uptimes_match_nats_server() {
        for (seconds, want) in [
            (0, "0s"),
            (59, "59s"),
            (61, "1m1s"),
            (3661, "1h1m1s"),
            (90_061, "1d1h1m1s"),
            (31_626_061, "1y1d1h1m1s"),
        ] {
            check(uptime(Duration::from_secs(seconds)), want);
        }
    }
}
