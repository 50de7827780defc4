//! The streaming relay of agent runs (issue 9): how much later than a client reading the model
//! provider's stream directly does a client watching the run through warren get each token?
//!
//! ```text
//! cargo bench -p warren-e2e --bench relay
//! ```
//!
//! The fake provider (`warren_e2e::fake_provider`, in this process) streams
//! `WARREN_BENCH_RELAY_TOKENS` tokens (2,000 by default), one every
//! `WARREN_BENCH_RELAY_TOKEN_US` microseconds (1,000), and notes when it writes each one. By
//! default (`relay/real.rs`) the release `warren-server` and a real `warren worker` run as
//! processes; the worker is given a real agent run (`provider add`, `agent add`, `agent ask`)
//! whose provider is the fake, and streams the answer through the server to watchers
//! (`run_watch`) that note when each `agent_delta` arrives; a direct reader reads a second
//! stream of the same shape from the fake at the same time. Per token, overhead = (watcher's
//! arrival − provider's write) − (direct reader's arrival − provider's write). Measured with one
//! watcher, then with `WARREN_BENCH_RELAY_VIEWERS` (100). Targets: p50 ≤ 1 ms, p99 ≤ 5 ms.
//! Every watcher must get every token, in order, or the benchmark fails.
//!
//! `WARREN_BENCH_RELAY_MODE=direct-worker` (`relay/direct_worker.rs`) plays the worker itself
//! against an in-process server instead: the server's relay alone, without the worker's agent
//! loop and its coalescing. See `docs/performance.md` ("Agent streaming").

#[path = "relay/agent.rs"]
mod agent;
#[path = "relay/direct_worker.rs"]
mod direct_worker;
#[path = "relay/real.rs"]
mod real;
#[path = "../tests/support/real_runs.rs"]
mod real_runs;
#[path = "logs/setup.rs"]
#[allow(dead_code)]
mod setup;
#[path = "relay/sse.rs"]
mod sse;
#[path = "sync/stats.rs"]
mod stats;
#[path = "relay/watch.rs"]
mod watch;
#[path = "sync/ws.rs"]
#[allow(dead_code)]
mod ws;

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::stats::ms;

const P50_TARGET: Duration = Duration::from_millis(1);
const P99_TARGET: Duration = Duration::from_millis(5);

fn env_u64(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v} is not a whole number")),
        Err(_) => Ok(default),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "MISSES" }
}

/// What the environment asked for.
pub struct Settings {
    pub tokens: usize,
    /// Between two tokens of the provider's stream.
    pub gap: Duration,
    /// Watchers of the second phase.
    pub viewers: usize,
}

impl Settings {
    /// The tokens the fake streams: " tok0", " tok1", …
    pub fn words(&self) -> Vec<String> {
        (0..self.tokens).map(|n| format!(" tok{n}")).collect()
    }
}

fn main() -> Result<()> {
    // `cargo test --all-targets` runs bench binaries without `--bench`: stay out of its time.
    if !std::env::args().any(|a| a == "--bench") {
        println!("relay benchmark skipped; run it with `cargo bench -p warren-e2e --bench relay`");
        return Ok(());
    }
    let settings = Settings {
        tokens: env_u64("WARREN_BENCH_RELAY_TOKENS", 2_000)?.max(1) as usize,
        gap: Duration::from_micros(env_u64("WARREN_BENCH_RELAY_TOKEN_US", 1_000)?),
        viewers: env_u64("WARREN_BENCH_RELAY_VIEWERS", 100)?.max(1) as usize,
    };
    // Plain-http loopback, but reqwest still wants a rustls provider.
    let _ = warren_server::tls::crypto_provider()
        .as_ref()
        .clone()
        .install_default();
    let mode = std::env::var("WARREN_BENCH_RELAY_MODE").unwrap_or_default();
    match mode.as_str() {
        "" | "worker" => real_mode(&settings),
        "direct-worker" => direct_worker_mode(&settings),
        other => bail!(
            "WARREN_BENCH_RELAY_MODE={other} is not a mode; use worker (the default) or direct-worker"
        ),
    }
}

fn targets(p50: Duration, p99: Duration) -> String {
    format!(
        "p50 {} the ≤ {} target, p99 {} the ≤ {} target",
        verdict(p50 <= P50_TARGET),
        ms(P50_TARGET),
        verdict(p99 <= P99_TARGET),
        ms(P99_TARGET)
    )
}

fn real_mode(settings: &Settings) -> Result<()> {
    let phases = real::run(settings)?;
    println!();
    println!(
        "agent streaming through the real worker: {} tokens, one every {} µs; provider → warren worker → warren-server → watchers, vs a direct reader of the provider's SSE at the same time",
        settings.tokens,
        settings.gap.as_micros()
    );
    for p in &phases {
        let p50 = Duration::from_secs_f64(p.overhead.percentile_ms(50.0).max(0.0) / 1000.0);
        let p99 = Duration::from_secs_f64(p.overhead.percentile_ms(99.0).max(0.0) / 1000.0);
        println!(
            "   {:>3} watcher(s), stream {:.2} s, {} agent_delta frames per watcher ({:.1} tokens a frame)",
            p.viewers,
            p.span.as_secs_f64(),
            p.frames,
            settings.tokens as f64 / p.frames.max(1) as f64
        );
        println!(
            "       through warren {} ({} samples)",
            p.through.summary(),
            p.through.len()
        );
        println!(
            "       direct         {} ({} samples)",
            p.direct.summary(),
            p.direct.len()
        );
        println!(
            "       overhead       {} ({} samples): {}",
            p.overhead.summary(),
            p.overhead.len(),
            targets(p50, p99)
        );
    }
    Ok(())
}

fn direct_worker_mode(settings: &Settings) -> Result<()> {
    let phases = direct_worker::run(settings)?;
    println!();
    println!(
        "agent streaming, the benchmark as the worker: {} tokens, one every {} µs, worker → warren → watchers vs reading the provider's SSE directly",
        settings.tokens,
        settings.gap.as_micros()
    );
    for phase in &phases {
        println!(
            "   {:>3} watcher(s): overhead {} over {} samples (stream {:.2} s): {}",
            phase.viewers,
            phase.overhead.summary(),
            phase.overhead.len(),
            phase.span.as_secs_f64(),
            targets(
                phase.overhead.percentile(50.0),
                phase.overhead.percentile(99.0)
            )
        );
    }
    Ok(())
}
