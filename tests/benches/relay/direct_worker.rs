//! The `direct-worker` mode (`WARREN_BENCH_RELAY_MODE=direct-worker`): the benchmark plays the
//! worker itself. Its worker connection reads the fake provider's SSE (so it is also the direct
//! reader) and sends each token as its own `agent_delta` at once; the overhead of a token is
//! when a watcher had it minus when the worker read it. This isolates the server's relay
//! (worker → server → watchers, no batching in the worker) from the real worker's agent loop.
//! The server runs in-process on its own tokio runtime, the clients on another.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use warren_e2e::fake_provider::{Behaviour, FakeProvider};
use warren_server::limits::Limits;
use warren_server::server::bind_store_with;
use warren_server::service::workspace::bootstrap;
use warren_server::store::Store;

use crate::stats::Samples;
use crate::{Settings, agent, setup, watch, ws};

const MODEL: &str = "bench";

/// One phase's outcome.
pub struct Phase {
    pub viewers: usize,
    pub overhead: Samples,
    /// The self-played worker's time from the first token to the last.
    pub span: Duration,
}

/// Measures with one watcher, then with `settings.viewers`.
pub fn run(settings: &Settings) -> Result<Vec<Phase>> {
    let dir = tempfile::tempdir()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
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
    let tokens = settings.tokens;

    let phases = client_rt.block_on(async {
        let fake = FakeProvider::start().await?;
        fake.always(
            MODEL,
            Behaviour::tokens(settings.words()).token_delay(settings.gap),
        );
        let mut owner = setup::connect(addr, &token).await?;
        let running = setup::running_run(addr, &mut owner, &workspace, "relay").await?;
        let (mut worker, run) = (running.worker, running.run);
        agent::make_agent_run(&store, &workspace, &run.id, &run.job_id)?;
        let http = reqwest::Client::builder().build()?;
        let mut phases = Vec::new();
        for (step, viewers) in [(1, 1), (2, settings.viewers)] {
            // The worker stays alive for the server (its lease) between phases.
            let beat = serde_json::json!({"type": "heartbeat", "runs": [run.id.as_str()]});
            ws::send(&mut worker, beat.to_string()).await?;
            let watchers = watch::watchers(addr, &token, run.id.as_str(), viewers).await?;
            let bytes = settings.words().concat().len() as u64;
            let reading: Vec<_> = watchers
                .into_iter()
                .map(|ws| tokio::spawn(watch::watch(ws, step, bytes)))
                .collect();
            let read =
                agent::stream(&http, &fake.openai_url(), MODEL, &mut worker, &run.id, step).await?;
            if read.len() != tokens {
                bail!("the provider streamed {} tokens, not {tokens}", read.len());
            }
            let words: Vec<String> = read.iter().map(|(t, _)| t.clone()).collect();
            let mut overhead = Vec::with_capacity(tokens * viewers);
            for task in reading {
                let frames = tokio::time::timeout(Duration::from_secs(60), task)
                    .await
                    .context("a watcher did not get every token within 60 s")???;
                let got = watch::arrivals(&words, &frames)?;
                for ((_, read_at), at) in read.iter().zip(got) {
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
    Ok(phases)
}
