//! Timestamps as Go's `time.Time` marshals them to JSON: RFC 3339 in UTC with nanoseconds,
//! trailing zeros dropped, and the zero time as `0001-01-01T00:00:00Z`.

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Formats nanoseconds since the Unix epoch; 0 means "no time" (Go's zero `time.Time`).
pub fn rfc3339_nanos(nanos: i64) -> String {
    if nanos == 0 {
        return "0001-01-01T00:00:00Z".to_string();
    }
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let fraction = nanos.rem_euclid(NANOS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    if fraction > 0 {
        let digits = format!("{fraction:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_nanos;

    #[test]
    fn formats_like_go() {
        assert_eq!(rfc3339_nanos(0), "0001-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nanos(1_764_165_000_000_000_000),
            "2025-11-26T13:50:00Z"
        );
        assert_eq!(
            rfc3339_nanos(1_764_165_000_120_000_000),
            "2025-11-26T13:50:00.12Z"
        );
        assert_eq!(
            rfc3339_nanos(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
    }
}
