//! What the server counts about itself, cheaply (atomics only on the hot path), and the two ways
//! it is read: `GET /metrics` in Prometheus text format, and the status that
//! `warren-server status` prints.
//!
//! The writer records each group commit's latency in a fixed-bucket [`Histogram`]; connections,
//! the writer queue and stored events are read when asked. Commands per second come from a
//! once-a-second sample of the command counter ([`sample`]).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::store::tables::{HEADS, WORKSPACES};
use crate::store::{Store, StoreError};
use crate::writer::WriterStats;

/// Upper bounds of the commit latency buckets, in seconds (Prometheus `le`).
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with fixed buckets; recording is two relaxed atomic adds.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last one counts everything above the top bound.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn record(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn counts(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    /// The upper bound (seconds) of the bucket holding quantile `q` (0..=1), or `None` before
    /// any observation. Above the top bucket it is infinite.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let counts = self.counts();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let wanted = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return Some(LATENCY_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY));
            }
        }
        Some(f64::INFINITY)
    }
}

/// Server-wide counters that are not the writer's.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Commands, queries and new connections refused by a rate limit (`rate_limit`).
    pub rate_limited: AtomicU64,
    /// `(when, commands total)` once a second over the last minute.
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            rate_limited: AtomicU64::new(0),
            samples: Mutex::new(VecDeque::new()),
        }
    }
}

/// The window commands per second are averaged over.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

impl Metrics {
    /// How long the server has run.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Remembers the command counter now (called once a second by [`sample`]).
    pub fn push_sample(&self, commands: u64) {
        self.push_sample_at(Instant::now(), commands);
    }

    fn push_sample_at(&self, now: Instant, commands: u64) {
        if let Ok(mut samples) = self.samples.lock() {
            samples.push_back((now, commands));
            while samples
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > Duration::from_secs(60))
            {
                samples.pop_front();
            }
        }
    }

    /// Commands per second over about the last [`RATE_WINDOW`], from the samples and `now_total`.
    pub fn commands_per_second(&self, now_total: u64) -> f64 {
        self.commands_per_second_at(Instant::now(), now_total)
    }

    fn commands_per_second_at(&self, now: Instant, now_total: u64) -> f64 {
        let Ok(samples) = self.samples.lock() else {
            return 0.0;
        };
        let base = samples
            .iter()
            .find(|(at, _)| now.duration_since(*at) <= RATE_WINDOW)
            .or(samples.back());
        match base {
            Some((at, n)) => {
                let secs = now.duration_since(*at).as_secs_f64();
                if secs < 0.001 {
                    0.0
                } else {
                    now_total.saturating_sub(*n) as f64 / secs
                }
            }
            None => {
                let secs = self.uptime().as_secs_f64().max(0.001);
                now_total as f64 / secs
            }
        }
    }
}

/// Samples the command counter once a second until the task is aborted.
pub async fn sample(metrics: Arc<Metrics>, writer: Arc<WriterStats>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        metrics.push_sample(writer.commands.load(Ordering::Relaxed));
    }
}

/// A snapshot of the server's state, as `warren-server status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub uptime_secs: u64,
    pub connections: usize,
    pub workspaces: u64,
    pub events_stored: u64,
    pub commands_total: u64,
    pub commands_per_second: f64,
    pub commits_total: u64,
    /// Upper bound of the bucket holding the median commit, in milliseconds.
    pub commit_p50_ms: Option<f64>,
    /// Upper bound of the bucket holding the 99th percentile commit, in milliseconds.
    pub commit_p99_ms: Option<f64>,
    pub writer_queue_depth: usize,
    pub rate_limited_total: u64,
}

/// What the store holds, read when asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreCounts {
    pub workspaces: u64,
    pub events: u64,
}

/// Everything the two renderings need, gathered at one moment.
pub struct Gathered<'a> {
    pub metrics: &'a Metrics,
    pub writer: &'a WriterStats,
    pub connections: usize,
    pub queue_depth: usize,
    pub store: StoreCounts,
}

impl Gathered<'_> {
    /// The status for `warren-server status`.
    pub fn status(&self) -> Status {
        let commands = self.writer.commands.load(Ordering::Relaxed);
        let ms = |s: f64| (s * 1000.0 * 1000.0).round() / 1000.0;
        let quantile = |q| {
            self.writer
                .commit_latency
                .quantile(q)
                .filter(|s| s.is_finite())
                .map(ms)
        };
        Status {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_secs: self.metrics.uptime().as_secs(),
            connections: self.connections,
            workspaces: self.store.workspaces,
            events_stored: self.store.events,
            commands_total: commands,
            commands_per_second: (self.metrics.commands_per_second(commands) * 10.0).round() / 10.0,
            commits_total: self.writer.commits.load(Ordering::Relaxed),
            commit_p50_ms: quantile(0.5),
            commit_p99_ms: quantile(0.99),
            writer_queue_depth: self.queue_depth,
            rate_limited_total: self.metrics.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let status = self.status();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        metric(
            "warren_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
            status.uptime_secs.to_string(),
        );
        metric(
            "warren_connections",
            "gauge",
            "Open WebSocket connections.",
            status.connections.to_string(),
        );
        metric(
            "warren_commands_total",
            "counter",
            "Commands the writer has answered (applied, duplicate or rejected).",
            status.commands_total.to_string(),
        );
        metric(
            "warren_commands_per_second",
            "gauge",
            "Commands per second over the last 10 seconds.",
            status.commands_per_second.to_string(),
        );
        metric(
            "warren_commits_total",
            "counter",
            "Group commits (one durable write transaction each).",
            status.commits_total.to_string(),
        );
        metric(
            "warren_writer_queue_depth",
            "gauge",
            "Commands waiting for the writer.",
            status.writer_queue_depth.to_string(),
        );
        metric(
            "warren_workspaces",
            "gauge",
            "Workspaces in the store.",
            status.workspaces.to_string(),
        );
        metric(
            "warren_events_stored",
            "gauge",
            "Events in the store, all workspaces.",
            status.events_stored.to_string(),
        );
        metric(
            "warren_rate_limited_total",
            "counter",
            "Commands, queries and new connections refused by a rate limit.",
            status.rate_limited_total.to_string(),
        );
        let name = "warren_commit_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to apply and durably commit one group commit."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let hist = &self.writer.commit_latency;
        let counts = hist.counts();
        let mut cumulative = 0;
        for (i, n) in counts.iter().enumerate() {
            cumulative += n;
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = hist.sum_micros.load(Ordering::Relaxed) as f64 / 1_000_000.0;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
        out
    }
}

/// The status in a few lines for people.
pub fn describe(status: &Status) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("≤ {v} ms"));
    let up = status.uptime_secs;
    format!(
        "warren-server {}\n\
         uptime            {}h {:02}m {:02}s\n\
         connections       {}\n\
         workspaces        {}\n\
         events stored     {}\n\
         commands          {} ({} per second)\n\
         commits           {}\n\
         commit latency    p50 {}, p99 {}\n\
         writer queue      {}\n\
         rate-limited      {}\n",
        status.version,
        up / 3600,
        (up / 60) % 60,
        up % 60,
        status.connections,
        status.workspaces,
        status.events_stored,
        status.commands_total,
        status.commands_per_second,
        status.commits_total,
        ms(status.commit_p50_ms),
        ms(status.commit_p99_ms),
        status.writer_queue_depth,
        status.rate_limited_total,
    )
}

/// Counts workspaces and stored events (the sum of the workspace heads).
pub fn store_counts(store: &Store) -> Result<StoreCounts, StoreError> {
    use redb::{ReadableTable, ReadableTableMetadata};
    let txn = store.begin_read()?;
    let heads = txn.open_table(HEADS)?;
    let mut events = 0u64;
    for entry in heads.iter()? {
        let (_, seq) = entry?;
        events += seq.value();
    }
    let workspaces = txn.open_table(WORKSPACES)?.len()?;
    Ok(StoreCounts { workspaces, events })
}

/// Gathers the status of a running server (the store is read on the blocking pool).
pub async fn status(app: &App) -> Result<Status, StoreError> {
    let store = app.read(store_counts).await?;
    Ok(gathered(app, store).status())
}

fn gathered(app: &App, store: StoreCounts) -> Gathered<'_> {
    Gathered {
        metrics: &app.metrics,
        writer: &app.writer.stats,
        connections: app.connections.count(),
        queue_depth: app.writer.queue_depth(),
        store,
    }
}

/// `GET /metrics`: the Prometheus text exposition. No token: like `/healthz` it reveals counts,
/// never content; `docs/deploy.md` says how to keep it off the public network.
pub async fn serve_metrics(State(app): State<Arc<App>>) -> Response {
    match app.read(store_counts).await {
        Ok(store) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            gathered(&app, store).prometheus(),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the store for /metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the store; see the server log\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..98 {
            h.record(Duration::from_micros(800));
        }
        h.record(Duration::from_millis(30));
        h.record(Duration::from_secs(20));
        assert_eq!(h.quantile(0.5), Some(0.001));
        assert_eq!(h.quantile(0.99), Some(0.05));
        assert_eq!(h.quantile(1.0), Some(f64::INFINITY));
        assert_eq!(h.count(), 100);
    }

    #[test]
    fn commands_per_second_come_from_the_samples() {
        let metrics = Metrics::default();
        let start = Instant::now();
        for s in 0..30u64 {
            metrics.push_sample_at(start + Duration::from_secs(s), s * 5);
        }
        // The window starts 10 s back: from 100 commands at 20 s to 180 at 30 s.
        let rate = metrics.commands_per_second_at(start + Duration::from_secs(30), 180);
        assert!((rate - 8.0).abs() < 1e-9, "{rate}");
        // Samples older than a minute are dropped.
        metrics.push_sample_at(start + Duration::from_secs(100), 500);
        let left = metrics.samples.lock().map(|s| s.len()).unwrap_or(0);
        assert_eq!(left, 1);
    }

    #[test]
    fn the_exposition_has_every_metric_and_cumulative_buckets() {
        let metrics = Metrics::default();
        let writer = WriterStats::default();
        writer.commands.fetch_add(7, Ordering::Relaxed);
        writer.commit_latency.record(Duration::from_micros(300));
        writer.commit_latency.record(Duration::from_millis(3));
        let text = Gathered {
            metrics: &metrics,
            writer: &writer,
            connections: 2,
            queue_depth: 1,
            store: StoreCounts {
                workspaces: 1,
                events: 9,
            },
        }
        .prometheus();
        for line in [
            "warren_connections 2",
            "warren_commands_total 7",
            "warren_writer_queue_depth 1",
            "warren_events_stored 9",
            "warren_rate_limited_total 0",
            "warren_commit_latency_seconds_bucket{le=\"0.0005\"} 1",
            "warren_commit_latency_seconds_bucket{le=\"0.005\"} 2",
            "warren_commit_latency_seconds_bucket{le=\"+Inf\"} 2",
            "warren_commit_latency_seconds_count 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in:\n{text}"
            );
        }
    }
}
