//! Time-of-day windows in which a user may connect, in a time zone (like NATS JWT `times`).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use std::fmt;
use std::time::{Duration, SystemTime};
use thiserror::Error;

const SECONDS_PER_DAY: u32 = 86_400;

/// A daily window `[start, end)` in seconds since local midnight. When `start > end` the
/// window runs past midnight (22:00:00 to 06:00:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// First second of the window, 0 to 86399.
    pub start_seconds: u32,
    /// First second after the window, 0 to 86399.
    pub end_seconds: u32,
}

/// Why a window or a time zone could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TimesError {
    /// Not `HH:MM:SS` (two digits each, 24-hour clock), as JWT's `15:04:05` layout.
    #[error("invalid time {0:?}, expected HH:MM:SS")]
    BadTime(String),
    /// Start and end are the same second, which would allow no time at all.
    #[error("time window {0:?} to {0:?} is empty")]
    EmptyWindow(String),
    /// Neither an IANA time zone name, `UTC`, nor a `+HH:MM`/`-HH:MM` offset.
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
}

impl TimeWindow {
    /// A window from two `HH:MM:SS` texts.
    pub fn parse(start: &str, end: &str) -> Result<TimeWindow, TimesError> {
        let window = TimeWindow {
            start_seconds: parse_clock(start)?,
            end_seconds: parse_clock(end)?,
        };
        if window.start_seconds == window.end_seconds {
            return Err(TimesError::EmptyWindow(start.to_string()));
        }
        Ok(window)
    }

    /// If the local time of day `now_seconds` is inside, the seconds left until the window ends.
    fn remaining(&self, now_seconds: u32) -> Option<u32> {
        let (start, end) = (self.start_seconds, self.end_seconds);
        if start < end {
            (start <= now_seconds && now_seconds < end).then(|| end - now_seconds)
        } else if now_seconds >= start {
            Some(SECONDS_PER_DAY - now_seconds + end)
        } else if now_seconds < end {
            Some(end - now_seconds)
        } else {
            None
        }
    }
}

/// `HH:MM:SS` into seconds since midnight.
fn parse_clock(text: &str) -> Result<u32, TimesError> {
    let bad = || TimesError::BadTime(text.to_string());
    let bytes = text.as_bytes();
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return Err(bad());
    }
    let field = |at: usize, max: u32| -> Result<u32, TimesError> {
        let (tens, ones) = (bytes[at], bytes[at + 1]);
        if !tens.is_ascii_digit() || !ones.is_ascii_digit() {
            return Err(bad());
        }
        let value = u32::from(tens - b'0') * 10 + u32::from(ones - b'0');
        if value > max {
            return Err(bad());
        }
        Ok(value)
    };
    Ok(field(0, 23)? * 3600 + field(3, 59)? * 60 + field(6, 59)?)
}

/// A time zone for connect windows: a fixed offset or an IANA zone (with its DST rules).
#[derive(Clone, PartialEq, Eq)]
pub struct Zone {
    name: String,
    zone: TimeZone,
}

impl Zone {
    /// Coordinated Universal Time, the default when no zone is configured.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_string(),
            zone: TimeZone::UTC,
        }
    }

    /// `UTC`, `Z`, a fixed offset `+HH:MM` / `-HH:MM`, or an IANA name such as
    /// `Europe/Berlin` (looked up in the system zoneinfo, else in the copy built in).
    pub fn parse(text: &str) -> Result<Zone, TimesError> {
        let unknown = || TimesError::UnknownZone(text.to_string());
        let zone = if text.eq_ignore_ascii_case("utc") || text == "Z" {
            TimeZone::UTC
        } else if let Some(sign) = text.strip_prefix(['+', '-']).map(|_| &text[..1]) {
            let seconds = i32::try_from(parse_offset(&text[1..]).ok_or_else(unknown)?)
                .map_err(|_| unknown())?;
            let seconds = if sign == "-" { -seconds } else { seconds };
            TimeZone::fixed(Offset::from_seconds(seconds).map_err(|_| unknown())?)
        } else {
            TimeZone::get(text).map_err(|_| unknown())?
        };
        Ok(Zone {
            name: text.to_string(),
            zone,
        })
    }

    /// The name as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn local_time(&self, now: SystemTime) -> Option<DateTime> {
        let timestamp = Timestamp::try_from(now).ok()?;
        Some(self.zone.to_datetime(timestamp))
    }
}

/// `HH:MM` (or `HHMM`, `HH`) into seconds; offsets up to 18 hours, as ISO 8601 allows.
fn parse_offset(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(|&c| c != ':').collect();
    let colons = text.len() - digits.len();
    if colons > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 if colons == 0 => (digits.parse::<u32>().ok()?, 0),
        4 => (
            digits[..2].parse::<u32>().ok()?,
            digits[2..].parse::<u32>().ok()?,
        ),
        _ => return None,
    };
    (hours <= 18 && minutes < 60).then_some(hours * 3600 + minutes * 60)
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({:?})", self.name)
    }
}

/// The connect windows of a user: any one window admits the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTimes {
    /// The daily windows.
    pub windows: Vec<TimeWindow>,
    /// The zone whose wall clock the windows are read in.
    pub zone: Zone,
}

impl ConnectTimes {
    /// If `now` is inside a window, how long the client may stay connected (until the end of
    /// the window that admits it for longest; the server should close it then, as nats-server
    /// does for JWT `times`). `None` means outside every window.
    ///
    /// Unlike nats-server's `validateTimes`, a window past midnight admits clients after
    /// midnight too. The remaining time is exact across DST changes (it is computed from the
    /// window's end as an instant in the zone).
    pub fn check(&self, now: SystemTime) -> Option<Duration> {
        let local = self.zone.local_time(now)?;
        let time = local.time();
        let now_seconds =
            time.hour() as u32 * 3600 + time.minute() as u32 * 60 + time.second() as u32;
        let remaining = self
            .windows
            .iter()
            .filter_map(|window| window.remaining(now_seconds))
            .max()?;
        Some(self.until(now, local, remaining))
    }

    /// The time from `now` to `remaining` wall-clock seconds after `local` (with sub-second
    /// precision), resolved in the zone so that a DST change in between is accounted for.
    fn until(&self, now: SystemTime, local: DateTime, remaining: u32) -> Duration {
        let whole_second = local.with().subsec_nanosecond(0).build().unwrap_or(local);
        let wall_clock = Duration::from_secs(u64::from(remaining))
            - Duration::from_nanos(local.subsec_nanosecond().unsigned_abs().into());
        let exact = jiff::SignedDuration::from_secs(i64::from(remaining));
        let end = whole_second
            .checked_add(exact)
            .ok()
            .and_then(|end| self.zone.zone.to_ambiguous_timestamp(end).compatible().ok())
            .and_then(|end| SystemTime::try_from(end).ok())
            .and_then(|end| end.duration_since(now).ok());
        end.unwrap_or(wall_clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    /// (windows, zone, unix time, expected remaining seconds or None)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, u64, Option<u64>);

    fn check(cases: &[Case<'_>]) {
        for &(windows, zone, now, expected) in cases {
            let times = ConnectTimes {
                windows: windows
                    .iter()
                    .map(|(s, e)| TimeWindow::parse(s, e).unwrap())
                    .collect(),
                zone: Zone::parse(zone).unwrap(),
            };
            assert_eq!(
                times.check(at(now)),
                expected.map(Duration::from_secs),
                "{windows:?} in {zone} at {now}"
            );
        }
    }

    // 2024-01-15T12:00:00Z is 1705320000; 2024-03-31 01:00:00Z is 1711846800 (the instant
    // Europe/Berlin jumps from 02:00 CET to 03:00 CEST).
    const NOON_UTC: u64 = 1_705_320_000;

    #[test]
    fn windows_in_zones() {
        let office: &[(&str, &str)] = &[("08:00:00", "17:00:00")];
        let night: &[(&str, &str)] = &[("22:00:00", "06:00:00")];
        check(&[
            (office, "UTC", NOON_UTC, Some(5 * 3600)),
            (office, "UTC", NOON_UTC - 4 * 3600 - 1, None),
            (office, "UTC", NOON_UTC - 4 * 3600, Some(9 * 3600)),
            (office, "UTC", NOON_UTC + 5 * 3600, None),
            // 12:00Z is 13:00 in Berlin in winter, 21:00 in Tokyo.
            (office, "Europe/Berlin", NOON_UTC, Some(4 * 3600)),
            (office, "Asia/Tokyo", NOON_UTC, None),
            (office, "+09:00", NOON_UTC, None),
            (office, "-05:00", NOON_UTC, None),
            (office, "-03:00", NOON_UTC, Some(8 * 3600)),
            (night, "UTC", NOON_UTC, None),
            (night, "UTC", NOON_UTC + 11 * 3600, Some(7 * 3600)),
            (night, "UTC", NOON_UTC + 13 * 3600, Some(5 * 3600)),
            (night, "+09:00", NOON_UTC, None),
            (night, "+11:00", NOON_UTC, Some(7 * 3600)),
            // 00:30 CET on the night of the spring change: until 06:00 CEST is 4.5 real hours.
            (
                night,
                "Europe/Berlin",
                1_711_846_800 - 5_400,
                Some(4 * 3600 + 1_800),
            ),
            // Two windows: the one that lasts longer decides.
            (
                &[("11:00:00", "13:00:00"), ("10:00:00", "18:00:00")],
                "UTC",
                NOON_UTC,
                Some(6 * 3600),
            ),
        ]);
    }

    #[test]
    fn bad_times_and_zones() {
        for (start, end) in [
            ("8:00:00", "17:00:00"),
            ("24:00:00", "01:00:00"),
            ("08:60:00", "17:00:00"),
            ("08:00", "17:00:00"),
            ("08:00:00", "08:00:00"),
        ] {
            assert!(TimeWindow::parse(start, end).is_err(), "{start} {end}");
        }
        for zone in ["Mars/Olympus", "+25:00", "+0a:00", "", "+1:00:00"] {
            assert!(Zone::parse(zone).is_err(), "{zone}");
        }
        for zone in ["utc", "Z", "+0530", "+05", "-12:45", "America/New_York"] {
            assert!(Zone::parse(zone).is_ok(), "{zone}");
        }
    }
}
