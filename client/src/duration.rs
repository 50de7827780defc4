//! Durations on the runs command line: `30m`, `1h30m`, `90s` in (`--timeout`, `--since`), and
//! short readable ones out (`1m05s`, `2h03m`, `850ms`) for run times. Each part of a compound
//! duration is read by the one duration spelling the whole CLI shares
//! ([`warren_protocol::time::parse_duration_ms`]), so `--expires 7d` and `--timeout 1h30m` agree.

/// A duration such as `90s`, `30m`, `1h30m`, `2d` (or `0`), in milliseconds. Parts must be in
/// decreasing unit order and each unit may appear once.
pub fn parse_ms(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("an empty duration; write it like 90s, 30m, 1h30m or 2d".to_owned());
    }
    if trimmed == "0" {
        return Ok(0);
    }
    let mut total: i64 = 0;
    let mut last_unit_ms = i64::MAX;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_end = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .map_or(rest.len(), |i| digits + i);
        let part = &rest[..unit_end];
        let ms = warren_protocol::time::parse_duration_ms(part).map_err(|_| bad(trimmed))?;
        let unit_ms = warren_protocol::time::parse_duration_ms(&format!("1{}", &part[digits..]))
            .map_err(|_| bad(trimmed))?;
        if unit_ms >= last_unit_ms {
            return Err(format!(
                "{trimmed:?} repeats a unit or has them out of order; write the largest first, like 1h30m"
            ));
        }
        last_unit_ms = unit_ms;
        total = total
            .checked_add(ms)
            .ok_or_else(|| format!("{trimmed:?} is too long"))?;
        rest = &rest[unit_end..];
    }
    Ok(total)
}

/// Like [`parse_ms`], in whole seconds (a part below a second is refused).
pub fn parse_secs(text: &str) -> Result<u64, String> {
    let ms = parse_ms(text)?;
    if ms % 1000 != 0 {
        return Err(format!(
            "{:?} is not a whole number of seconds",
            text.trim()
        ));
    }
    u64::try_from(ms / 1000).map_err(|_| bad(text.trim()))
}

fn bad(text: &str) -> String {
    format!("{text:?} is not a duration; write it like 90s, 30m, 1h30m or 2d (units s, m, h, d, w)")
}

/// A length of time for people: `850ms`, `42s`, `3m05s`, `2h03m`, `3d04h`.
pub fn format_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A timeout or limit as it was most likely written: `30m`, `1h30m`, `90s`, `2d`.
pub fn format_secs_exact(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_and_compound_durations() {
        assert_eq!(parse_secs("90s"), Ok(90));
        assert_eq!(parse_secs("30m"), Ok(1800));
        assert_eq!(parse_secs("1h30m"), Ok(5400));
        assert_eq!(parse_secs("2d"), Ok(172_800));
        assert_eq!(parse_secs(" 1h0m5s "), Ok(3605));
        assert_eq!(parse_secs("0"), Ok(0));
        assert_eq!(parse_ms("1w"), Ok(604_800_000));
    }

    #[test]
    fn refuses_what_is_not_a_duration_and_says_how_to_write_one() {
        for bad in ["", "30", "m", "1x", "1h30", "abc", "-5m"] {
            let err = parse_secs(bad).err().unwrap_or_default();
            assert!(err.contains("1h30m"), "{bad:?}: {err}");
        }
        let err = parse_secs("30m1h").err().unwrap_or_default();
        assert!(err.contains("largest first"), "{err}");
        assert!(parse_secs("5m5m").is_err());
    }

    #[test]
    fn formats_lengths_short() {
        assert_eq!(format_ms(850), "850ms");
        assert_eq!(format_ms(42_000), "42s");
        assert_eq!(format_ms(185_000), "3m05s");
        assert_eq!(format_ms(7_380_000), "2h03m");
        assert_eq!(format_ms(273_600_000), "3d04h");
        assert_eq!(format_ms(-5), "0ms");
    }

    #[test]
    fn formats_limits_as_written() {
        assert_eq!(format_secs_exact(1800), "30m");
        assert_eq!(format_secs_exact(5400), "1h30m");
        assert_eq!(format_secs_exact(90), "1m30s");
        assert_eq!(format_secs_exact(0), "0s");
        for text in ["30m", "1h30m", "2d", "45s"] {
            assert_eq!(parse_secs(text).map(format_secs_exact).as_deref(), Ok(text));
        }
    }
}
