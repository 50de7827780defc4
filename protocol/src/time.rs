//! Timestamps on the wire are milliseconds since the Unix epoch (UTC); this module turns them
//! into calendar dates and times of day with `jiff` (proleptic Gregorian calendar). Time zones
//! are the client's business: these functions take a fixed UTC offset, and the client finds the
//! right one for each instant from the system's time zone database (`warren::localtime`).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

/// The instant of a millisecond timestamp, clamped into the range the calendar supports
/// (years -9999 to 9999), so no stored value can make formatting fail.
fn instant(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The civil date and time of `ms` at `offset_secs` east of UTC (clamped to ±25:59:59).
fn civil(ms: i64, offset_secs: i64) -> DateTime {
    let seconds =
        i32::try_from(offset_secs).unwrap_or(if offset_secs < 0 { i32::MIN } else { i32::MAX });
    let offset = Offset::from_seconds(seconds).unwrap_or(if seconds < 0 {
        Offset::MIN
    } else {
        Offset::MAX
    });
    offset.to_datetime(instant(ms))
}

fn date(dt: DateTime) -> String {
    format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day())
}

fn time_of_day(dt: DateTime) -> String {
    format!("{:02}:{:02}", dt.hour(), dt.minute())
}

/// Formats a millisecond timestamp as `YYYY-MM-DD HH:MM` in UTC.
pub fn format_utc_minutes(ms: i64) -> String {
    let dt = civil(ms, 0);
    format!("{} {}", date(dt), time_of_day(dt))
}

/// A timestamp split for display at a UTC offset: the calendar day (`2026-11-21`) and the time
/// of day (`12:41`).
pub fn day_and_time(ms: i64, offset_secs: i64) -> (String, String) {
    let dt = civil(ms, offset_secs);
    (date(dt), time_of_day(dt))
}

/// A duration such as `90s`, `15m`, `12h`, `30d`, `2w` (or `0`), in milliseconds: the one
/// spelling of durations and ages on every command line (`--expires`, `--grace`, `--since`).
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write it like 90m, 12h, 30d or 2w"))?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => {
            return Err(format!(
                "{text:?} has no known unit; use s, m, h, d or w (90m, 12h, 30d)"
            ));
        }
    };
    n.checked_mul(unit_ms)
        .ok_or_else(|| format!("{text:?} is too long"))
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
        // Before the epoch.
        assert_eq!(format_utc_minutes(-60_000), "1969-12-31 23:59");
    }

    #[test]
    fn out_of_range_values_are_clamped_not_failed() {
        assert!(format_utc_minutes(i64::MAX).starts_with("9999-12-"));
        assert!(format_utc_minutes(i64::MIN).starts_with("-9999-01-"));
        let (day, _) = day_and_time(0, i64::MAX);
        assert_eq!(day, "1970-01-02");
    }
}
