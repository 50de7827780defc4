//! Waiting out the server's rate limits. A request the server refused with `rate_limited` was
//! not applied and says how long to wait (`retry_after_ms`); a connection refused with HTTP 429
//! says it in `Retry-After`. The CLI waits that long and tries again on its own, a bounded number
//! of times ([`patiently`]); the full-screen client does the same for its outbox and history
//! pages (`tui::net`) and says so in the status line. Waits get a little random jitter so
//! clients refused together do not come back together.

use std::future::Future;
use std::time::Duration;

use warren_protocol::ErrorCode;

use crate::error::ClientError;

/// How many times the CLI sends one request (or connects) before it reports the refusal.
pub const MAX_TRIES: u32 = 6;
/// The longest single wait the CLI accepts; a longer one is reported instead of waited out.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The wait when the server names none.
const DEFAULT_WAIT_MS: u64 = 1000;

/// How long the server asked to wait, if `error` is a rate limit (a refused request or a 429).
pub fn rate_limit_wait(error: &ClientError) -> Option<Duration> {
    match error {
        ClientError::Server(wire) if wire.code == ErrorCode::RateLimited => Some(
            Duration::from_millis(wire.retry_after_ms.unwrap_or(DEFAULT_WAIT_MS).max(1)),
        ),
        ClientError::RateLimited { retry_after_ms, .. } => {
            Some(Duration::from_millis((*retry_after_ms).max(1)))
        }
        _ => None,
    }
}

/// The wait of a 429 answer in milliseconds: the body's `retry_after_ms`, else the
/// `Retry-After` header's seconds, else one second.
pub fn after_ms(body_ms: Option<u64>, header: Option<&str>) -> u64 {
    body_ms
        .or_else(|| {
            header
                .and_then(|h| h.trim().parse::<u64>().ok())
                .map(|secs| secs.saturating_mul(1000))
        })
        .unwrap_or(DEFAULT_WAIT_MS)
        .max(1)
}

/// Milliseconds as whole seconds for people, rounded up (at least 1).
pub fn whole_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// `wait` plus up to a tenth more (at most 250 ms), chosen at random.
pub fn jittered(wait: Duration) -> Duration {
    let mut byte = [0u8; 2];
    let random = if getrandom::fill(&mut byte).is_ok() {
        u16::from_le_bytes(byte)
    } else {
        0
    };
    let spread = (wait / 10).min(Duration::from_millis(250));
    wait + spread.mul_f64(f64::from(random) / f64::from(u16::MAX))
}

/// Runs `attempt` until the server stops refusing it for going too fast: after each
/// `rate_limited` answer (or 429), tells `waiting` how long it waits, waits that long (with
/// jitter) and tries again, at most [`MAX_TRIES`] times in all. Other errors, a wait over
/// [`MAX_WAIT`] and the last refusal are returned as they are.
pub async fn patiently<T, F, Fut>(
    mut attempt: F,
    mut waiting: impl FnMut(Duration, u32),
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut tries = 1;
    loop {
        let error = match attempt().await {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        match rate_limit_wait(&error) {
            Some(wait) if tries < MAX_TRIES && wait <= MAX_WAIT => {
                waiting(wait, tries);
                tokio::time::sleep(jittered(wait)).await;
                tries += 1;
            }
            _ => return Err(error),
        }
    }
}

/// The CLI's line on stderr while it waits (stdout, `--json` included, is left alone).
pub fn say_waiting(wait: Duration, tries: u32) {
    eprintln!(
        "warren: slowed down by the server: retrying in {:.1} s (try {} of {MAX_TRIES})",
        wait.as_secs_f64(),
        tries + 1
    );
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use warren_protocol::WireError;

    use super::*;

    fn limited(ms: u64) -> ClientError {
        ClientError::Server(
            WireError::new(ErrorCode::RateLimited, "slow down").with_retry_after_ms(ms),
        )
    }

    #[tokio::test]
    async fn a_rate_limited_request_is_sent_again_after_the_wait() {
        let calls = Cell::new(0);
        let mut waits = Vec::new();
        let started = tokio::time::Instant::now();
        let result = patiently(
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 3 { Err(limited(40)) } else { Ok(n) } }
            },
            |wait, _| waits.push(wait),
        )
        .await;
        assert_eq!(result.ok(), Some(3));
        assert_eq!(waits, vec![Duration::from_millis(40); 2]);
        assert!(started.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn the_tries_are_bounded_and_other_errors_are_not_retried() {
        let calls = Cell::new(0);
        let result: Result<(), _> = patiently(
            || {
                calls.set(calls.get() + 1);
                async { Err(limited(1)) }
            },
            |_, _| {},
        )
        .await;
        assert!(rate_limit_wait(&result.expect_err("still limited")).is_some());
        assert_eq!(calls.get(), MAX_TRIES);
        calls.set(0);
        let result: Result<(), _> = patiently(
            || {
                calls.set(calls.get() + 1);
                async { Err(ClientError::Timeout(1)) }
            },
            |_, _| {},
        )
        .await;
        assert!(matches!(result, Err(ClientError::Timeout(1))));
        assert_eq!(calls.get(), 1);
        let too_long: Result<(), _> =
            patiently(|| async { Err(limited(120_000)) }, |_, _| {}).await;
        assert!(too_long.is_err());
    }

    #[test]
    fn a_429_wait_comes_from_the_body_else_the_header() {
        assert_eq!(after_ms(Some(250), Some("3")), 250);
        assert_eq!(after_ms(None, Some("3")), 3000);
        assert_eq!(after_ms(None, Some("soon")), 1000);
        assert_eq!(after_ms(None, None), 1000);
        assert_eq!(whole_secs(1), 1);
        assert_eq!(whole_secs(2001), 3);
    }

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        for _ in 0..100 {
            let j = jittered(Duration::from_secs(2));
            assert!(
                j >= Duration::from_secs(2) && j <= Duration::from_millis(2200),
                "{j:?}"
            );
        }
    }
}
