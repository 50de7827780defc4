//! Phase 5: a reconnect storm. A real `warren-server` holds a workspace with `cards` cards (so a
//! `snapshot` is a few hundred KB); a canary sends `post_message` and waits for its ack in a
//! loop, first alone (the baseline), then while `storm_clients` clients reconnect over and over
//! without `since`, each getting a full snapshot. The canary's ack latency during the storm,
//! against its own baseline in the same run, shows whether live work keeps its share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use warren_e2e::Server;

use crate::stats::Samples;
use crate::ws::{self, Ws};

/// Phase 5's sizes.
pub struct StormConfig {
    pub clients: usize,
    pub time: Duration,
    pub cards: usize,
    pub samples: usize,
}

/// What phase 5 measured.
pub struct Storm {
    pub quiet: Samples,
    pub storm: Samples,
    pub snapshots: u64,
    pub snapshot_bytes: usize,
    pub elapsed: Duration,
}

async fn command(ws: &mut Ws, id: &str, command: serde_json::Value) -> Result<()> {
    let frame = serde_json::json!({"type": "command", "request_id": id, "command": command});
    ws::send(ws, frame.to_string()).await
}

async fn canary_round(ws: &mut Ws, room: &str, n: u64) -> Result<Duration> {
    let start = Instant::now();
    let id = format!("canary-{n}");
    command(
        ws,
        &id,
        serde_json::json!({"type": "post_message", "room_id": room, "body": "canary"}),
    )
    .await?;
    loop {
        let answer = ws::expect(ws, "ack").await?;
        if answer["request_id"] == id.as_str() {
            return Ok(start.elapsed());
        }
    }
}

/// Runs phase 5 against a server started with `serve_args` (besides a lifted per-address cap).
pub async fn run(config: &StormConfig, serve_args: &[&str]) -> Result<Storm> {
    // Hundreds of reconnects with one token from one address: lift the per-address cap and the
    // rate limits (what is measured is the server's catch-up work, not the limits).
    let mut args = vec!["--max-connections-per-ip", "1000000"];
    args.extend_from_slice(&warren_e2e::server::NO_RATE_LIMITS);
    args.extend_from_slice(serve_args);
    let server = Server::start_with(&args).await;
    let addr = server.addr;
    let token = server.token.clone();
    let mut canary = ws::connect(addr, Some(&token)).await?;
    ws::hello(&mut canary).await?;
    ws::send(&mut canary, r#"{"type":"subscribe"}"#.into()).await?;
    let snapshot = ws::expect(&mut canary, "snapshot").await?;
    let board = snapshot["state"]["boards"][0]["id"]
        .as_str()
        .context("no board")?
        .to_owned();
    let room = snapshot["state"]["rooms"][0]["id"]
        .as_str()
        .context("no room")?
        .to_owned();
    // Seed the cards on a separate, unsubscribed connection, pipelined in windows.
    let mut seeder = ws::connect(addr, Some(&token)).await?;
    ws::hello(&mut seeder).await?;
    let title = "A card with a title long enough to look like a real one";
    for chunk in 0..config.cards.div_ceil(200) {
        let n = (config.cards - chunk * 200).min(200);
        for i in 0..n {
            command(
                &mut seeder,
                &format!("seed-{chunk}-{i}"),
                serde_json::json!({
                    "type": "create_card", "board_id": board, "title": title,
                    "priority": "none", "position": {"at": "bottom"}
                }),
            )
            .await?;
        }
        for _ in 0..n {
            ws::expect(&mut seeder, "ack").await?;
        }
    }
    drop(seeder);
    // Drain the canary's own subscription to the seeding, then measure it alone.
    ws::send(&mut canary, r#"{"type":"ping","nonce":1}"#.into()).await?;
    ws::expect(&mut canary, "pong").await?;
    let mut quiet = Vec::with_capacity(config.samples);
    for n in 0..config.samples as u64 {
        quiet.push(canary_round(&mut canary, &room, n).await?);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let mut stormers = Vec::with_capacity(config.clients);
    for _ in 0..config.clients {
        let (stop, snapshots, bytes, token) = (
            stop.clone(),
            snapshots.clone(),
            bytes.clone(),
            token.clone(),
        );
        stormers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let mut ws = ws::connect(addr, Some(&token)).await?;
                ws::hello(&mut ws).await?;
                ws::send(&mut ws, r#"{"type":"subscribe"}"#.into()).await?;
                // Only the frame prefixes are looked at: parsing 100s of KB of JSON per snapshot
                // would make the storm's clients, not the server, the canary's competition.
                loop {
                    let text = ws::next_text(&mut ws).await?;
                    if text.starts_with(r#"{"type":"snapshot""#) {
                        bytes.store(text.len() as u64, Ordering::Relaxed);
                    } else if text.starts_with(r#"{"type":"synced""#) {
                        break;
                    } else if text.starts_with(r#"{"type":"error""#) {
                        anyhow::bail!("the server refused a storm client: {text}");
                    }
                }
                snapshots.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    let start = Instant::now();
    let mut storm = Vec::new();
    let mut n = config.samples as u64;
    while start.elapsed() < config.time {
        storm.push(canary_round(&mut canary, &room, n).await?);
        n += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    for stormer in stormers {
        stormer.await??;
    }
    Ok(Storm {
        quiet: Samples::new(quiet),
        storm: Samples::new(storm),
        snapshots: snapshots.load(Ordering::Relaxed),
        snapshot_bytes: bytes.load(Ordering::Relaxed) as usize,
        elapsed,
    })
}
