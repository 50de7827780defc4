//! The local time zone, from the system's time zone database (`TZ`, `/etc/localtime`), so times
//! show as the user's own clock does — including the daylight-saving rules in force at each
//! instant, not just now.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The system's time zone (UTC where it cannot be found).
pub fn zone() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// Seconds east of UTC for the local time zone at `at_ms` (0 where it cannot be found).
pub fn offset_secs(at_ms: i64) -> i64 {
    offset_in(&zone(), at_ms)
}

/// Seconds east of UTC in `zone` at `at_ms` (0 for an instant the calendar cannot hold).
pub fn offset_in(zone: &TimeZone, at_ms: i64) -> i64 {
    Timestamp::from_millisecond(at_ms).map_or(0, |at| i64::from(zone.to_offset(at).seconds()))
}

/// `at_ms` split into the local calendar day and time of day, with the offset in force at that
/// instant (a message from last winter shows winter time).
pub fn day_and_time(at_ms: i64) -> (String, String) {
    day_and_time_in(&zone(), at_ms)
}

/// `at_ms` split into the calendar day and time of day in `zone`, with the offset `zone` has at
/// that instant.
pub fn day_and_time_in(zone: &TimeZone, at_ms: i64) -> (String, String) {
    warren_protocol::time::day_and_time(at_ms, offset_in(zone, at_ms))
}

/// `at_ms` as `YYYY-MM-DD HH:MM` on the local clock, with the offset in force at that instant.
pub fn minutes(at_ms: i64) -> String {
    minutes_in(&zone(), at_ms)
}

/// `at_ms` as `YYYY-MM-DD HH:MM` in `zone`.
pub fn minutes_in(zone: &TimeZone, at_ms: i64) -> String {
    let (day, time) = day_and_time_in(zone, at_ms);
    format!("{day} {time}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_a_plausible_time_zone() {
        let offset = offset_secs(1_795_264_885_000);
        assert!((-14 * 3600..=14 * 3600).contains(&offset), "{offset}");
    }

    #[test]
    fn offsets_follow_daylight_saving_time() -> Result<(), jiff::Error> {
        let Ok(berlin) = TimeZone::get("Europe/Berlin") else {
            // No tz database on this machine: nothing to check against.
            return Ok(());
        };
        let winter = "2026-01-15T12:00:00Z"
            .parse::<Timestamp>()?
            .as_millisecond();
        let summer = "2026-07-15T12:00:00Z"
            .parse::<Timestamp>()?
            .as_millisecond();
        assert_eq!(offset_in(&berlin, winter), 3600);
        assert_eq!(offset_in(&berlin, summer), 7200);
        assert_eq!(offset_in(&TimeZone::UTC, summer), 0);
        Ok(())
    }
}
