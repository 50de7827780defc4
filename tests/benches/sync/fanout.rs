//! Phases 2 and 3: event deliveries per second to many subscribed clients, and the latency from
//! sending a change to its arrival at the last of them. The same client harness measures the warren
//! server and the bare broadcast baseline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::SinkExt;
use futures_util::StreamExt;
use futures_util::stream::SplitSink;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::config::Config;
use crate::stats::Samples;
use crate::ws::{self, Ws};

/// Connections opened at once while the subscribers connect.
const CONNECT_CONCURRENCY: usize = 64;

/// Where the subscribers connect and the producer sends.
#[derive(Clone)]
pub enum Target {
    /// The warren server: subscribers say hello and subscribe from `since`; the producer posts
    /// chat messages to `room`.
    Warren {
        addr: SocketAddr,
        token: String,
        room: String,
        since: u64,
    },
    /// The bare broadcast server; the producer relays frames built from the template, an event
    /// frame split around its sequence number, numbered from `first_seq` (the warren run's, so
    /// that the frames have the same size).
    Bare {
        addr: SocketAddr,
        template: (String, String),
        first_seq: u64,
    },
}

impl Target {
    /// The sequence number of the first event the run produces.
    fn first_seq(&self) -> u64 {
        match self {
            Target::Warren { since, .. } => since + 1,
            Target::Bare { first_seq, .. } => *first_seq,
        }
    }
}

/// Per-event arrival bookkeeping, shared by every subscriber.
struct Tracker {
    origin: Instant,
    first_seq: u64,
    clients: u32,
    /// How many subscribers have each event.
    counts: Vec<AtomicU32>,
    /// When the last subscriber got each event, in nanoseconds since `origin`.
    last_ns: Vec<AtomicU64>,
    /// Events every subscriber has.
    complete: AtomicU64,
    progress: Notify,
    /// `resync` frames the subscribers received (warren only).
    resyncs: AtomicU64,
    /// One event frame as received, to size the baseline's frames.
    sample: OnceLock<String>,
}

impl Tracker {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn record(&self, text: &str) {
        let Some(seq) = ws::event_seq(text) else {
            if text.starts_with(r#"{"type":"resync""#) {
                self.resyncs.fetch_add(1, Ordering::Relaxed);
            }
            return;
        };
        let Some(i) = seq.checked_sub(self.first_seq).map(|i| i as usize) else {
            return;
        };
        let (Some(count), Some(last)) = (self.counts.get(i), self.last_ns.get(i)) else {
            return;
        };
        last.fetch_max(self.now_ns(), Ordering::AcqRel);
        if count.fetch_add(1, Ordering::AcqRel) + 1 == self.clients {
            if self.sample.get().is_none() {
                let _ = self.sample.set(text.to_owned());
            }
            self.complete.fetch_add(1, Ordering::AcqRel);
            self.progress.notify_one();
        }
    }

    /// Waits until `done()` holds, re-checking whenever an event completes.
    async fn wait(&self, done: impl Fn() -> bool) {
        while !done() {
            self.progress.notified().await;
        }
    }
}

/// What one run against a target measured.
pub struct Fanout {
    pub clients: usize,
    pub events: usize,
    /// First send to the last delivery of the burst.
    pub elapsed: Duration,
    /// Per event: send → arrival at the last subscriber.
    pub latency: Samples,
    pub resyncs: u64,
    pub payload_bytes: usize,
    /// One event frame as the subscribers got it.
    pub sample: String,
}

impl Fanout {
    pub fn deliveries_per_sec(&self) -> f64 {
        (self.events * self.clients) as f64 / self.elapsed.as_secs_f64()
    }
}

/// Connects `config.clients` subscribers, sends a burst of `config.events` events as fast as the
/// producer's socket takes them and times their delivery to everyone, then sends
/// `config.samples` events one at a time and times each to its last subscriber.
pub async fn run(target: Target, config: &Config) -> Result<Fanout> {
    let tracker = Arc::new(Tracker {
        origin: Instant::now(),
        first_seq: target.first_seq(),
        clients: u32::try_from(config.clients)?,
        counts: (0..config.events + config.samples)
            .map(|_| AtomicU32::new(0))
            .collect(),
        last_ns: (0..config.events + config.samples)
            .map(|_| AtomicU64::new(0))
            .collect(),
        complete: AtomicU64::new(0),
        progress: Notify::new(),
        resyncs: AtomicU64::new(0),
        sample: OnceLock::new(),
    });
    let mut subscribers = JoinSet::new();
    let ready = connect_subscribers(&target, config, &tracker, &mut subscribers).await;
    let result = match ready {
        Ok(()) => measure(&target, config, &tracker).await,
        Err(e) => Err(e),
    };
    subscribers.abort_all();
    while subscribers.join_next().await.is_some() {}
    result
}

async fn connect_subscribers(
    target: &Target,
    config: &Config,
    tracker: &Arc<Tracker>,
    subscribers: &mut JoinSet<Result<()>>,
) -> Result<()> {
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<()>>(config.clients);
    for _ in 0..config.clients {
        let target = target.clone();
        let tracker = tracker.clone();
        let gate = gate.clone();
        let ready_tx = ready_tx.clone();
        subscribers.spawn(async move {
            let socket = {
                let _permit = gate.acquire().await?;
                subscribe(&target).await
            };
            let mut socket = match socket {
                Ok(s) => {
                    ready_tx.send(Ok(())).await?;
                    s
                }
                Err(e) => {
                    ready_tx.send(Err(e)).await?;
                    return Ok(());
                }
            };
            drop(ready_tx);
            while let Some(message) = socket.next().await {
                match message? {
                    Message::Text(text) => tracker.record(text.as_str()),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            Ok(())
        });
    }
    drop(ready_tx);
    let all = async {
        for _ in 0..config.clients {
            match ready_rx.recv().await {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(e.context("a subscriber could not connect")),
                None => bail!("the subscriber tasks stopped"),
            }
        }
        Ok(())
    };
    tokio::time::timeout(config.timeout, all)
        .await
        .context("the subscribers did not all connect in time")?
}

/// Opens a subscriber's socket and waits until it is live.
async fn subscribe(target: &Target) -> Result<Ws> {
    match target {
        Target::Warren {
            addr, token, since, ..
        } => {
            let mut socket = ws::connect(*addr, Some(token)).await?;
            ws::hello(&mut socket).await?;
            ws::send(
                &mut socket,
                format!(r#"{{"type":"subscribe","since":{since}}}"#),
            )
            .await?;
            ws::expect(&mut socket, "synced").await?;
            Ok(socket)
        }
        Target::Bare { addr, .. } => {
            let mut socket = ws::connect(*addr, None).await?;
            ws::send(&mut socket, "sub".into()).await?;
            let answer = ws::next_text(&mut socket).await?;
            if answer != "ready" {
                bail!("the bare server answered {answer:?} to sub");
            }
            Ok(socket)
        }
    }
}

async fn measure(target: &Target, config: &Config, tracker: &Arc<Tracker>) -> Result<Fanout> {
    let mut producer = Producer::connect(target).await?;
    let first = tracker.first_seq;
    let events = config.events as u64;

    let started = tracker.now_ns();
    for seq in first..first + events {
        producer.send(seq).await?;
    }
    let burst = tracker.wait(|| tracker.complete.load(Ordering::Acquire) >= events);
    tokio::time::timeout(config.timeout, burst)
        .await
        .with_context(|| {
            format!(
                "the burst was not delivered to every client within {:?} ({} of {events} events complete; {})",
                config.timeout,
                tracker.complete.load(Ordering::Acquire),
                producer.problems()
            )
        })?;
    let finished = tracker.last_ns[..config.events]
        .iter()
        .map(|t| t.load(Ordering::Acquire))
        .max()
        .unwrap_or(started);
    let elapsed = Duration::from_nanos(finished.saturating_sub(started));

    let mut latencies = Vec::with_capacity(config.samples);
    for k in 0..config.samples {
        let i = config.events + k;
        let sent = tracker.now_ns();
        producer.send(first + i as u64).await?;
        let arrived = tracker.wait(|| tracker.counts[i].load(Ordering::Acquire) >= tracker.clients);
        tokio::time::timeout(Duration::from_secs(10), arrived)
            .await
            .with_context(|| {
                format!(
                    "latency sample {k} did not reach every client; {}",
                    producer.problems()
                )
            })?;
        let last = tracker.last_ns[i].load(Ordering::Acquire);
        latencies.push(Duration::from_nanos(last.saturating_sub(sent)));
    }
    producer.check()?;
    let sample = tracker.sample.get().cloned().unwrap_or_default();
    Ok(Fanout {
        clients: config.clients,
        events: config.events,
        elapsed,
        latency: Samples::new(latencies),
        resyncs: tracker.resyncs.load(Ordering::Relaxed),
        payload_bytes: sample.len(),
        sample,
    })
}

/// The connection that makes the events: a warren client posting chat messages, or a bare
/// publisher sending ready-made frames.
struct Producer {
    sink: SplitSink<Ws, Message>,
    target: Target,
    /// Answers other than `ack` (warren only), with the first one's text.
    errors: Arc<(AtomicU64, OnceLock<String>)>,
    _reader: tokio::task::JoinHandle<()>,
}

impl Producer {
    async fn connect(target: &Target) -> Result<Self> {
        let errors = Arc::new((AtomicU64::new(0), OnceLock::new()));
        let mut socket = match target {
            Target::Warren { addr, token, .. } => {
                let mut socket = ws::connect(*addr, Some(token)).await?;
                ws::hello(&mut socket).await?;
                socket
            }
            Target::Bare { addr, .. } => {
                let mut socket = ws::connect(*addr, None).await?;
                ws::send(&mut socket, "pub".into()).await?;
                socket
            }
        };
        socket.flush().await?;
        let (sink, mut stream) = socket.split();
        let seen = errors.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message
                    && !text.as_str().starts_with(r#"{"type":"ack""#)
                {
                    seen.0.fetch_add(1, Ordering::Relaxed);
                    let _ = seen.1.set(text.as_str().to_owned());
                }
            }
        });
        Ok(Self {
            sink,
            target: target.clone(),
            errors,
            _reader: reader,
        })
    }

    /// Makes the event that will carry `seq` (warren assigns it; the bare frame states it).
    async fn send(&mut self, seq: u64) -> Result<()> {
        let text = match &self.target {
            Target::Warren { room, .. } => format!(
                r#"{{"type":"command","request_id":"p{seq}","command":{{"type":"post_message","room_id":"{room}","body":"Fan-out event {seq}: the quick brown fox jumps over the lazy dog."}}}}"#
            ),
            Target::Bare {
                template: (head, tail),
                ..
            } => format!("{head}{seq}{tail}"),
        };
        self.sink.send(Message::text(text)).await?;
        Ok(())
    }

    fn problems(&self) -> String {
        match self.errors.1.get() {
            Some(first) => format!(
                "{} commands failed, the first with {first}",
                self.errors.0.load(Ordering::Relaxed)
            ),
            None => "no command failed".into(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.errors.0.load(Ordering::Relaxed) > 0 {
            bail!("{}", self.problems());
        }
        Ok(())
    }
}
