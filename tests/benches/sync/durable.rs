//! Phase 1: durable commands per second through the server, and the raw redb baseline of one
//! durable commit per event.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redb::TableDefinition;

use crate::config::{Commands, Config};
use crate::stats::Samples;
use crate::warren::Warren;
use crate::ws;

/// What the writers achieved.
pub struct Writes {
    pub acked: u64,
    pub elapsed: Duration,
    /// Writer commits and commands during the run (from `Bound::writer_stats`).
    pub commits: u64,
    pub commands: u64,
    /// Command sent → ack received, per command.
    pub ack_latency: Samples,
    /// The longest rank of a created card, in characters.
    pub longest_rank: usize,
}

impl Writes {
    pub fn rate(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64()
    }
}

struct WriterOutcome {
    acked: u64,
    latencies: Vec<Duration>,
    longest_rank: usize,
}

/// Runs `config.writers` clients that each send a command, wait for its ack, and repeat, for
/// `config.write_time`. `config.commands` says whether they create cards, post messages, or alternate.
pub async fn writers(server: &Warren, config: &Config) -> Result<Writes> {
    let mut sockets = Vec::with_capacity(config.writers);
    for _ in 0..config.writers {
        let mut socket = ws::connect(server.addr, Some(&server.token)).await?;
        ws::hello(&mut socket).await?;
        sockets.push(socket);
    }
    let commits_before = server.stats.commits.load(Ordering::Relaxed);
    let commands_before = server.stats.commands.load(Ordering::Relaxed);
    let started = Instant::now();
    let deadline = started + config.write_time;
    let mut tasks = tokio::task::JoinSet::new();
    for (client, socket) in sockets.into_iter().enumerate() {
        let board = server.board.clone();
        let room = server.room.clone();
        tasks.spawn(write_loop(
            socket,
            client,
            board,
            room,
            config.commands,
            deadline,
        ));
    }
    let mut acked = 0;
    let mut latencies = Vec::new();
    let mut longest_rank = 0;
    while let Some(outcome) = tasks.join_next().await {
        let outcome = outcome.context("a writer task panicked")??;
        acked += outcome.acked;
        latencies.extend(outcome.latencies);
        longest_rank = longest_rank.max(outcome.longest_rank);
    }
    let elapsed = started.elapsed();
    Ok(Writes {
        acked,
        elapsed,
        commits: server.stats.commits.load(Ordering::Relaxed) - commits_before,
        commands: server.stats.commands.load(Ordering::Relaxed) - commands_before,
        ack_latency: Samples::new(latencies),
        longest_rank,
    })
}

async fn write_loop(
    mut socket: ws::Ws,
    client: usize,
    board: String,
    room: String,
    commands: Commands,
    deadline: Instant,
) -> Result<WriterOutcome> {
    let mut outcome = WriterOutcome {
        acked: 0,
        latencies: Vec::new(),
        longest_rank: 0,
    };
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let request_id = format!("w{client}-{n}");
        let card = commands.card(n);
        let command = if card {
            serde_json::json!({"type": "create_card", "board_id": board,
                "title": format!("Benchmark card {client}-{n}"),
                "labels": ["bench"]})
        } else {
            serde_json::json!({"type": "post_message", "room_id": room,
                "body": format!("Benchmark message {n} from writer {client}: the quick brown fox jumps over the lazy dog.")})
        };
        let frame =
            serde_json::json!({"type": "command", "request_id": request_id, "command": command});
        let sent = Instant::now();
        ws::send(&mut socket, frame.to_string()).await?;
        let answer = loop {
            let text = ws::next_text(&mut socket).await?;
            let value: serde_json::Value = serde_json::from_str(&text)?;
            if value["request_id"] == request_id.as_str() {
                break value;
            }
        };
        if answer["type"] != "ack" {
            bail!("command {request_id} was not acknowledged: {answer}");
        }
        outcome.latencies.push(sent.elapsed());
        outcome.acked += 1;
        if card {
            let rank = answer["event"]["change"]["card"]["rank"].as_str();
            outcome.longest_rank = outcome.longest_rank.max(rank.map_or(0, str::len));
        }
    }
    let _ = socket.close(None).await;
    Ok(outcome)
}

/// Posts one message through the server and returns its event's JSON: the raw baseline's payload.
pub async fn probe_event(server: &Warren) -> Result<String> {
    let mut socket = ws::connect(server.addr, Some(&server.token)).await?;
    ws::hello(&mut socket).await?;
    let frame = serde_json::json!({"type": "command", "request_id": "probe",
        "command": {"type": "post_message", "room_id": server.room,
            "body": "Benchmark message 1 from writer 0: the quick brown fox jumps over the lazy dog."}});
    ws::send(&mut socket, frame.to_string()).await?;
    let ack = ws::expect(&mut socket, "ack").await?;
    let _ = socket.close(None).await;
    Ok(ack["event"].to_string())
}

/// The raw baseline's result.
pub struct Raw {
    pub commits: u64,
    pub elapsed: Duration,
    pub payload_bytes: usize,
}

impl Raw {
    pub fn rate(&self) -> f64 {
        self.commits as f64 / self.elapsed.as_secs_f64()
    }

    /// Two runs taken together.
    pub fn plus(&self, other: &Raw) -> Raw {
        Raw {
            commits: self.commits + other.commits,
            elapsed: self.elapsed + other.elapsed,
            payload_bytes: self.payload_bytes,
        }
    }
}

const RAW_EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events: seq -> event");

/// Inserts `payload` into a plain redb table, one durable two-phase commit per event (as the
/// store's `begin_write` configures), for `time`.
pub fn raw_redb(path: &Path, payload: &[u8], time: Duration) -> Result<Raw> {
    let db = redb::Database::create(path)?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < time {
        let mut txn = db.begin_write()?;
        txn.set_two_phase_commit(true);
        txn.open_table(RAW_EVENTS)?.insert(commits, payload)?;
        txn.commit()?;
        commits += 1;
    }
    Ok(Raw {
        commits,
        elapsed: started.elapsed(),
        payload_bytes: payload.len(),
    })
}
