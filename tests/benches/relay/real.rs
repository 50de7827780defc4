//! The default mode: agent runs through the real `warren worker`. The release `warren-server`
//! and `warren worker` run as processes; the benchmark adds a provider (the fake, in this
//! process) and an agent with `warren provider add` / `warren agent add`, and asks it with
//! `warren agent ask` (`ask_agent`). Each phase's run first calls `card_create`, which waits
//! for approval: the watchers `run_watch` the run then, so none misses a delta, and
//! `warren run approve` lets the model's answer (step 3, the measured stream) begin. When the
//! worker's request reaches the fake, a direct reader (its own thread and runtime) asks the fake
//! for a second answer of the same shape, so both streams run at the same time, under the same
//! load. Per token: through warren = watcher's arrival − the fake's write of the worker's
//! token; direct = direct reader's arrival − the fake's write of its token; overhead = the
//! first minus the second.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::runtime::Runtime;
use warren_e2e::cli::{Cli, Output};
use warren_e2e::fake_provider::{Behaviour, FakeProvider};

use crate::real_runs::{Setup, Worker, wait_status};
use crate::stats::Samples;
use crate::{Settings, sse, watch};

/// The model the agent asks for, and the one the direct reader asks for: the same length, so
/// both streams carry the same bytes.
const AGENT_MODEL: &str = "relay-agent";
const DIRECT_MODEL: &str = "relay-plain";
/// The environment variable the worker reads the provider's key from.
const KEY_ENV: &str = "RELAY_BENCH_KEY";
/// The step of the measured answer: model call (the tool call), tool call, model call.
const STEP: u32 = 3;
/// The bound on every wait of a phase.
const BOUND: Duration = Duration::from_secs(60);

/// One phase's outcome.
pub struct Phase {
    pub viewers: usize,
    /// Per token and watcher: watcher's arrival − provider's write.
    pub through: Samples,
    /// Per token: direct reader's arrival − provider's write.
    pub direct: Samples,
    /// Per token and watcher: `through` − `direct` of the same token (may be below zero).
    pub overhead: Signed,
    /// `agent_delta` frames each watcher got.
    pub frames: usize,
    /// The provider's time from its first token write to its last (worker's stream).
    pub span: Duration,
}

/// Signed samples (an overhead may be negative when the direct reader was the slower one).
pub struct Signed(Vec<f64>);

impl Signed {
    fn new(mut micros: Vec<f64>) -> Signed {
        micros.sort_unstable_by(f64::total_cmp);
        Signed(micros)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile in milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1] / 1000.0
    }

    /// "p50 1.23 ms, p99 4.56 ms, max 7.89 ms".
    pub fn summary(&self) -> String {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.percentile_ms(50.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0)
        )
    }
}

/// Runs `warren ARGS…` and fails with its output unless it exits 0.
async fn ok(cli: &Cli, args: &[&str]) -> Result<Output> {
    let out = cli.run(args).await;
    if out.code != 0 {
        bail!(
            "warren {} failed ({}):\n{}\n{}",
            args.join(" "),
            out.code,
            out.stdout,
            out.stderr
        );
    }
    Ok(out)
}

/// The server, the worker, the fake provider and the agent.
struct Bench {
    setup: Setup,
    _worker: Worker,
    fake: FakeProvider,
}

async fn start(fake: FakeProvider) -> Result<Bench> {
    let setup = Setup::start(&[]).await;
    let worker = setup
        .worker_with("relay-worker", "bench", &[(KEY_ENV, "sk-relay-bench")])
        .await;
    let url = fake.openai_url();
    #[rustfmt::skip]
    ok(&setup.cli, &["provider", "add", "fake", "--kind", "openai", "--base-url", &url,
                     "--key-env", KEY_ENV, "--model", AGENT_MODEL]).await?;
    #[rustfmt::skip]
    ok(&setup.cli, &["agent", "add", "relay", "--provider", "fake", "--model", AGENT_MODEL,
                     "--tools", "card.create"]).await?;
    Ok(Bench {
        setup,
        _worker: worker,
        fake,
    })
}

/// The index (into the fake's requests) of the first request naming `model` after `from`,
/// waited for (bounded).
async fn request_of(fake: &FakeProvider, model: &str, from: usize) -> Result<usize> {
    let started = Instant::now();
    loop {
        let requests = fake.requests();
        if let Some(n) = (from..requests.len()).find(|&n| requests[n].model == model) {
            return Ok(n);
        }
        if started.elapsed() > BOUND {
            bail!("no request for {model} reached the fake provider within {BOUND:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads a direct answer on a thread and runtime of its own, so that the watchers' work in
/// this process does not delay it.
fn read_direct(url: String) -> tokio::sync::oneshot::Receiver<Result<Vec<(String, Instant)>>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_direct_here(&url));
    });
    rx
}

fn read_direct_here(url: &str) -> Result<Vec<(String, Instant)>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let http = reqwest::Client::builder().build()?;
        sse::read(&http, url, DIRECT_MODEL).await
    })
}

impl Bench {
    /// One run watched by `viewers`; `n` counts the phases from 1.
    async fn phase(&self, settings: &Settings, n: usize, viewers: usize) -> Result<Phase> {
        let cli = &self.setup.cli;
        let words = settings.words();
        let title = format!(r#"{{"title":"relay phase {n}"}}"#);
        self.fake.script(
            AGENT_MODEL,
            [
                Behaviour::tool_call("card_create", &title),
                Behaviour::tokens(words.clone()).token_delay(settings.gap),
            ],
        );
        let asked = ok(cli, &["agent", "ask", "relay", "benchmark", "--json"])
            .await?
            .json();
        let run_id = asked["id"].as_str().context("agent ask printed no id")?;
        let run = format!("r{}", asked["number"]);
        wait_status(cli, &run, "awaiting_approval").await;
        let (addr, token) = (self.setup.server.addr, &self.setup.server.token);
        let watchers = watch::watchers(addr, token, run_id, viewers).await?;
        let bytes = words.concat().len() as u64;
        let reading: Vec<_> = watchers
            .into_iter()
            .map(|ws| tokio::spawn(watch::watch(ws, STEP, bytes)))
            .collect();
        let before = self.fake.requests().len();
        ok(cli, &["run", "approve", &run]).await?;
        let agent_request = request_of(&self.fake, AGENT_MODEL, before).await?;
        let direct = read_direct(self.fake.openai_url()).await??;
        let direct_request = request_of(&self.fake, DIRECT_MODEL, before).await?;
        let mut frames = Vec::with_capacity(viewers);
        for task in reading {
            let got = tokio::time::timeout(BOUND, task).await.with_context(|| {
                format!("a watcher did not get every token within {BOUND:?}")
            })???;
            frames.push(got);
        }
        wait_status(cli, &run, "succeeded").await;

        let written = self.fake.token_writes(agent_request);
        let direct_written = self.fake.token_writes(direct_request);
        let tokens = words.len();
        if written.len() != tokens || direct_written.len() != tokens || direct.len() != tokens {
            bail!(
                "the fake wrote {} tokens to the worker and {} to the direct reader, which read {}; {tokens} were due",
                written.len(),
                direct_written.len(),
                direct.len()
            );
        }
        let read: Vec<String> = direct.iter().map(|(t, _)| t.clone()).collect();
        if read != words {
            bail!("the direct reader read other tokens than the fake wrote");
        }
        let direct_lat: Vec<Duration> = direct
            .iter()
            .zip(&direct_written)
            .map(|((_, at), w)| at.saturating_duration_since(*w))
            .collect();
        let mut through = Vec::with_capacity(tokens * viewers);
        let mut overhead = Vec::with_capacity(tokens * viewers);
        for got in &frames {
            let arrivals = watch::arrivals(&words, got)?;
            for ((at, w), d) in arrivals.iter().zip(&written).zip(&direct_lat) {
                let lat = at.saturating_duration_since(*w);
                through.push(lat);
                overhead.push(lat.as_secs_f64() * 1e6 - d.as_secs_f64() * 1e6);
            }
        }
        Ok(Phase {
            viewers,
            through: Samples::new(through),
            direct: Samples::new(direct_lat),
            overhead: Signed::new(overhead),
            frames: frames.first().map_or(0, Vec::len),
            span: written[tokens - 1] - written[0],
        })
    }
}

/// Measures with one watcher, then with `settings.viewers`.
pub fn run(settings: &Settings) -> Result<Vec<Phase>> {
    // The fake provider gets a runtime of its own: its writes are not held up by the watchers.
    let fake_rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client_rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let fake = fake_rt.block_on(FakeProvider::start())?;
    fake.always(
        DIRECT_MODEL,
        Behaviour::tokens(settings.words()).token_delay(settings.gap),
    );
    client_rt.block_on(async {
        let bench = start(fake).await?;
        let mut phases = Vec::new();
        for (n, viewers) in [(1, 1), (2, settings.viewers)] {
            phases.push(bench.phase(settings, n, viewers).await?);
        }
        anyhow::Ok(phases)
    })
}
