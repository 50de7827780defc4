//! Money on the agents command line: dollar amounts (`0.15`, `$3`, `20usd`) read as decimal text
//! into exact micro-dollars (never through a float), and budgets such as `20usd/month`.

use warren_protocol::agent::MicroUsd;
use warren_protocol::budget::BudgetPeriod;

/// Micro-dollars in a dollar.
const MICROS: u64 = 1_000_000;

/// Reads a dollar amount as exact micro-dollars: `3`, `0.15`, `$1.50`, `20usd`, `0.000001`
/// (at most six decimals, the smallest unit warren counts).
pub fn parse_usd(text: &str) -> Result<MicroUsd, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let number = lower.strip_prefix('$').unwrap_or(&lower);
    let number = number.strip_suffix("usd").unwrap_or(number).trim();
    let bad = || {
        format!(
            "{trimmed:?} is not an amount in dollars; write it like 3, 0.15 or 1.50 (at most six decimals)"
        )
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    if fraction.len() > 6 {
        return Err(format!(
            "{trimmed:?} has more than six decimals; warren counts in millionths of a dollar"
        ));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let padded = format!("{fraction:0<6}");
    let fraction: u64 = padded.parse().map_err(|_| bad())?;
    whole
        .checked_mul(MICROS)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("{trimmed:?} is too large an amount"))
}

/// Writes micro-dollars back as the shortest exact decimal: `0.15`, `3`, `0.000001`.
pub fn usd_text(micro: MicroUsd) -> String {
    let whole = micro / MICROS;
    let fraction = micro % MICROS;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A budget limit and its period: `20usd/month`, `$5/day`, `100usd/week`, `2.50/month`.
pub fn parse_budget(text: &str) -> Result<(MicroUsd, BudgetPeriod), String> {
    let trimmed = text.trim();
    let Some((amount, period)) = trimmed.split_once('/') else {
        return Err(format!(
            "{trimmed:?} is not a budget; write the amount and the period, like 20usd/month, 5usd/day or 100usd/week"
        ));
    };
    let limit = parse_usd(amount)?;
    let period = BudgetPeriod::parse(period).ok_or_else(|| {
        format!(
            "{:?} is not a budget period; use day, week or month (as in 20usd/month)",
            period.trim()
        )
    })?;
    if limit == 0 {
        return Err(
            "a budget of $0 would stop every model call; give an amount above zero (or clear the budget)"
                .to_owned(),
        );
    }
    Ok((limit, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_parse_exactly_without_float_rounding() {
        assert_eq!(parse_usd("0.15"), Ok(150_000));
        assert_eq!(parse_usd("3"), Ok(3_000_000));
        assert_eq!(parse_usd("$1.50"), Ok(1_500_000));
        assert_eq!(parse_usd("20usd"), Ok(20_000_000));
        assert_eq!(parse_usd("20 USD"), Ok(20_000_000));
        assert_eq!(parse_usd(".5"), Ok(500_000));
        assert_eq!(parse_usd("0.000001"), Ok(1));
        // 0.29 is 0.28999999999999998 as a float; as text it is exact.
        assert_eq!(parse_usd("0.29"), Ok(290_000));
        assert_eq!(parse_usd("1.1"), Ok(1_100_000));
        assert_eq!(parse_usd("0"), Ok(0));
    }

    #[test]
    fn bad_amounts_say_how_to_write_one() {
        for bad in ["", ".", "abc", "1.2.3", "-1", "1e3", "1,50", "$"] {
            let err = parse_usd(bad).err().unwrap_or_default();
            assert!(err.contains("like 3, 0.15"), "{bad:?}: {err}");
        }
        let err = parse_usd("0.0000001").err().unwrap_or_default();
        assert!(err.contains("six decimals"), "{err}");
        assert!(parse_usd("99999999999999999999").is_err());
        assert!(parse_usd("18446744073710").is_err());
    }

    #[test]
    fn amounts_round_trip_through_text() {
        for micro in [0, 1, 150_000, 3_000_000, 1_500_000, 123_456_789] {
            assert_eq!(parse_usd(&usd_text(micro)), Ok(micro), "{micro}");
        }
        assert_eq!(usd_text(150_000), "0.15");
        assert_eq!(usd_text(3_000_000), "3");
    }

    #[test]
    fn budgets_read_amount_and_period() {
        assert_eq!(
            parse_budget("20usd/month"),
            Ok((20_000_000, BudgetPeriod::Month))
        );
        assert_eq!(parse_budget("5usd/day"), Ok((5_000_000, BudgetPeriod::Day)));
        assert_eq!(
            parse_budget("$100/week"),
            Ok((100_000_000, BudgetPeriod::Week))
        );
        assert_eq!(
            parse_budget("2.50/Monthly"),
            Ok((2_500_000, BudgetPeriod::Month))
        );
        let err = parse_budget("20usd").err().unwrap_or_default();
        assert!(err.contains("20usd/month"), "{err}");
        let err = parse_budget("20usd/year").err().unwrap_or_default();
        assert!(err.contains("day, week or month"), "{err}");
        let err = parse_budget("0usd/day").err().unwrap_or_default();
        assert!(err.contains("above zero"), "{err}");
        let err = parse_budget("lots/day").err().unwrap_or_default();
        assert!(err.contains("not an amount"), "{err}");
    }
}
