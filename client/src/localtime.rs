//! The local time zone's offset from UTC, so times show as the user's own clock does.

/// Seconds east of UTC for the local time zone at `at_ms` (0 where it cannot be found).
pub fn offset_secs(at_ms: i64) -> i64 {
    #[cfg(unix)]
    {
        let t = (at_ms / 1000) as libc::time_t;
        let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
        // SAFETY: `localtime_r` is the re-entrant form: it writes only into the `tm` we pass,
        // which is a valid, zero-initialised `libc::tm`; both pointers outlive the call. The
        // result is read only when the call reports success.
        let result = unsafe { libc::localtime_r(&t, tm.as_mut_ptr()) };
        if result.is_null() {
            return 0;
        }
        // SAFETY: `localtime_r` returned non-null, so it filled in `tm`.
        let tm = unsafe { tm.assume_init() };
        // `c_long` is i64 on 64-bit targets and i32 on 32-bit ones.
        #[allow(clippy::useless_conversion)]
        i64::from(tm.tm_gmtoff)
    }
    #[cfg(not(unix))]
    {
        let _ = at_ms;
        0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn offset_is_a_plausible_time_zone() {
        let offset = super::offset_secs(1_795_264_885_000);
        assert!((-14 * 3600..=14 * 3600).contains(&offset), "{offset}");
    }
}
