//! Rate limits: token buckets per token for commands and for queries (two separate buckets,
//! shared by every connection of the same token), for log text sent in `log_chunk` frames (a
//! byte budget, counted in KiB) and for `log_subscribe`, and per token and per IP address for
//! new WebSocket connections (reconnect storms). A request over its bucket is answered
//! `rate_limited` with how long to wait (`retry_after_ms`) and is not applied (a chunk gets
//! `log_refused` with the same code and wait); a connection over its bucket gets HTTP 429 with
//! `Retry-After`. Every refusal counts in `rate_limited_total` (`/metrics`, `warren-server
//! status`).
//!
//! Each limit is a `warren-server serve` flag and a key of `[rate_limits]` in the config file;
//! `0` turns it off. The defaults and the reasons for them are in `docs/deploy.md`. The
//! failed-authentication limit per address is not here.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use warren_protocol::{ErrorCode, Id, WireError};

use crate::metrics::Metrics;

/// How often buckets that have refilled completely are forgotten, so the maps hold only the
/// tokens and addresses seen recently.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// The rate limits a running server enforces (`warren-server serve` flags).
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct RateLimits {
    /// Commands one token may send per second, sustained, over all its connections (0: no
    /// limit; fractions allowed: 0.5 is one every 2 s).
    #[arg(long, env = "WARREN_COMMANDS_PER_SECOND", default_value_t = 30.0, value_parser = parse_rate)]
    pub commands_per_second: f64,
    /// Commands one token may send at once before the per-second rate applies (never less than
    /// one second's worth).
    #[arg(long, env = "WARREN_COMMANDS_BURST", default_value_t = 300)]
    pub commands_burst: u32,
    /// Queries one token may send per second, sustained (0: no limit; fractions allowed).
    #[arg(long, env = "WARREN_QUERIES_PER_SECOND", default_value_t = 20.0, value_parser = parse_rate)]
    pub queries_per_second: f64,
    /// Queries one token may send at once before the per-second rate applies (never less than
    /// one second's worth).
    #[arg(long, env = "WARREN_QUERIES_BURST", default_value_t = 200)]
    pub queries_burst: u32,
    /// New WebSocket connections one token may open per minute, all at once if it likes (0: no
    /// limit).
    #[arg(
        long,
        env = "WARREN_CONNECTIONS_PER_TOKEN_PER_MINUTE",
        default_value_t = 600
    )]
    pub connections_per_token_per_minute: u32,
    /// New WebSocket connections one IP address may open per minute (0: no limit). Checked
    /// before the token, so it also bounds token guessing from one address.
    #[arg(
        long,
        env = "WARREN_CONNECTIONS_PER_IP_PER_MINUTE",
        default_value_t = 1200
    )]
    pub connections_per_ip_per_minute: u32,
    /// MiB of log text one token may send per second in `log_chunk` frames, sustained, over all
    /// its connections (0: no limit; fractions allowed). Each chunk counts at least 16 KiB.
    #[arg(long, env = "WARREN_LOG_MIB_PER_SECOND", default_value_t = 32.0, value_parser = parse_rate)]
    pub log_mib_per_second: f64,
    /// MiB of log text one token may send at once before the per-second rate applies (never
    /// less than one second's worth).
    #[arg(long, env = "WARREN_LOG_BURST_MIB", default_value_t = 256)]
    pub log_burst_mib: u32,
    /// `log_subscribe` frames one token may send per second, sustained (0: no limit; fractions
    /// allowed).
    #[arg(long, env = "WARREN_LOG_SUBSCRIBES_PER_SECOND", default_value_t = 10.0, value_parser = parse_rate)]
    pub log_subscribes_per_second: f64,
    /// `log_subscribe` frames one token may send at once before the per-second rate applies.
    #[arg(long, env = "WARREN_LOG_SUBSCRIBES_BURST", default_value_t = 100)]
    pub log_subscribes_burst: u32,
    /// KiB of agent reply text one token may stream per second in `agent_delta` frames,
    /// sustained, over all its connections (0: no limit; fractions allowed). Each delta counts
    /// at least 64 bytes. A delta over it is not relayed: watchers see that step's text when it
    /// is stored.
    #[arg(long, env = "WARREN_DELTA_KIB_PER_SECOND", default_value_t = 256.0, value_parser = parse_rate)]
    pub delta_kib_per_second: f64,
    /// KiB of agent reply text one token may stream at once before the per-second rate applies
    /// (never less than one second's worth).
    #[arg(long, env = "WARREN_DELTA_BURST_KIB", default_value_t = 4096)]
    pub delta_burst_kib: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            commands_per_second: 30.0,
            commands_burst: 300,
            queries_per_second: 20.0,
            queries_burst: 200,
            connections_per_token_per_minute: 600,
            connections_per_ip_per_minute: 1200,
            log_mib_per_second: 32.0,
            log_burst_mib: 256,
            log_subscribes_per_second: 10.0,
            log_subscribes_burst: 100,
            delta_kib_per_second: 256.0,
            delta_burst_kib: 4096,
        }
    }
}

impl RateLimits {
    /// Every limit off (for benchmarks and tests that push far more than a person would).
    pub fn off() -> Self {
        Self {
            commands_per_second: 0.0,
            commands_burst: 0,
            queries_per_second: 0.0,
            queries_burst: 0,
            connections_per_token_per_minute: 0,
            connections_per_ip_per_minute: 0,
            log_mib_per_second: 0.0,
            log_burst_mib: 0,
            log_subscribes_per_second: 0.0,
            log_subscribes_burst: 0,
            delta_kib_per_second: 0.0,
            delta_burst_kib: 0,
        }
    }
}

/// The slowest rate per second that is not "off" (one request every 1,000 s).
pub const MIN_RATE: f64 = 0.001;
/// The fastest rate per second.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Parses a rate per second: a number of at least 0 (`0` is off), fractions allowed (`0.5` is
/// one every two seconds).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number; write e.g. 30 or 0.5 (0 turns it off)"))?;
    let off = rate == 0.0;
    if !rate.is_finite() || !(off || (MIN_RATE..=MAX_RATE).contains(&rate)) {
        return Err(format!(
            "{text:?} is out of range; give 0 (off) or a rate between {MIN_RATE} and {MAX_RATE} a second"
        ));
    }
    Ok(rate)
}

/// What a bucket limits, for the refusal's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commands,
    Queries,
    TokenConnections,
    IpConnections,
    LogSubscribes,
    LogText,
    AgentText,
}

/// The budget unit of log text: a chunk costs its text's bytes in KiB, rounded up.
const LOG_CELL_BYTES: u64 = 1024;
/// The least a chunk costs, in cells (16 KiB): empty or tiny chunks still cost the writer a
/// transaction each.
pub const MIN_CHUNK_CELLS: u32 = 16;

/// What a `log_chunk` whose lines hold `text_bytes` bytes of text costs, in KiB cells.
pub fn chunk_cells(text_bytes: u64) -> u32 {
    let cells = text_bytes.div_ceil(LOG_CELL_BYTES);
    u32::try_from(cells)
        .unwrap_or(u32::MAX)
        .max(MIN_CHUNK_CELLS)
}

/// A byte budget in cells of `1/cells_per_unit` of a `unit` (KiB cells of MiB for log text,
/// 64-byte cells of KiB for agent text): `per_second` and `burst` units, said in `unit`s. The
/// rate stops where `Bucket::per_second` stops counting cells, so the text says what holds.
fn byte_bucket(
    kind: Kind,
    per_second: f64,
    burst: u32,
    cells_per_unit: u32,
    unit: &str,
) -> Option<Bucket<Id>> {
    if !per_second.is_finite() || per_second <= 0.0 {
        return None;
    }
    let cells_per_unit_f = f64::from(cells_per_unit);
    let rate = per_second.clamp(MIN_RATE, MAX_RATE / cells_per_unit_f);
    let mut bucket = Bucket::per_second(
        kind,
        rate * cells_per_unit_f,
        burst.saturating_mul(cells_per_unit),
    )?;
    let burst = (bucket.burst as f64 / cells_per_unit_f).ceil();
    bucket.rate = format!("{rate} {unit} a second, bursts of {burst} {unit}");
    Some(bucket)
}

/// The budget unit of agent reply text: a delta costs its text's bytes in 64-byte cells, rounded
/// up, and at least one cell (so a flood of tiny deltas is bounded too).
const DELTA_CELL_BYTES: usize = 64;

/// What an `agent_delta` of `text_bytes` bytes costs, in cells.
pub fn delta_cells(text_bytes: usize) -> u32 {
    u32::try_from(text_bytes.div_ceil(DELTA_CELL_BYTES))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// One keyed bucket and what it says when it refuses.
struct Bucket<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    kind: Kind,
    /// "30 a second, bursts of 300", for the message.
    rate: String,
    /// Most cells taken at once.
    burst: u32,
}

impl<K: Hash + Eq + Clone> Bucket<K> {
    fn per_second(kind: Kind, per_second: f64, burst: u32) -> Option<Self> {
        if !per_second.is_finite() || per_second <= 0.0 {
            return None;
        }
        let per_second = per_second.clamp(MIN_RATE, MAX_RATE);
        // A burst below one second's worth is raised to it (and to at least one request).
        let whole = per_second.ceil().min(f64::from(u32::MAX)) as u32;
        let burst = NonZeroU32::new(burst.max(whole).max(1))?;
        let quota = Quota::with_period(Duration::from_secs_f64(1.0 / per_second))?;
        Some(Self {
            limiter: RateLimiter::keyed(quota.allow_burst(burst)),
            kind,
            rate: format!("{per_second} a second, bursts of {burst}"),
            burst: burst.get(),
        })
    }

    fn per_minute(kind: Kind, per_minute: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(rate)),
            kind,
            rate: format!("{rate} a minute"),
            burst: rate.get(),
        })
    }

    /// Takes one cell for `key`, or says how long until one is free.
    fn take(&self, key: &K) -> Result<(), Duration> {
        self.take_n(key, 1)
    }

    /// Takes `n` cells for `key` (at most the burst: more could never be taken), or says how
    /// long until that many are free.
    fn take_n(&self, key: &K, n: u32) -> Result<(), Duration> {
        let Some(n) = NonZeroU32::new(n.clamp(1, self.burst.max(1))) else {
            return Ok(());
        };
        match self.limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            // Not reachable: `n` is at most the burst.
            Err(_) => Ok(()),
        }
    }

    fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The buckets of a running server.
pub struct Limiter {
    commands: Option<Bucket<Id>>,
    queries: Option<Bucket<Id>>,
    token_connections: Option<Bucket<Id>>,
    ip_connections: Option<Bucket<IpAddr>>,
    log_text: Option<Bucket<Id>>,
    log_subscribes: Option<Bucket<Id>>,
    agent_text: Option<Bucket<Id>>,
    metrics: Arc<Metrics>,
}

impl Limiter {
    /// Buckets for `limits`; refusals are counted in `metrics`.
    pub fn new(limits: &RateLimits, metrics: Arc<Metrics>) -> Self {
        Self {
            commands: Bucket::per_second(
                Kind::Commands,
                limits.commands_per_second,
                limits.commands_burst,
            ),
            queries: Bucket::per_second(
                Kind::Queries,
                limits.queries_per_second,
                limits.queries_burst,
            ),
            token_connections: Bucket::per_minute(
                Kind::TokenConnections,
                limits.connections_per_token_per_minute,
            ),
            ip_connections: Bucket::per_minute(
                Kind::IpConnections,
                limits.connections_per_ip_per_minute,
            ),
            log_text: byte_bucket(
                Kind::LogText,
                limits.log_mib_per_second,
                limits.log_burst_mib,
                (1024 * 1024 / LOG_CELL_BYTES) as u32,
                "MiB",
            ),
            log_subscribes: Bucket::per_second(
                Kind::LogSubscribes,
                limits.log_subscribes_per_second,
                limits.log_subscribes_burst,
            ),
            agent_text: byte_bucket(
                Kind::AgentText,
                limits.delta_kib_per_second,
                limits.delta_burst_kib,
                (1024 / DELTA_CELL_BYTES) as u32,
                "KiB",
            ),
            metrics,
        }
    }

    /// A command sent with `token`: let through, or `rate_limited` with the time to wait.
    pub fn command(&self, token: &Id) -> Result<(), WireError> {
        self.check(self.commands.as_ref(), token)
    }

    /// A query sent with `token`.
    pub fn query(&self, token: &Id) -> Result<(), WireError> {
        self.check(self.queries.as_ref(), token)
    }

    /// A new WebSocket connection authenticated with `token`.
    pub fn connection_with(&self, token: &Id) -> Result<(), WireError> {
        self.check(self.token_connections.as_ref(), token)
    }

    /// A new WebSocket connection from `ip` (before its token is checked).
    pub fn connection_from(&self, ip: IpAddr) -> Result<(), WireError> {
        self.check(self.ip_connections.as_ref(), &ip)
    }

    /// A `log_subscribe` sent with `token`.
    pub fn log_subscribe(&self, token: &Id) -> Result<(), WireError> {
        self.check(self.log_subscribes.as_ref(), token)
    }

    /// A `log_chunk` of `text_bytes` bytes of line text sent with `token`: let through, or
    /// the time to wait before it (and the chunks after it) may come again.
    pub fn log_chunk(&self, token: &Id, text_bytes: u64) -> Result<(), LogRefusal> {
        let Some(bucket) = self.log_text.as_ref() else {
            return Ok(());
        };
        bucket
            .take_n(token, chunk_cells(text_bytes))
            .map_err(|wait| {
                self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
                LogRefusal {
                    wait,
                    rate: bucket.rate.clone(),
                }
            })
    }

    /// An `agent_delta` of `text_bytes` bytes sent with `token`: whether it may be relayed. One
    /// that may not is dropped (and counted); the step's text arrives whole when it is stored.
    pub fn agent_delta(&self, token: &Id, text_bytes: usize) -> bool {
        let Some(bucket) = self.agent_text.as_ref() else {
            return true;
        };
        let relayed = bucket.take_n(token, delta_cells(text_bytes)).is_ok();
        if !relayed {
            self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        relayed
    }

    /// Counts a refusal made without asking a bucket (a chunk after one refused).
    pub fn count_refusal(&self) {
        self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    fn check<K: Hash + Eq + Clone>(
        &self,
        bucket: Option<&Bucket<K>>,
        key: &K,
    ) -> Result<(), WireError> {
        let Some(bucket) = bucket else {
            return Ok(());
        };
        bucket.take(key).map_err(|wait| {
            self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            refusal(bucket.kind, &bucket.rate, wait)
        })
    }

    /// Forgets full buckets once a minute for as long as the server runs.
    pub fn spawn_forgetting(self: &Arc<Self>) {
        let limiter = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FORGET_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    return;
                };
                limiter.forget_idle();
            }
        });
    }

    fn forget_idle(&self) {
        if let Some(b) = &self.commands {
            b.forget_idle();
        }
        if let Some(b) = &self.queries {
            b.forget_idle();
        }
        if let Some(b) = &self.token_connections {
            b.forget_idle();
        }
        if let Some(b) = &self.ip_connections {
            b.forget_idle();
        }
        if let Some(b) = &self.log_text {
            b.forget_idle();
        }
        if let Some(b) = &self.log_subscribes {
            b.forget_idle();
        }
        if let Some(b) = &self.agent_text {
            b.forget_idle();
        }
    }
}

/// A `log_chunk` over its token's budget: how long to wait, and the budget for the message.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRefusal {
    pub wait: Duration,
    pub rate: String,
}

impl LogRefusal {
    /// The refusal's message for chunk `chunk`, given the time still to wait.
    pub fn message(&self, chunk: u64, wait: Duration) -> String {
        let ms = wait_ms(wait);
        format!(
            "this token sent log text faster than the server allows ({}); re-send chunk {chunk} and the chunks after it in {:.1} s",
            self.rate,
            (ms as f64 / 1000.0).max(0.1)
        )
    }
}

/// Milliseconds to wait, at least 1 (a zero wait would invite an instant, equally refused retry).
pub fn wait_ms(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Whole seconds for an HTTP `Retry-After` header, rounded up (at least 1).
pub fn retry_after_secs(wait_ms: u64) -> u64 {
    wait_ms.div_ceil(1000).max(1)
}

fn refusal(kind: Kind, rate: &str, wait: Duration) -> WireError {
    let ms = wait_ms(wait);
    let secs = format!("{:.1}", (ms as f64 / 1000.0).max(0.1));
    let message = match kind {
        Kind::Commands => format!(
            "this token sent commands faster than the server allows ({rate}); nothing was applied; re-send it with the same request id in {secs} s"
        ),
        Kind::Queries => format!(
            "this token sent queries faster than the server allows ({rate}); ask again in {secs} s"
        ),
        Kind::TokenConnections => format!(
            "this token opened connections faster than the server allows ({rate}); connect again in {secs} s"
        ),
        Kind::IpConnections => format!(
            "this address opened connections faster than the server allows ({rate}); connect again in {secs} s"
        ),
        Kind::LogSubscribes => format!(
            "this token asked to follow logs faster than the server allows ({rate}); send log_subscribe again in {secs} s"
        ),
        Kind::LogText => format!(
            "this token sent log text faster than the server allows ({rate}); re-send it in {secs} s"
        ),
        Kind::AgentText => format!(
            "this token streamed agent text faster than the server allows ({rate}); its deltas are not relayed for {secs} s"
        ),
    };
    WireError::new(ErrorCode::RateLimited, message).with_retry_after_ms(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: u8) -> Id {
        Id::from_random("tok", [n; 10])
    }

    fn limiter(limits: &RateLimits) -> (Limiter, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        (Limiter::new(limits, metrics.clone()), metrics)
    }

    #[test]
    fn agent_text_past_its_budget_is_dropped_per_token_and_counted() {
        let limits = RateLimits {
            delta_kib_per_second: 1.0,
            delta_burst_kib: 2,
            ..RateLimits::off()
        };
        let (l, metrics) = limiter(&limits);
        // 2 KiB of burst: 32 cells of 64 bytes. A 1 KiB delta takes 16, a tiny one 1.
        assert!(l.agent_delta(&token(1), 1024));
        assert!(l.agent_delta(&token(1), 1000));
        assert!(!l.agent_delta(&token(1), 1), "the burst is spent");
        assert_eq!(metrics.rate_limited.load(Ordering::Relaxed), 1);
        // Another token has its own budget.
        assert!(l.agent_delta(&token(2), 2048));
        // Tiny deltas cost a cell each: a flood of them is bounded too.
        let tiny = (0..100).filter(|_| l.agent_delta(&token(3), 1)).count();
        assert!((32..=33).contains(&tiny), "{tiny}");
        assert_eq!(delta_cells(0), 1);
        assert_eq!(delta_cells(65), 2);
        // Off: everything goes.
        let (off, _) = limiter(&RateLimits::off());
        assert!((0..1000).all(|_| off.agent_delta(&token(1), 60_000)));
    }

    #[test]
    fn a_burst_past_the_bucket_is_refused_with_a_wait_and_counted() {
        let limits = RateLimits {
            commands_per_second: 1.0,
            commands_burst: 3,
            ..RateLimits::default()
        };
        let (limiter, metrics) = limiter(&limits);
        for _ in 0..3 {
            assert!(limiter.command(&token(1)).is_ok());
        }
        let refused = limiter.command(&token(1)).expect_err("over the burst");
        assert_eq!(refused.code, ErrorCode::RateLimited);
        let ms = refused.retry_after_ms.expect("a wait");
        assert!((1..=1000).contains(&ms), "{ms}");
        assert!(refused.message.contains("same request id"), "{refused}");
        assert!(refused.message.contains("1 a second, bursts of 3"));
        assert_eq!(metrics.rate_limited.load(Ordering::Relaxed), 1);
        // Another token has its own bucket, and queries are a separate bucket.
        assert!(limiter.command(&token(2)).is_ok());
        assert!(limiter.query(&token(1)).is_ok());
    }

    #[test]
    fn connections_are_limited_per_token_and_per_address() {
        let limits = RateLimits {
            connections_per_token_per_minute: 2,
            connections_per_ip_per_minute: 3,
            ..RateLimits::default()
        };
        let (limiter, _) = limiter(&limits);
        assert!(limiter.connection_with(&token(1)).is_ok());
        assert!(limiter.connection_with(&token(1)).is_ok());
        let refused = limiter.connection_with(&token(1)).expect_err("third");
        // One connection every 30 s refills the bucket.
        let ms = refused.retry_after_ms.expect("a wait");
        assert!((20_000..=30_000).contains(&ms), "{ms}");
        let ip = IpAddr::from([10, 0, 0, 1]);
        for _ in 0..3 {
            assert!(limiter.connection_from(ip).is_ok());
        }
        assert!(limiter.connection_from(ip).is_err());
        assert!(limiter.connection_from(IpAddr::from([10, 0, 0, 2])).is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let (limiter, metrics) = limiter(&RateLimits::off());
        for _ in 0..10_000 {
            assert!(limiter.log_chunk(&token(1), 256 * 1024).is_ok());
            assert!(limiter.log_subscribe(&token(1)).is_ok());
            assert!(limiter.command(&token(1)).is_ok());
            assert!(limiter.query(&token(1)).is_ok());
            assert!(limiter.connection_with(&token(1)).is_ok());
            assert!(
                limiter
                    .connection_from(IpAddr::from([127, 0, 0, 1]))
                    .is_ok()
            );
        }
        assert_eq!(metrics.rate_limited.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_burst_below_the_rate_is_raised_to_it() {
        let limits = RateLimits {
            queries_per_second: 5.0,
            queries_burst: 1,
            ..RateLimits::default()
        };
        let (limiter, _) = limiter(&limits);
        for _ in 0..5 {
            assert!(limiter.query(&token(1)).is_ok());
        }
        assert!(limiter.query(&token(1)).is_err());
    }

    #[test]
    fn a_fractional_rate_refills_slowly_and_bad_rates_are_refused() {
        let limits = RateLimits {
            commands_per_second: 0.25,
            commands_burst: 1,
            ..RateLimits::default()
        };
        let (limiter, _) = limiter(&limits);
        assert!(limiter.command(&token(1)).is_ok());
        let refused = limiter.command(&token(1)).expect_err("one every 4 s");
        let ms = refused.retry_after_ms.expect("a wait");
        assert!((3_000..=4_000).contains(&ms), "{ms}");
        assert!(refused.message.contains("0.25 a second"), "{refused}");
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert!(parse_rate("-1").is_err());
        assert!(
            parse_rate("1e-300").is_err(),
            "a period too long to represent"
        );
        assert!(parse_rate("1e9").is_err());
        assert!(parse_rate("fast").unwrap_err().contains("e.g. 30"));
    }

    #[test]
    fn log_text_is_a_byte_budget_and_subscribes_a_count() {
        let limits = RateLimits {
            log_mib_per_second: 1.0,
            log_burst_mib: 1,
            log_subscribes_per_second: 1.0,
            log_subscribes_burst: 2,
            ..RateLimits::default()
        };
        let (limiter, metrics) = limiter(&limits);
        // 1 MiB of burst: sixteen 64 KiB chunks pass, the seventeenth waits about 64 ms.
        for _ in 0..16 {
            assert!(limiter.log_chunk(&token(1), 64 * 1024).is_ok());
        }
        let refused = limiter
            .log_chunk(&token(1), 64 * 1024)
            .expect_err("over the budget");
        assert!(
            refused.wait <= Duration::from_millis(100),
            "{:?}",
            refused.wait
        );
        let message = refused.message(17, refused.wait);
        assert!(
            message.contains("1 MiB a second, bursts of 1 MiB") && message.contains("chunk 17"),
            "{message}"
        );
        assert_eq!(metrics.rate_limited.load(Ordering::Relaxed), 1);
        // Tiny chunks still cost 16 KiB each: 64 of them fill another token's burst.
        for _ in 0..64 {
            assert!(limiter.log_chunk(&token(2), 10).is_ok());
        }
        assert!(limiter.log_chunk(&token(2), 10).is_err());
        // Subscribes are counted apart from queries.
        assert!(limiter.log_subscribe(&token(1)).is_ok());
        assert!(limiter.log_subscribe(&token(1)).is_ok());
        let refused = limiter.log_subscribe(&token(1)).expect_err("third");
        assert!(refused.message.contains("follow logs"), "{refused}");
        assert!(limiter.query(&token(1)).is_ok());
        assert_eq!(chunk_cells(0), MIN_CHUNK_CELLS);
        assert_eq!(chunk_cells(64 * 1024 + 1), 65);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
        assert_eq!(wait_ms(Duration::ZERO), 1);
    }
}
