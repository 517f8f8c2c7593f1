//! Monitoring's texts in nats-server's forms: times and durations (from `natrium-gofmt`),
//! round trips, the `1d2h3m4s` uptime form, and Go's float JSON.

use std::time::{Duration, SystemTime};

pub use natrium_gofmt::go_duration;

/// Go's `time.Time` JSON form of a system time, in UTC.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    natrium_gofmt::rfc3339_nanos(natrium_gofmt::CalendarTime::from_system_time(time))
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
    use std::time::UNIX_EPOCH;

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
