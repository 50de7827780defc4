//! The streaming relay of agent runs (issue 9): how much later than a client reading the model
//! provider's stream directly does a client watching the run through warren get each token?
//!
//! ```text
//! cargo bench -p warren-e2e --bench relay
//! ```
//!
//! The fake provider (`warren_e2e::fake_provider`) streams `WARREN_BENCH_RELAY_TOKENS` tokens
//! (2,000 by default), one every `WARREN_BENCH_RELAY_TOKEN_US` microseconds (1,000). The
//! benchmark's worker connection reads that SSE stream (it is the direct reader) and sends each
//! token as an `agent_delta`; watchers (`run_watch`) note when each delta arrives. The overhead
//! of a token is when a watcher had it minus when the direct reader had it (worker → server →
//! watcher, all on loopback). Measured with one watcher, then with `WARREN_BENCH_RELAY_VIEWERS`
//! (100). Targets: p50 ≤ 1 ms, p99 ≤ 5 ms.
//!
//! Until the worker's agent loop is served an agent run, the benchmark plays the worker itself
//! (a job run whose stored record gets an `agent` part); see `docs/performance.md` ("Agent
//! streaming"). The server runs in-process on its own tokio runtime, the clients on another.

#[path = "relay/agent.rs"]
mod agent;
#[path = "logs/setup.rs"]
#[allow(dead_code)]
mod setup;
#[path = "sync/stats.rs"]
mod stats;
#[path = "sync/ws.rs"]
#[allow(dead_code)]
mod ws;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;
use warren_e2e::fake_provider::{Behaviour, FakeProvider};
use warren_protocol::Id;
use warren_server::limits::Limits;
use warren_server::server::bind_store_with;
use warren_server::service::workspace::bootstrap;
use warren_server::store::Store;

use crate::stats::{Samples, ms};

const P50_TARGET: Duration = Duration::from_millis(1);
const P99_TARGET: Duration = Duration::from_millis(5);
const MODEL: &str = "bench";

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

/// One phase's outcome.
struct Phase {
    viewers: usize,
    overhead: Samples,
    /// The direct reader's time from the first token to the last.
    span: Duration,
}

fn main() -> Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("relay benchmark skipped; run it with `cargo bench -p warren-e2e --bench relay`");
        return Ok(());
    }
    let tokens = env_u64("WARREN_BENCH_RELAY_TOKENS", 2_000)? as usize;
    let gap = Duration::from_micros(env_u64("WARREN_BENCH_RELAY_TOKEN_US", 1_000)?);
    let many = env_u64("WARREN_BENCH_RELAY_VIEWERS", 100)? as usize;
    let dir = tempfile::tempdir()?;

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client_rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store = Store::create(dir.path())?;
    let boot = bootstrap(&store, "bench", "Bench")?;
    let limits = Limits {
        max_connections_per_ip: usize::MAX,
        rates: warren_server::rate_limit::RateLimits::off(),
        ..Limits::default()
    };
    let bound = server_rt.block_on(bind_store_with(store.clone(), "127.0.0.1:0", limits))?;
    let addr = bound.local_addr;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = server_rt.spawn(bound.run(async move {
        let _ = stopped.await;
    }));
    let token = boot.token.token.clone();
    let workspace = boot.workspace.id.clone();

    let phases = client_rt.block_on(async {
        let fake = FakeProvider::start().await?;
        let words: Vec<String> = (0..tokens).map(|n| format!(" tok{n}")).collect();
        fake.always(MODEL, Behaviour::tokens(words).token_delay(gap));
        let mut owner = setup::connect(addr, &token).await?;
        let running = setup::running_run(addr, &mut owner, &workspace, "relay").await?;
        let (mut worker, run) = (running.worker, running.run);
        agent::make_agent_run(&store, &workspace, &run.id, &run.job_id)?;
        // Plain-http loopback, but reqwest still wants a rustls provider.
        let _ = warren_server::tls::crypto_provider()
            .as_ref()
            .clone()
            .install_default();
        let http = reqwest::Client::builder().build()?;
        let mut phases = Vec::new();
        for (step, viewers) in [(1, 1), (2, many)] {
            // The worker stays alive for the server (its lease) between phases.
            let beat = serde_json::json!({"type": "heartbeat", "runs": [run.id.as_str()]});
            ws::send(&mut worker, beat.to_string()).await?;
            let watchers = watchers(addr, &token, &workspace, &run.id, viewers).await?;
            let reading: Vec<_> = watchers
                .into_iter()
                .map(|ws| tokio::spawn(watch(ws, step, tokens)))
                .collect();
            let read =
                agent::stream(&http, &fake.openai_url(), MODEL, &mut worker, &run.id, step).await?;
            if read.len() != tokens {
                bail!("the provider streamed {} tokens, not {tokens}", read.len());
            }
            let mut overhead = Vec::with_capacity(tokens * viewers);
            for task in reading {
                let got = tokio::time::timeout(Duration::from_secs(60), task)
                    .await
                    .context("a watcher did not get every token within 60 s")???;
                for ((sent_offset, read_at), (offset, at)) in read.iter().zip(got) {
                    if *sent_offset != offset {
                        bail!("a watcher got offset {offset} where {sent_offset} was sent");
                    }
                    overhead.push(at.saturating_duration_since(*read_at));
                }
            }
            let span = read[tokens - 1].1 - read[0].1;
            phases.push(Phase {
                viewers,
                overhead: Samples::new(overhead),
                span,
            });
        }
        anyhow::Ok(phases)
    })?;
    let _ = stop.send(());
    server_rt.block_on(served)??;

    println!();
    println!(
        "agent streaming: {tokens} tokens, one every {} µs, worker → warren → watchers vs reading the provider's SSE directly",
        gap.as_micros()
    );
    for phase in &phases {
        let p50 = phase.overhead.percentile(50.0);
        let p99 = phase.overhead.percentile(99.0);
        println!(
            "   {:>3} watcher(s): overhead {} over {} samples (stream {:.2} s): p50 {} the ≤ {} target, p99 {} the ≤ {} target",
            phase.viewers,
            phase.overhead.summary(),
            phase.overhead.len(),
            phase.span.as_secs_f64(),
            verdict(p50 <= P50_TARGET),
            ms(P50_TARGET),
            verdict(p99 <= P99_TARGET),
            ms(P99_TARGET)
        );
    }
    Ok(())
}

/// `viewers` connections of the owner, each watching the run (answered before this returns).
async fn watchers(
    addr: std::net::SocketAddr,
    token: &str,
    workspace: &Id,
    run: &Id,
    viewers: usize,
) -> Result<Vec<ws::Ws>> {
    let mut out = Vec::with_capacity(viewers);
    for n in 0..viewers {
        let mut ws = setup::connect(addr, token).await?;
        let frame = serde_json::json!({"type": "run_watch", "request_id": format!("watch-{n}"),
                                       "workspace_id": workspace.as_str(), "run_id": run.as_str()});
        ws::send(&mut ws, frame.to_string()).await?;
        ws::expect(&mut ws, "run_watching").await?;
        out.push(ws);
    }
    Ok(out)
}

/// Reads deltas of `step` until `tokens` of them came; returns each one's offset and arrival.
async fn watch(mut ws: ws::Ws, step: u32, tokens: usize) -> Result<Vec<(u64, Instant)>> {
    let mut got = Vec::with_capacity(tokens);
    let step_field = format!("\"step\":{step},");
    while got.len() < tokens {
        let text = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the server closed a watcher"),
        };
        let at = Instant::now();
        if !text.as_str().starts_with(r#"{"type":"agent_delta""#)
            || !text.as_str().contains(&step_field)
        {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(text.as_str())?;
        let offset = value["offset"].as_u64().context("a delta without offset")?;
        got.push((offset, at));
    }
    Ok(got)
}
