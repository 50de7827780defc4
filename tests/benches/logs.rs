//! Log benchmarks of the real server against baselines measured in the same run (issue 8).
//!
//! ```text
//! cargo bench -p warren-e2e --bench logs
//! ```
//!
//! 1. Durable log ingest: the benchmark plays a worker streaming a `WARREN_BENCH_LOG_LINES`-line
//!    log (lines of 20–200 bytes, some ANSI) as `log_chunk` frames, and counts lines acknowledged
//!    per second while `WARREN_BENCH_LOG_VIEWERS` viewers follow live; baseline: the same bytes
//!    appended to a plain file with an fsync after every chunk. Targets: ≥ 0.5× the baseline,
//!    ≥ 200,000 lines/s, viewer lag p99 ≤ 250 ms.
//!    It also prints the server's CPU time for the phase (`logs/cpu.rs`), the figure to compare
//!    changes by on a loaded machine, where the fsync baseline and so the ratio are not stable.
//! 2. The stored log as a viewer sees it: the first screen, the last screen, and a regex search
//!    over the whole log (filtered on the server), against `grep -c` on the same text. Targets:
//!    first screen ≤ 100 ms, search ≤ 3× grep.
//! 3. The viewer's memory: the real `warren` client in a 120×40 tmux pane follows a real worker's
//!    `WARREN_BENCH_VIEWER_LINES`-line run (1,000,000 by default; 0 skips the phase), then jumps
//!    to the top, searches the whole log both ways and jumps between errors; its peak RSS
//!    (`VmHWM`) is read from `/proc`. Target: < 64 MiB. Without tmux the phase says so and is
//!    skipped.
//!
//! The server runs in-process on its own tokio runtime; the worker and viewers on another. See
//! `docs/performance.md` ("Run logs") for the numbers and the caveats.

#[path = "logs/corpus.rs"]
mod corpus;
#[path = "logs/cpu.rs"]
mod cpu;
#[path = "logs/ingest.rs"]
mod ingest;
#[path = "logs/search.rs"]
mod search;
#[path = "logs/setup.rs"]
mod setup;
#[path = "sync/stats.rs"]
mod stats;
#[path = "logs/viewer.rs"]
mod viewer;
#[path = "sync/warren.rs"]
#[allow(dead_code)]
mod warren;
#[path = "sync/ws.rs"]
#[allow(dead_code)]
mod ws;

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::runtime::Runtime;
use warren_protocol::Id;

use crate::stats::ms;

const INGEST_RATIO_TARGET: f64 = 0.5;
const INGEST_RATE_TARGET: f64 = 200_000.0;
const LAG_TARGET: Duration = Duration::from_millis(250);
const FIRST_SCREEN_TARGET: Duration = Duration::from_millis(100);
const SEARCH_RATIO_TARGET: f64 = 3.0;
const VIEWER_PEAK_TARGET_KIB: u64 = 64 * 1024;

fn env_usize(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{name}={v} is not a whole number")),
        Err(_) => Ok(default),
    }
}

/// The bytes this process has sent to storage so far (`write_bytes` of `/proc/self/io`), 0
/// where the kernel does not say.
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The bytes of the files directly in `dir` (the redb store), 0 if it cannot be read.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "MISSES" }
}

fn main() -> Result<()> {
    // `cargo test --all-targets` runs bench binaries without `--bench`: stay out of its time.
    if !std::env::args().any(|a| a == "--bench") {
        println!("logs benchmark skipped; run it with `cargo bench -p warren-e2e --bench logs`");
        return Ok(());
    }
    let lines_n = env_usize("WARREN_BENCH_LOG_LINES", 1_000_000)?;
    let viewer_lines = env_usize("WARREN_BENCH_VIEWER_LINES", 1_000_000)?;
    let viewers = env_usize("WARREN_BENCH_LOG_VIEWERS", 10)?;
    let window = env_usize("WARREN_BENCH_LOG_WINDOW", ingest::WINDOW)?.max(1);
    let repeat = env_usize("WARREN_BENCH_LOG_ROUNDS", 3)?;
    let dir = match std::env::var_os("WARREN_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    println!("generating {lines_n} lines …");
    let lines = corpus::lines(lines_n);
    let text = corpus::file_bytes(&lines);
    println!(
        "{} MB of text, {} chunks of ≤ 64 KiB",
        text.len() / 1_000_000,
        ingest::chunks(&lines).len()
    );

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(cpu::SERVER_THREAD)
        .on_thread_stop(cpu::thread_stopped)
        .enable_all()
        .build()?;
    let client_rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let store_dir = dir.path().join("store");
    std::fs::create_dir_all(&store_dir)?;
    let server = warren::Warren::start(&server_rt, &store_dir)?;
    let workspace = Id::parse(&server.workspace)?;

    println!("1. durable log ingest: {repeat} rounds, each right after its baseline");
    let (rounds, search) = client_rt.block_on(async {
        let mut owner = setup::connect(server.addr, &server.token).await?;
        let mut rounds = Vec::new();
        let mut searched = None;
        for round in 1..=repeat {
            // The baseline right before each round, so both see the disk as it is then.
            let baseline = ingest::baseline(dir.path(), &lines)?;
            let name = format!("ingest-{round}");
            let running = setup::running_run(server.addr, &mut owner, &workspace, &name).await?;
            let run_id = running.run.id.clone();
            let first = running.run.lines;
            let before = cpu::now()?;
            let commits_before = server.stats.commits.load(Ordering::Relaxed);
            let store_before = dir_bytes(&store_dir);
            let written_before = written_bytes();
            let mut ingest = ingest::run(
                server.addr,
                &server.token,
                &workspace,
                running,
                &lines,
                viewers,
                window,
            )
            .await?;
            ingest.cpu = Some(cpu::now()? - before);
            ingest.store_bytes = dir_bytes(&store_dir).saturating_sub(store_before);
            ingest.written_bytes = written_bytes().saturating_sub(written_before);
            ingest.commits = server.stats.commits.load(Ordering::Relaxed) - commits_before;
            println!(
                "   round {round}: warren {:.2} s, baseline {:.2} s: {:.2}x",
                ingest.elapsed.as_secs_f64(),
                baseline.as_secs_f64(),
                baseline.as_secs_f64() / ingest.elapsed.as_secs_f64()
            );
            searched.get_or_insert((run_id, first + lines.len() as u64));
            rounds.push((ingest, baseline));
        }
        let Some((run_id, stored)) = searched else {
            bail!("WARREN_BENCH_LOG_ROUNDS must be at least 1");
        };
        let search = search::run(
            &mut owner,
            &workspace,
            &run_id,
            stored,
            corpus::SEARCH,
            dir.path(),
            &text,
        )
        .await?;
        anyhow::Ok((rounds, search))
    })?;
    server.stop(&server_rt)?;

    // The round with the median ratio speaks for the phase; every round's ratio is above.
    let mut rounds = rounds;
    rounds.sort_by(|a, b| {
        let ratio = |(i, b): &(ingest::Ingest, Duration)| b.as_secs_f64() / i.elapsed.as_secs_f64();
        ratio(a).total_cmp(&ratio(b))
    });
    let (ingest, baseline) = rounds.swap_remove(rounds.len() / 2);
    let base_rate = lines.len() as f64 / baseline.as_secs_f64();
    let ratio = ingest.rate() / base_rate;
    println!();
    println!(
        "1. durable log ingest ({} lines, {} viewers following; the median of {repeat} rounds)",
        ingest.lines, ingest.viewers
    );
    println!(
        "   warren   {:>10.0} lines/s acknowledged ({:.2} s)",
        ingest.rate(),
        ingest.elapsed.as_secs_f64()
    );
    println!(
        "   baseline {:>10.0} lines/s (plain file, fsync per chunk, {:.2} s, just before)",
        base_rate,
        baseline.as_secs_f64()
    );
    println!(
        "   ratio {:.2}x: {} the ≥ {INGEST_RATIO_TARGET}x target; rate {} the ≥ {INGEST_RATE_TARGET:.0} lines/s target",
        ratio,
        verdict(ratio >= INGEST_RATIO_TARGET),
        verdict(ingest.rate() >= INGEST_RATE_TARGET)
    );
    println!(
        "   each chunk from send to log_ack ({} in flight): {}; {} group commits ({:.1} chunks each)",
        window,
        ingest.ack.summary(),
        ingest.commits,
        ingest.ack.len() as f64 / ingest.commits.max(1) as f64
    );
    println!(
        "   the store grew by {:.0} MB, {:.0} MB were written to the disk, for {:.0} MB of text",
        ingest.store_bytes as f64 / 1e6,
        ingest.written_bytes as f64 / 1e6,
        text.len() as f64 / 1e6
    );
    if let Some(cpu) = ingest.cpu {
        println!(
            "   server CPU {:.2} s for the run (its runtime and writer threads); the benchmark's worker and viewers {:.2} s",
            cpu.server.as_secs_f64(),
            cpu.process.saturating_sub(cpu.server).as_secs_f64()
        );
    }
    println!(
        "   viewer lag over {} frames: {}: {} the p99 ≤ {} target",
        ingest.lag.len(),
        ingest.lag.summary(),
        verdict(ingest.lag.percentile(99.0) <= LAG_TARGET),
        ms(LAG_TARGET)
    );
    let search_ratio = search.search.as_secs_f64() / search.grep.as_secs_f64();
    println!("2. the stored log");
    println!(
        "   first screen {} ({} the ≤ {} target); last screen {}",
        ms(search.first_screen),
        verdict(search.first_screen <= FIRST_SCREEN_TARGET),
        ms(FIRST_SCREEN_TARGET),
        ms(search.last_screen)
    );
    println!(
        "   search {:?}: {} matches in {} vs grep -c {} matches in {}: {:.2}x, {} the ≤ {SEARCH_RATIO_TARGET}x target",
        corpus::SEARCH,
        search.matches,
        ms(search.search),
        search.grep_matches,
        ms(search.grep),
        search_ratio,
        verdict(search_ratio <= SEARCH_RATIO_TARGET)
    );
    let memory = if viewer_lines == 0 {
        viewer::Outcome::Skipped("WARREN_BENCH_VIEWER_LINES=0".to_owned())
    } else {
        client_rt.block_on(viewer::run(viewer_lines as u64, dir.path()))?
    };
    println!("3. the viewer's memory (warren in a 120x40 tmux pane)");
    match memory {
        viewer::Outcome::Skipped(why) => println!("   SKIPPED: {why}"),
        viewer::Outcome::Measured(m) => {
            let mib = |kib: u64| kib as f64 / 1024.0;
            println!(
                "   followed a {}-line run to its end in {:.1} s: VmRSS {:.1} MiB (peak {:.1} MiB); after the jumps VmRSS {:.1} MiB",
                m.lines,
                m.follow.as_secs_f64(),
                mib(m.rss_followed_kib),
                mib(m.peak_followed_kib),
                mib(m.rss_end_kib)
            );
            println!(
                "   peak (VmHWM) {:.1} MiB: {} the < {} MiB target",
                mib(m.peak_kib),
                verdict(m.peak_kib < VIEWER_PEAK_TARGET_KIB),
                VIEWER_PEAK_TARGET_KIB / 1024
            );
            let steps: Vec<String> = m
                .steps
                .iter()
                .map(|(what, took)| format!("{what} {}", ms(*took)))
                .collect();
            println!("   {}", steps.join("; "));
        }
    }
    if search.matches != search.grep_matches {
        anyhow::bail!(
            "the server found {} matches and grep {}",
            search.matches,
            search.grep_matches
        );
    }
    Ok(())
}
