//! Calendar arithmetic of budgets and usage, all in UTC: where a day, week (from Monday) or
//! month (from the 1st) starts, and the day a timestamp falls on (`2026-12-05`).

use jiff::civil::{Date, Time};
use jiff::tz::Offset;
use jiff::{Timestamp, ToSpan};
use warren_protocol::budget::BudgetPeriod;

/// The calendar date of `ms` in UTC (clamped into the years the calendar supports).
fn date(ms: i64) -> Date {
    let instant = Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    Offset::UTC.to_datetime(instant).date()
}

/// Midnight UTC at the start of `date`, in ms since the epoch.
fn midnight(date: Date) -> i64 {
    Offset::UTC
        .to_timestamp(date.to_datetime(Time::midnight()))
        .map_or(0, |t| t.as_millisecond())
}

/// When the `period` that holds `now` began (ms since the epoch): midnight UTC of the day, of
/// the week's Monday, or of the month's 1st.
pub fn start(period: BudgetPeriod, now: i64) -> i64 {
    let today = date(now);
    let first = match period {
        BudgetPeriod::Day => today,
        BudgetPeriod::Week => {
            let back = i64::from(today.weekday().to_monday_zero_offset());
            today.checked_sub(back.days()).unwrap_or(today)
        }
        BudgetPeriod::Month => today.first_of_month(),
    };
    midnight(first)
}

/// The UTC day of `ms` as usage rows name it: `2026-12-05`.
pub fn day(ms: i64) -> String {
    let d = date(ms);
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// The period in words for messages: `today`, `this week`, `this month`.
pub fn this(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Day => "today",
        BudgetPeriod::Week => "this week",
        BudgetPeriod::Month => "this month",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-05 (a Saturday) 15:30:00 UTC.
    const SAT: i64 = 1_796_484_600_000;

    #[test]
    fn periods_start_at_midnight_utc_on_the_day_the_monday_and_the_first() {
        assert_eq!(day(SAT), "2026-12-05");
        assert_eq!(day(start(BudgetPeriod::Day, SAT)), "2026-12-05");
        assert_eq!(start(BudgetPeriod::Day, SAT) % 86_400_000, 0);
        assert_eq!(day(start(BudgetPeriod::Week, SAT)), "2026-11-30");
        assert_eq!(day(start(BudgetPeriod::Month, SAT)), "2026-12-01");
        assert_eq!(
            SAT - start(BudgetPeriod::Day, SAT),
            15 * 3_600_000 + 30 * 60_000
        );
        // A Monday is its own week's start; the last millisecond of a month is still in it.
        let monday = start(BudgetPeriod::Week, SAT);
        assert_eq!(start(BudgetPeriod::Week, monday), monday);
        let dec1 = start(BudgetPeriod::Month, SAT);
        assert_eq!(day(start(BudgetPeriod::Month, dec1 - 1)), "2026-11-01");
    }
}
