//! How long to wait before trying the same provider again: exponential backoff with full jitter
//! (a random wait between zero and `min(cap, base × 2^n)`, so callers refused together do not
//! come back together), or the provider's own `Retry-After` when it names one, up to a cap.

use std::time::Duration;

/// The retry rules of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls to one provider per chain call (the first included) before the next provider.
    pub max_tries: u32,
    /// The first backoff's ceiling; each further try doubles it.
    pub base: Duration,
    /// The largest backoff ceiling.
    pub cap: Duration,
    /// The longest `Retry-After` waited out; a provider asking for more is left for the next one.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_tries: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(30),
        }
    }
}

/// What to do after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then try the same provider again.
    Wait(Duration),
    /// Go on to the next provider: the tries are used up, or the provider asked for a longer
    /// wait than the cap.
    MoveOn,
}

impl RetryPolicy {
    /// The decision after the `tries`-th failed try (1 for the first), with the provider's
    /// `Retry-After`, and `random` a number drawn uniformly from `0..=u64::MAX`.
    pub fn next(&self, tries: u32, retry_after: Option<Duration>, random: u64) -> Next {
        if tries >= self.max_tries {
            return Next::MoveOn;
        }
        match retry_after {
            Some(wait) if wait > self.retry_after_cap => Next::MoveOn,
            Some(wait) => Next::Wait(wait),
            None => Next::Wait(self.jittered(tries, random)),
        }
    }

    /// Full jitter: uniformly in `[0, min(cap, base × 2^(tries-1))]`.
    pub fn jittered(&self, tries: u32, random: u64) -> Duration {
        let exponent = tries.saturating_sub(1).min(30);
        let ceiling = self
            .base
            .saturating_mul(1u32 << exponent)
            .min(self.cap)
            .as_millis() as u64;
        Duration::from_millis(((random as u128 * (ceiling as u128 + 1)) >> 64) as u64)
    }
}

/// A random number for the jitter (the operating system's; the time if that fails).
pub fn random() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs().rotate_left(32))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_tries: 4,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(350),
            retry_after_cap: Duration::from_secs(5),
        }
    }

    #[test]
    fn the_ceiling_doubles_up_to_the_cap_and_jitter_spans_it() {
        let p = policy();
        // The extremes of the random draw are the extremes of the window.
        assert_eq!(p.jittered(1, 0), Duration::ZERO);
        assert_eq!(p.jittered(1, u64::MAX), Duration::from_millis(100));
        assert_eq!(p.jittered(2, u64::MAX), Duration::from_millis(200));
        assert_eq!(p.jittered(3, u64::MAX), Duration::from_millis(350));
        assert_eq!(p.jittered(40, u64::MAX), Duration::from_millis(350));
        assert_eq!(p.jittered(2, u64::MAX / 2), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap_and_tries_are_bounded() {
        let p = policy();
        assert_eq!(
            p.next(1, Some(Duration::from_secs(2)), 0),
            Next::Wait(Duration::from_secs(2))
        );
        assert_eq!(p.next(1, Some(Duration::from_secs(6)), 0), Next::MoveOn);
        assert_eq!(
            p.next(3, None, u64::MAX),
            Next::Wait(Duration::from_millis(350))
        );
        assert_eq!(p.next(4, None, 0), Next::MoveOn);
        assert_eq!(p.next(4, Some(Duration::ZERO), 0), Next::MoveOn);
    }

    #[test]
    fn random_draws_differ() {
        let draws: std::collections::HashSet<u64> = (0..8).map(|_| random()).collect();
        assert!(draws.len() > 1);
    }
}
