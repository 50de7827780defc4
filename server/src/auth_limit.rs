//! The limit on failed authentications per IP address: a token that is wrong, expired or
//! revoked on `/ws`, or a wrong invite code on `/join`, uses one place of the address's bucket
//! (`governor`'s GCRA: `failed_auth_per_minute` places, refilled evenly over the window). When a
//! failure finds the bucket empty, the address is refused *every* authentication — good ones
//! too, or a guesser would learn from which guess got through — with HTTP 429 and `Retry-After`
//! until a place is free again. Successful authentications use no place, so reconnecting clients
//! and busy bots never meet the limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::MonotonicClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Limiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, MonotonicClock>;

/// Addresses remembered as blocked before old entries are swept on the next block.
const SWEEP_AT: usize = 4096;

/// Failed authentications per address, and the addresses refused until a time.
pub struct FailedAuths {
    /// `None`: the limit is off.
    limiter: Option<Limiter>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl std::fmt::Debug for FailedAuths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailedAuths")
            .field("on", &self.limiter.is_some())
            .finish()
    }
}

impl FailedAuths {
    /// `per_window` failures per address over `window` (0: no limit).
    pub fn new(per_window: u32, window: Duration) -> Self {
        let limiter = NonZeroU32::new(per_window).and_then(|burst| {
            let period = window.checked_div(burst.get())?;
            let quota = Quota::with_period(period)?.allow_burst(burst);
            Some(RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                MonotonicClock,
            ))
        });
        Self {
            limiter,
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `ip` must wait before it may authenticate again, if it must.
    pub fn blocked(&self, ip: Option<IpAddr>) -> Option<Duration> {
        let ip = ip?;
        self.limiter.as_ref()?;
        let mut blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&ip)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(&ip);
            None
        }
    }

    /// Records a failed authentication from `ip`. Returns how long the address must now wait
    /// when this failure was one too many (answer 429, not 401).
    pub fn failed(&self, ip: Option<IpAddr>) -> Option<Duration> {
        let ip = ip?;
        let limiter = self.limiter.as_ref()?;
        let now = Instant::now();
        let wait = match limiter.check_key(&ip) {
            Ok(()) => return None,
            Err(not_until) => not_until.wait_time_from(now),
        };
        if let Ok(mut blocked) = self.blocked.lock() {
            if blocked.len() >= SWEEP_AT {
                blocked.retain(|_, until| *until > now);
                limiter.retain_recent();
            }
            blocked.insert(ip, now + wait);
        }
        Some(wait)
    }
}

/// Whole seconds to put in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// What a refused address is told.
pub fn message(wait: Duration) -> String {
    format!(
        "too many failed sign-ins from this address; try again in {} s",
        retry_after_secs(wait)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn the_sixth_failure_in_a_minute_blocks_the_address_and_no_other() {
        let limit = FailedAuths::new(5, Duration::from_secs(60));
        for n in 1..=5 {
            assert_eq!(limit.failed(ip(1)), None, "failure {n} is within the limit");
            assert_eq!(limit.blocked(ip(1)), None);
        }
        let wait = limit.failed(ip(1)).expect("the sixth is one too many");
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(12),
            "one place refills in 60/5 s: {wait:?}"
        );
        let still = limit.blocked(ip(1)).expect("blocked until then");
        assert!(still <= wait);
        assert_eq!(retry_after_secs(still), 12);
        assert_eq!(
            limit.blocked(ip(2)),
            None,
            "other addresses are not affected"
        );
        assert_eq!(limit.failed(ip(2)), None);
    }

    #[test]
    fn a_place_refills_after_its_share_of_the_window() {
        let limit = FailedAuths::new(2, Duration::from_millis(200));
        assert_eq!(limit.failed(ip(1)), None);
        assert_eq!(limit.failed(ip(1)), None);
        let wait = limit.failed(ip(1)).expect("over");
        let deadline = Instant::now() + wait + Duration::from_secs(5);
        while limit.blocked(ip(1)).is_some() {
            assert!(
                Instant::now() < deadline,
                "still blocked long after {wait:?}"
            );
            std::thread::yield_now();
        }
        assert_eq!(limit.failed(ip(1)), None, "one place refilled");
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limit = FailedAuths::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            assert_eq!(limit.failed(ip(1)), None);
        }
        assert_eq!(limit.blocked(ip(1)), None);
        assert_eq!(
            FailedAuths::new(5, Duration::from_secs(60)).failed(None),
            None
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(11_001)), 12);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert!(message(Duration::from_secs(3)).contains("try again in 3 s"));
    }
}
