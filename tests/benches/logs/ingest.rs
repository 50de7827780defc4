//! Phase 1: durable log ingest. The benchmark plays a worker streaming a run's log as
//! `log_chunk` frames of at most 64 KiB (the worker's batch size; compact lines written as the
//! worker writes them) with a window of chunks in
//! flight, and counts lines acknowledged per second (an ack means durable), while viewers follow
//! the run live. Baseline: the same bytes appended to a plain file with an fsync after every chunk
//! (the same durability granularity), in the same run.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use warren_protocol::limits::MAX_FRAME_BYTES;
use warren_protocol::log_json::{ChunkWriter, LineRef};
use warren_protocol::run::{LogStream, MAX_CHUNK_BYTES, MAX_LINES_PER_FRAME};
use warren_protocol::{ClientMessage, Id, RequestId};

use crate::corpus::Line;
use crate::setup;
use crate::stats::Samples;
use crate::ws::{self, Ws};

/// Chunks a worker keeps in flight before it waits for an ack: what `warren worker` does
/// (`WARREN_BENCH_LOG_WINDOW` changes it).
pub const WINDOW: usize = warren::worker::work_loop::LOG_WINDOW;

/// What phase 1 measured.
pub struct Ingest {
    pub lines: usize,
    pub elapsed: Duration,
    /// Lag of each `log_lines` frame at its viewers: arrival minus the time its first line was
    /// sent.
    pub lag: Samples,
    pub viewers: usize,
    /// Each chunk's time from its send to its `log_ack`.
    pub ack: Samples,
    /// The writer's commits while it ran (set by the caller, which owns the server).
    pub commits: u64,
    /// How much the store grew on disk by the last ack (set by the caller).
    pub store_bytes: u64,
    /// Bytes the process wrote to the disk meanwhile (set by the caller).
    pub written_bytes: u64,
    /// CPU time while it ran (set by the caller, which owns the server's runtime).
    pub cpu: Option<crate::cpu::Cpu>,
}

impl Ingest {
    pub fn rate(&self) -> f64 {
        self.lines as f64 / self.elapsed.as_secs_f64()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Splits the lines into chunks as a worker batches them.
pub fn chunks(lines: &[Line]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, line) in lines.iter().enumerate() {
        let weight = line.text.len() + 16;
        if i > start && (bytes + weight > MAX_CHUNK_BYTES || i - start >= MAX_LINES_PER_FRAME) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += weight;
    }
    if start < lines.len() {
        out.push(start..lines.len());
    }
    out
}

/// The whole number at the start of `text`.
fn number_at(text: &str) -> Option<u64> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

/// Where the compact lines of a `log_lines` frame start (the first line's `[` just before).
const LINES: &str = r#""lines":[["#;

/// A viewer following the run from line 1: returns the lag of every frame once it has seen
/// line `last`.
async fn follow(mut viewer: Ws, workspace: Id, run: Id, last: u64) -> Result<Vec<Duration>> {
    setup::send(
        &mut viewer,
        &ClientMessage::LogSubscribe {
            request_id: RequestId::parse("bench-follow")?,
            workspace_id: Some(workspace),
            run_id: run,
            from_line: Some(1),
            tail: None,
            filter: None,
            // As `warren` and `warren log -f` ask.
            compact: true,
        },
    )
    .await?;
    let mut seen = 0u64;
    let mut lags = Vec::new();
    while seen < last {
        let text = ws::next_text(&mut viewer).await?;
        if !text.starts_with(r#"{"type":"log_lines""#) {
            if text.starts_with(r#"{"type":"error""#) {
                bail!("a viewer got an error: {text}");
            }
            continue;
        }
        let arrived = now_ms();
        // The lines come in order: the frame's last line number says how far the viewer is
        // (reading it costs one line, not a scan of the whole frame on the benchmark's cores).
        // Compact lines: `[n,ts,"stream","text"]`. The last `,[` starts the last line (a text
        // holds `[` only after an escape, `\u001b[`, never after a comma).
        let first = text.find(LINES).map(|at| at + LINES.len());
        if let Some(n) = text
            .rfind(",[")
            .map(|at| at + 2)
            .or(first)
            .and_then(|at| number_at(&text[at..]))
        {
            seen = n;
        }
        // The first line's `ts` follows its number.
        if let Some(ts) = first
            .and_then(|at| text[at..].find(',').map(|comma| at + comma + 1))
            .and_then(|at| number_at(&text[at..]))
        {
            lags.push(Duration::from_millis((arrived - ts as i64).max(0) as u64));
        }
    }
    Ok(lags)
}

/// Streams `lines` as the run's log and waits for every ack, with `viewers` following live.
pub async fn run(
    addr: std::net::SocketAddr,
    token: &str,
    workspace: &Id,
    running: setup::Running,
    lines: &[Line],
    viewers: usize,
    window_size: usize,
) -> Result<Ingest> {
    let setup::Running { worker, run } = running;
    let mut followers = Vec::new();
    for _ in 0..viewers {
        let viewer = setup::connect(addr, token).await?;
        followers.push(tokio::spawn(follow(
            viewer,
            workspace.clone(),
            run.id.clone(),
            run.lines + lines.len() as u64,
        )));
    }
    let (mut sink, mut stream) = worker.split();
    let plan = chunks(lines);
    let window = Arc::new(Semaphore::new(window_size));
    let sent_at = Arc::new(std::sync::Mutex::new(vec![None; plan.len()]));
    let acks = {
        let window = window.clone();
        let sent_at = sent_at.clone();
        let total = plan.len() as u64;
        tokio::spawn(async move {
            let mut acked = 0u64;
            let mut latency = Vec::with_capacity(total as usize);
            while acked < total {
                match stream.next().await {
                    Some(Ok(Message::Text(text))) => {
                        if text.starts_with(r#"{"type":"log_ack""#) {
                            acked += 1;
                            window.add_permits(1);
                            let sent = text.rfind(r#""chunk":"#).and_then(|at| {
                                let chunk = number_at(&text[at + 8..])? as usize;
                                sent_at.lock().ok()?.get(chunk).copied().flatten()
                            });
                            if let Some(sent) = sent {
                                latency.push(Instant::elapsed(&sent));
                            }
                        } else if text.starts_with(r#"{"type":"log_refused""#) {
                            bail!("a chunk was refused: {}", text.as_str());
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("the server closed the worker's socket"),
                }
            }
            Ok((stream, latency))
        })
    };
    let first = run.lines + 1;
    let started = Instant::now();
    for (chunk, range) in plan.iter().enumerate() {
        window.acquire().await?.forget();
        let ts = now_ms();
        // As the worker writes it: compact lines, by hand (warren_protocol::log_json).
        let mut writer = ChunkWriter::new(&run.id, chunk as u64, MAX_FRAME_BYTES, 0);
        for (k, line) in lines[range.clone()].iter().enumerate() {
            writer.push(LineRef {
                n: first + (range.start + k) as u64,
                ts,
                stream: if line.err {
                    LogStream::Err
                } else {
                    LogStream::Out
                },
                text: &line.text,
                continued: false,
            });
        }
        let frame = Message::text(writer.finish());
        if let Ok(mut sent_at) = sent_at.lock()
            && let Some(at) = sent_at.get_mut(chunk)
        {
            *at = Some(Instant::now());
        }
        sink.send(frame).await?;
    }
    let (_stream, latency) = acks.await??;
    let elapsed = started.elapsed();
    let mut lags = Vec::new();
    for follower in followers {
        lags.extend(
            tokio::time::timeout(Duration::from_secs(600), follower)
                .await
                .context("a viewer did not see every line within 10 minutes")???,
        );
    }
    Ok(Ingest {
        lines: lines.len(),
        elapsed,
        lag: Samples::new(lags),
        viewers,
        ack: Samples::new(latency),
        commits: 0,
        store_bytes: 0,
        written_bytes: 0,
        cpu: None,
    })
}

/// The baseline: appends the chunks' bytes to a plain file, fsync after each chunk.
pub fn baseline(dir: &Path, lines: &[Line]) -> Result<Duration> {
    let path = dir.join("baseline.log");
    let mut file = std::fs::File::create(&path)?;
    let started = Instant::now();
    for range in chunks(lines) {
        let mut buf = Vec::with_capacity(MAX_CHUNK_BYTES + 1024);
        for line in &lines[range] {
            buf.extend_from_slice(line.text.as_bytes());
            buf.push(b'\n');
        }
        file.write_all(&buf)?;
        file.sync_data()?;
    }
    let elapsed = started.elapsed();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(elapsed)
}
