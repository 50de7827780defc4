//! Sync benchmarks of the real server against baselines measured in the same run.
//!
//! ```text
//! cargo bench -p warren-e2e --bench sync
//! ```
//!
//! 1. Durable commands/s: `WARREN_BENCH_WRITERS` clients each send a command and wait for its ack,
//!    against raw redb doing one durable commit per event. Target: at least 10x (group commit).
//! 2. Event deliveries/s to `WARREN_BENCH_CLIENTS` subscribed clients, against a bare
//!    tokio-tungstenite broadcast server with the same clients and frame size. Target: at least
//!    0.5x the bare server.
//! 3. Latency from sending a change to its arrival at the last subscribed client, p50 and p99,
//!    ours and the bare server's.
//! 4. Memory per idle subscribed connection: `VmRSS` of a real `warren-server` process before and
//!    after `WARREN_BENCH_CLIENTS` connections say hello and subscribe. Target: at most 30 KiB.
//! 5. A reconnect storm: a canary's ack latency alone, then while `WARREN_BENCH_STORM_CLIENTS`
//!    clients keep reconnecting with full snapshots.
//!
//! The server runs in-process on its own tokio runtime; the clients on another. See
//! `docs/performance.md` for the knobs, the numbers and the caveats.

#[path = "sync/bare.rs"]
mod bare;
#[path = "sync/config.rs"]
mod config;
#[path = "sync/durable.rs"]
mod durable;
#[path = "sync/fanout.rs"]
mod fanout;
#[path = "sync/memory.rs"]
mod memory;
#[path = "sync/stats.rs"]
mod stats;
#[path = "sync/storm.rs"]
mod storm;
#[path = "sync/warren.rs"]
mod warren;
#[path = "sync/ws.rs"]
mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::fanout::{Fanout, Target};
use crate::warren::Warren;

const WRITE_TARGET: f64 = 10.0;
const FANOUT_TARGET: f64 = 0.5;
const MEMORY_TARGET_KIB: f64 = 30.0;

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`. `cargo test --all-targets` runs bench binaries without it:
    // stay out of the test suite's time.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sync benchmark skipped; run it with `cargo bench -p warren-e2e --bench sync`");
        return Ok(());
    }
    let config = Config::from_env()?;
    let needed = (config.clients as u64 + config.writers as u64) * 2 + 256;
    let nofile = config::ensure_open_files(needed)?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "warren sync benchmark: {cores} cores, open-file limit {nofile}, server runtime {} workers, client runtime {} workers",
        config.server_threads, config.client_threads
    );
    println!(
        "sizes: {} writers ({:?} commands) for {:?}, raw redb for 2 x {:?}, {} subscribers, {} events per burst, {} latency samples",
        config.writers,
        config.commands,
        config.write_time,
        config.raw_time,
        config.clients,
        config.events,
        config.samples
    );
    let root = match &config.dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    println!("stores in {}", root.path().display());
    let clients = runtime(config.client_threads, "bench-client")?;
    let storm_config = storm::StormConfig {
        clients: config.storm_clients,
        time: config.storm_time,
        cards: config.storm_cards,
        samples: config.samples,
    };
    match std::env::var("WARREN_BENCH_PHASE").as_deref() {
        // Only phase 4 or 5: quick to repeat after a change to connections or catch-up.
        Ok("memory") => {
            let memory = clients.block_on(memory::idle_connections(config.clients))?;
            report_memory(&memory);
            return Ok(());
        }
        Ok("storm") => {
            storm_phase(&clients, &storm_config)?;
            return Ok(());
        }
        _ => {}
    }

    // Phase 1 and 2/3 against warren.
    let server_rt = runtime(config.server_threads, "warren-server")?;
    let server = Warren::start(&server_rt, &root.path().join("server"))?;
    println!("\n== 1. durable commands/s ==");
    // The raw baseline runs right before and right after the writers, so that a change in the
    // disk's speed during the run (other work on the machine) shows up as a difference.
    let payload = clients.block_on(durable::probe_event(&server))?;
    let raw_before = durable::raw_redb(
        &root.path().join("raw-before.redb"),
        payload.as_bytes(),
        config.raw_time,
    )?;
    let writes = clients.block_on(durable::writers(&server, &config))?;
    report_writes(&writes);
    let raw_after = durable::raw_redb(
        &root.path().join("raw-after.redb"),
        payload.as_bytes(),
        config.raw_time,
    )?;
    let raw = raw_before.plus(&raw_after);
    let write_ratio = writes.rate() / raw.rate();
    println!(
        "raw redb      {:>10.0} commits/s   (durable two-phase commits of a {}-byte event: {:.0}/s before the writers, {:.0}/s after)",
        raw.rate(),
        raw.payload_bytes,
        raw_before.rate(),
        raw_after.rate()
    );
    let drift = raw_before.rate().max(raw_after.rate()) / raw_before.rate().min(raw_after.rate());
    if drift > 1.5 {
        println!(
            "warning: the raw baseline changed {drift:.1}x between its two runs; the disk is shared with other work, so phase 1 is unreliable"
        );
    }
    println!(
        "ratio         {write_ratio:>10.1}x          target >= {WRITE_TARGET}x: {}",
        verdict(write_ratio >= WRITE_TARGET)
    );

    println!("\n== 2/3. fan-out to {} clients: warren ==", config.clients);
    let since = server.head()?;
    let target = Target::Warren {
        addr: server.addr,
        token: server.token.clone(),
        room: server.room.clone(),
        since,
    };
    let ours = clients.block_on(fanout::run(target, &config))?;
    report_fanout("warren", &ours);
    server.stop(&server_rt)?;
    drop(server_rt);

    println!(
        "\n== 2/3. fan-out to {} clients: bare broadcast ==",
        config.clients
    );
    let template = ws::frame_template(&ours.sample)
        .with_context(|| format!("not an event frame: {}", ours.sample))?;
    let bare_rt = runtime(config.server_threads, "bare-server")?;
    let listener = bare_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let lost = Arc::new(AtomicU64::new(0));
    bare_rt.spawn(bare::serve(
        listener,
        config.events + config.samples + 16,
        lost.clone(),
    ));
    let theirs = clients.block_on(fanout::run(
        Target::Bare {
            addr,
            template,
            first_seq: since + 1,
        },
        &config,
    ))?;
    report_fanout("bare", &theirs);
    println!(
        "bare frames lost to lagging: {}",
        lost.load(Ordering::Relaxed)
    );
    drop(bare_rt);

    println!(
        "\n== 4. memory per idle subscribed connection ({} connections) ==",
        config.clients
    );
    let memory = clients.block_on(memory::idle_connections(config.clients))?;
    report_memory(&memory);

    println!(
        "\n== 5. reconnect storm ({} clients re-snapshotting for {:?}) ==",
        storm_config.clients, storm_config.time
    );
    let storm = storm_phase(&clients, &storm_config)?;

    let fanout_ratio = ours.deliveries_per_sec() / theirs.deliveries_per_sec();
    println!("\n== summary ==");
    println!(
        "1. durable commands/s: warren {:.0}, raw redb {:.0}, ratio {write_ratio:.1}x (target >= {WRITE_TARGET}x: {}); {:.1} commands per commit",
        writes.rate(),
        raw.rate(),
        verdict(write_ratio >= WRITE_TARGET),
        writes.commands as f64 / writes.commits.max(1) as f64
    );
    println!(
        "2. deliveries/s to {} clients: warren {:.0}, bare {:.0}, ratio {fanout_ratio:.2}x (target >= {FANOUT_TARGET}x: {})",
        config.clients,
        ours.deliveries_per_sec(),
        theirs.deliveries_per_sec(),
        verdict(fanout_ratio >= FANOUT_TARGET)
    );
    println!(
        "3. send -> last of {} clients: warren {}; bare {}",
        config.clients,
        ours.latency.summary(),
        theirs.latency.summary()
    );
    println!(
        "4. memory per idle subscribed connection: {:.1} KiB ({} connections; target <= {MEMORY_TARGET_KIB} KiB: {})",
        memory.per_connection_kib(),
        memory.clients,
        verdict(memory.per_connection_kib() <= MEMORY_TARGET_KIB)
    );
    println!(
        "5. canary ack during a storm of {} re-snapshotting clients: {} (alone: {})",
        storm_config.clients,
        storm.storm.summary(),
        storm.quiet.summary()
    );
    Ok(())
}

fn runtime(workers: usize, name: &str) -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .with_context(|| format!("cannot start the {name} runtime"))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn report_writes(writes: &durable::Writes) {
    println!(
        "warren        {:>10.0} commands/s  ({} acked in {:.1} s; ack latency {})",
        writes.rate(),
        writes.acked,
        writes.elapsed.as_secs_f64(),
        writes.ack_latency.summary()
    );
    println!(
        "group commit  {:>10.1} commands per commit ({} commits for {} commands)",
        writes.commands as f64 / writes.commits.max(1) as f64,
        writes.commits,
        writes.commands
    );
    if writes.longest_rank > 0 {
        println!(
            "longest card rank after the run: {} characters (the protocol allows 128)",
            writes.longest_rank
        );
    }
}

/// Phase 5 twice: with the catch-up limit (the default, 4 at once) and effectively without it.
fn storm_phase(clients: &Runtime, config: &storm::StormConfig) -> Result<storm::Storm> {
    println!("-- without a limit on catch-up work (--max-catch-ups 100000) --");
    let unlimited = clients.block_on(storm::run(config, &["--max-catch-ups", "100000"]))?;
    report_storm(config, &unlimited);
    println!("-- with the default limit (4 at once) --");
    let limited = clients.block_on(storm::run(config, &[]))?;
    report_storm(config, &limited);
    Ok(limited)
}

fn report_storm(config: &storm::StormConfig, storm: &storm::Storm) {
    println!(
        "storm    {} snapshots of {} bytes to {} clients in {:.1} s ({:.0}/s)",
        storm.snapshots,
        storm.snapshot_bytes,
        config.clients,
        storm.elapsed.as_secs_f64(),
        storm.snapshots as f64 / storm.elapsed.as_secs_f64()
    );
    println!(
        "canary   ack alone ({} samples): {}",
        storm.quiet.len(),
        storm.quiet.summary()
    );
    println!(
        "canary   ack during the storm ({} samples): {}; p50 ratio {:.1}x",
        storm.storm.len(),
        storm.storm.summary(),
        storm.storm.percentile(50.0).as_secs_f64() / storm.quiet.percentile(50.0).as_secs_f64()
    );
}

fn report_memory(memory: &memory::Memory) {
    println!(
        "warren-server VmRSS {} KiB before, {} KiB after {} idle subscribed connections: {:.1} KiB per connection   target <= {MEMORY_TARGET_KIB} KiB: {}",
        memory.before_kib,
        memory.after_kib,
        memory.clients,
        memory.per_connection_kib(),
        verdict(memory.per_connection_kib() <= MEMORY_TARGET_KIB)
    );
}

fn report_fanout(name: &str, run: &Fanout) {
    println!(
        "{name:<8} {:>10.0} deliveries/s  ({} events x {} clients in {:.2} s; {}-byte frames; {} resyncs)",
        run.deliveries_per_sec(),
        run.events,
        run.clients,
        run.elapsed.as_secs_f64(),
        run.payload_bytes,
        run.resyncs
    );
    println!(
        "{name:<8} latency send -> last client over {} samples: {}",
        run.latency.len(),
        run.latency.summary()
    );
}
