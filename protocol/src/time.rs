//! Timestamps on the wire are milliseconds since the Unix epoch (UTC); this module formats them
//! without pulling in a calendar crate.

/// Formats a millisecond timestamp as `YYYY-MM-DD HH:MM` in UTC.
pub fn format_utc_minutes(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// A timestamp split for display at a UTC offset: the calendar day (`2026-11-21`) and the time
/// of day (`12:41`).
pub fn day_and_time(ms: i64, offset_secs: i64) -> (String, String) {
    let secs = ms.div_euclid(1000) + offset_secs;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}", rem / 3600, (rem % 3600) / 60),
    )
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_day_and_time_at_an_offset() {
        // 2026-11-21 23:30 UTC is already the 22nd at UTC+2.
        let ms = 1_795_303_800_000;
        assert_eq!(day_and_time(ms, 0), ("2026-11-21".into(), "23:30".into()));
        assert_eq!(
            day_and_time(ms, 7200),
            ("2026-11-22".into(), "01:30".into())
        );
        assert_eq!(
            day_and_time(ms, -3600),
            ("2026-11-21".into(), "22:30".into())
        );
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc_minutes(0), "1970-01-01 00:00");
        // 2026-11-21 12:41:25 UTC
        assert_eq!(format_utc_minutes(1_795_264_885_000), "2026-11-21 12:41");
        // 2000-02-29 23:59 UTC, a leap day
        assert_eq!(format_utc_minutes(951_868_740_000), "2000-02-29 23:59");
    }
}
