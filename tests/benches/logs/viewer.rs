//! Phase 3: the viewer's memory (benchmark 3 of issue 8). The real `warren` (release build) in a
//! 120×40 tmux pane follows a run while a real `warren worker` runs a job that prints
//! `WARREN_BENCH_VIEWER_LINES` lines (1,000,000 by default; one in a thousand an `ERROR` line);
//! then it jumps to the top (`g`), searches the whole log forwards (`/`, to a line near the end)
//! and backwards (`N`, back to a line near the start), and jumps between errors (`e`, `E`).
//! The client's resident memory is read from `/proc/PID/status`: `VmRSS` at the end of the
//! follow and at the end, and the peak (`VmHWM`). Target: peak < 64 MiB.
//!
//! Needs tmux: without it the phase says so by name and is skipped. The server, worker and
//! client are separate processes (the release binaries, built by the e2e helpers).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use warren_e2e::Server;
use warren_e2e::cli::Cli;
use warren_e2e::tmux::Tmux;

/// The pane size, as the measurement by hand.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// The bound on the whole follow (the job's output stored and on screen).
const FOLLOW_BOUND: Duration = Duration::from_secs(600);
/// The bound on one step after the follow (a jump, a search).
const STEP_BOUND: Duration = Duration::from_secs(120);

/// What phase 3 measured.
pub struct ViewerMemory {
    pub lines: u64,
    /// From the job's start until the last line was on screen.
    pub follow: Duration,
    /// `VmRSS` when the last line was on screen, in KiB.
    pub rss_followed_kib: u64,
    /// `VmHWM` (the peak so far) when the last line was on screen, in KiB.
    pub peak_followed_kib: u64,
    /// `VmRSS` after the jumps and searches, in KiB.
    pub rss_end_kib: u64,
    /// `VmHWM` (the peak) after the jumps and searches, in KiB.
    pub peak_kib: u64,
    /// Each step after the follow and how long it took to show its answer.
    pub steps: Vec<(&'static str, Duration)>,
}

/// Either the numbers, or why the phase was skipped.
pub enum Outcome {
    Measured(ViewerMemory),
    Skipped(String),
}

/// Whether tmux can be run, or why not.
fn tmux_missing() -> Option<String> {
    match std::process::Command::new("tmux").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`tmux -V` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!(
            "tmux is not installed ({e}); install it (`sudo apt-get install tmux`) to measure the viewer's memory"
        )),
    }
}

/// The job: `lines` lines, `ERROR <n> disk full` on every thousandth, `line <n> …` otherwise.
fn job_command(lines: u64) -> String {
    format!(
        "awk 'BEGIN {{ for (i = 1; i <= {lines}; i++) {{ if (i % 1000 == 0) print \"ERROR \" i \" disk full\"; else print \"line \" i \" of the viewer benchmark\" }} }}'"
    )
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("the client (pid {pid}) is gone"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("/proc/{pid}/status has no {field}"))
}

/// Polls the pane until `ready` holds, for at most `bound`.
async fn wait_screen(
    tui: &Tmux,
    what: &str,
    bound: Duration,
    ready: impl Fn(&str) -> bool,
) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let screen = tui.screen().await;
        if ready(&screen) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > bound {
            bail!("waited {bound:?} for {what}; the screen:\n{screen}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the log around line `n` is on screen: a neighbour of it (`line N of …`; the status
/// line may quote a search pattern, never these). `line 999 of` is not part of `line 1999 of`.
fn near(screen: &str, n: u64) -> bool {
    [n.saturating_sub(1), n + 1]
        .iter()
        .any(|k| screen.contains(&format!("line {k} of the viewer benchmark")))
}

/// Starts a worker as a new bot and waits (bounded) until it is idle.
async fn start_worker(server: &Server, owner: &Cli, dir: &Path) -> Result<tokio::process::Child> {
    let added = owner
        .run(&["worker", "add", "bench", "--tags", "bench", "--json"])
        .await;
    let secret = serde_json::from_str::<serde_json::Value>(&added.stdout)
        .ok()
        .and_then(|v| v["secret"].as_str().map(str::to_owned))
        .with_context(|| format!("worker add printed no token: {}", added.stderr))?;
    let cli = Cli::new(&server.http_url(), &secret);
    let workdir = dir.display().to_string();
    let child = cli.spawn_logged(
        &["worker", "--tags", "bench", "--workdir", &workdir],
        &dir.join("worker.log"),
    );
    // The worker's config dir must outlive it: leak the Cli (the benchmark is one process).
    std::mem::forget(cli);
    let started = Instant::now();
    loop {
        let list = owner.run(&["worker", "list", "--json"]).await;
        let up = serde_json::from_str::<serde_json::Value>(&list.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|all| {
                all.iter()
                    .any(|w| w["name"] == "bench" && w["state"] == "idle")
            });
        if up {
            return Ok(child);
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the worker never came up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs phase 3 with a job of `lines` lines (at least 2,000).
pub async fn run(lines: u64, dir: &Path) -> Result<Outcome> {
    if let Some(why) = tmux_missing() {
        return Ok(Outcome::Skipped(why));
    }
    let lines = lines.max(2_000);
    let server = Server::start_with(&warren_e2e::server::NO_RATE_LIMITS).await;
    let owner = Cli::new(&server.http_url(), &server.token);
    let _worker = start_worker(&server, &owner, dir).await?;
    let added = owner
        .run(&["job", "add", "million", "--command", &job_command(lines)])
        .await;
    if added.code != 0 {
        bail!("job add failed: {}", added.stderr);
    }
    let home = tempfile::tempdir()?;
    let url = server.http_url();
    let tui = Tmux::start(
        &warren_e2e::bins::cli_bin(),
        &["--server", &url, "--token", &server.token],
        [("WARREN_CONFIG_DIR", home.path()), ("HOME", home.path())],
        WIDTH,
        HEIGHT,
    );
    wait_screen(&tui, "the client to connect", STEP_BOUND, |s| {
        s.contains("● connected")
    })
    .await?;
    let pid = tui.pane_pid().await;
    tui.keys(&["3"]).await;
    wait_screen(&tui, "the Runs tab", STEP_BOUND, |s| {
        s.contains("No runs yet")
    })
    .await?;
    let started = Instant::now();
    let run = owner.run(&["job", "run", "million"]).await;
    if run.code != 0 {
        bail!("job run failed: {}", run.stderr);
    }
    wait_screen(&tui, "run r1 in the list", STEP_BOUND, |s| s.contains("r1")).await?;
    tui.keys(&["Enter"]).await;
    // Following: the last lines and the run's end on screen.
    let last_error = lines - lines % 1000;
    wait_screen(
        &tui,
        "the last lines and the run's end",
        FOLLOW_BOUND,
        |s| {
            s.contains(&format!("line {} of the viewer benchmark", lines - 1))
                && s.contains("succeeded")
        },
    )
    .await?;
    let follow = started.elapsed();
    let rss_followed_kib = proc_kib(pid, "VmRSS")?;
    let peak_followed_kib = proc_kib(pid, "VmHWM")?;

    let mut steps = Vec::new();
    let t = Instant::now();
    tui.keys(&["g"]).await;
    wait_screen(&tui, "line 1 after g", STEP_BOUND, |s| {
        s.contains("line 1 of the viewer benchmark")
    })
    .await?;
    steps.push(("top (g)", t.elapsed()));
    // A forward search over the whole log, from the top to the last error. Patterns are typed
    // in lower case (smart case finds `ERROR`): the log context binds capitals (`R` retries).
    let t = Instant::now();
    tui.keys(&["/"]).await;
    tui.type_text(&format!("error {last_error} disk")).await;
    tui.keys(&["Enter"]).await;
    wait_screen(&tui, "the forward search's match", STEP_BOUND, |s| {
        near(s, last_error)
    })
    .await?;
    steps.push(("search forward (/)", t.elapsed()));
    // A backward search over the whole log, from there back to the first error: forward finds
    // nothing after it, N reads backward.
    let t = Instant::now();
    tui.keys(&["/"]).await;
    tui.type_text("error 1000 disk").await;
    tui.keys(&["Enter"]).await;
    tui.keys(&["N"]).await;
    wait_screen(&tui, "the backward search's match", STEP_BOUND, |s| {
        near(s, 1000)
    })
    .await?;
    steps.push(("search backward (N)", t.elapsed()));
    // Error jumps: the next error, then back.
    let t = Instant::now();
    tui.keys(&["e"]).await;
    wait_screen(&tui, "the next error", STEP_BOUND, |s| near(s, 2000)).await?;
    tui.keys(&["E"]).await;
    wait_screen(&tui, "the previous error", STEP_BOUND, |s| {
        near(s, 1000) && !near(s, 2000)
    })
    .await?;
    steps.push(("error jumps (e, E)", t.elapsed()));

    let rss_end_kib = proc_kib(pid, "VmRSS")?;
    let peak_kib = proc_kib(pid, "VmHWM")?;
    tui.keys(&["C-c"]).await;
    Ok(Outcome::Measured(ViewerMemory {
        lines,
        follow,
        rss_followed_kib,
        peak_followed_kib,
        rss_end_kib,
        peak_kib,
        steps,
    }))
}
