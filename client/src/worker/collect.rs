//! From pieces of output to numbered batches: line numbers, the per-run log cap (one visible
//! truncation line, then output is dropped while the job keeps running) and batches that close
//! at a size or an age, whichever comes first.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::line::{Batch, LogLine, Stream, now_ms};

/// Something for the log: a piece of the job's output or a line of the worker's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Output {
        stream: Stream,
        ts_ms: u64,
        bytes: Vec<u8>,
        continued: bool,
    },
    /// Already redacted (the worker's own words).
    System(String),
}

/// Numbers lines, applies the cap and closes batches by size.
#[derive(Debug)]
pub struct Collector {
    cap: u64,
    max_batch: usize,
    next_line: u64,
    next_chunk: u64,
    logged: u64,
    truncated: bool,
    batch: Vec<LogLine>,
    batch_weight: usize,
}

impl Collector {
    pub fn new(cap: u64, max_batch: usize) -> Self {
        Self {
            cap,
            max_batch,
            next_line: 0,
            next_chunk: 0,
            logged: 0,
            truncated: false,
            batch: Vec::new(),
            batch_weight: 0,
        }
    }

    /// True when the open batch holds lines.
    pub fn has_open_batch(&self) -> bool {
        !self.batch.is_empty()
    }

    /// Takes one event; appends the batches it closes (by size) to `closed`.
    pub fn accept(&mut self, event: Event, closed: &mut Vec<Batch>) {
        match event {
            Event::Output {
                stream,
                ts_ms,
                bytes,
                continued,
            } => {
                if self.truncated {
                    return;
                }
                let size = bytes.len() as u64;
                if self.logged.saturating_add(size) > self.cap {
                    self.truncated = true;
                    let text = format!(
                        "log truncated: it reached the {} cap; the job keeps running and its \
                         further output is dropped",
                        format_bytes(self.cap)
                    );
                    self.add(Stream::System, now_ms(), text.into_bytes(), false, closed);
                    return;
                }
                self.logged += size;
                self.add(stream, ts_ms, bytes, continued, closed);
            }
            Event::System(text) => {
                self.add(Stream::System, now_ms(), text.into_bytes(), false, closed)
            }
        }
    }

    fn add(
        &mut self,
        stream: Stream,
        ts_ms: u64,
        bytes: Vec<u8>,
        continued: bool,
        closed: &mut Vec<Batch>,
    ) {
        let line = LogLine {
            no: self.next_line,
            stream,
            ts_ms,
            bytes,
            continued,
        };
        self.next_line += 1;
        let weight = line.weight();
        if !self.batch.is_empty() && self.batch_weight + weight > self.max_batch {
            closed.extend(self.close());
        }
        self.batch.push(line);
        self.batch_weight += weight;
        if self.batch_weight >= self.max_batch {
            closed.extend(self.close());
        }
    }

    /// Closes the open batch, if it holds lines.
    pub fn close(&mut self) -> Option<Batch> {
        if self.batch.is_empty() {
            return None;
        }
        let batch = Batch {
            chunk_no: self.next_chunk,
            lines: std::mem::take(&mut self.batch),
        };
        self.next_chunk += 1;
        self.batch_weight = 0;
        Some(batch)
    }
}

/// Runs a collector until `events` ends: sends each batch when it is full or `max_age` after its
/// first line, and the last one at the end. A gone receiver is no error (the output is drained).
pub async fn run(
    mut collector: Collector,
    mut events: mpsc::Receiver<Event>,
    batches: mpsc::Sender<Batch>,
    max_age: Duration,
) {
    let mut deadline: Option<Instant> = None;
    let mut closed = Vec::new();
    loop {
        let due = async {
            match deadline {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    collector.accept(event, &mut closed);
                    if !closed.is_empty() {
                        deadline = None;
                    }
                    for batch in closed.drain(..) {
                        let _ = batches.send(batch).await;
                    }
                    if collector.has_open_batch() && deadline.is_none() {
                        deadline = Some(Instant::now() + max_age);
                    }
                }
                None => break,
            },
            () = due => {
                deadline = None;
                if let Some(batch) = collector.close() {
                    let _ = batches.send(batch).await;
                }
            }
        }
    }
    if let Some(batch) = collector.close() {
        let _ = batches.send(batch).await;
    }
}

/// `100 MiB`, `64 KiB`, `512 B`.
pub fn format_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    match bytes {
        b if b >= GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(text: &[u8]) -> Event {
        Event::Output {
            stream: Stream::Stdout,
            ts_ms: 1,
            bytes: text.to_vec(),
            continued: false,
        }
    }

    #[test]
    fn batches_close_on_size_and_are_numbered() {
        let mut c = Collector::new(u64::MAX, 64 * 1024);
        let mut closed = Vec::new();
        for _ in 0..200 {
            c.accept(output(&[b'x'; 1000]), &mut closed);
        }
        closed.extend(c.close());
        assert!(closed.len() >= 3, "{}", closed.len());
        for (i, batch) in closed.iter().enumerate() {
            assert_eq!(batch.chunk_no, i as u64);
            assert!(batch.weight() <= 64 * 1024, "{}", batch.weight());
        }
        // Every batch but the last was closed because the next line would not fit.
        for batch in &closed[..closed.len() - 1] {
            assert!(batch.weight() + 1000 + crate::worker::line::LINE_OVERHEAD > 64 * 1024);
        }
        let numbers: Vec<u64> = closed
            .iter()
            .flat_map(|b| b.lines.iter().map(|l| l.no))
            .collect();
        assert_eq!(numbers, (0..200).collect::<Vec<u64>>());
    }

    #[test]
    fn the_cap_writes_one_truncation_line_and_drops_the_rest() {
        let mut c = Collector::new(10_000, 64 * 1024);
        let mut closed = Vec::new();
        for _ in 0..100 {
            c.accept(output(&[b'y'; 1000]), &mut closed);
        }
        c.accept(Event::System("exit code 0".into()), &mut closed);
        closed.extend(c.close());
        let lines: Vec<&LogLine> = closed.iter().flat_map(|b| &b.lines).collect();
        let out = lines.iter().filter(|l| l.stream == Stream::Stdout).count();
        assert_eq!(out, 10);
        let system: Vec<String> = lines
            .iter()
            .filter(|l| l.stream == Stream::System)
            .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
            .collect();
        assert_eq!(system.len(), 2, "{system:?}");
        assert!(system[0].starts_with("log truncated"), "{}", system[0]);
        assert!(system[0].contains("9 KiB") || system[0].contains("10000 B"));
        assert_eq!(system[1], "exit code 0");
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_closes_after_its_age() {
        let (events_tx, events_rx) = mpsc::channel(16);
        let (batches_tx, mut batches_rx) = mpsc::channel(16);
        let age = Duration::from_secs(1);
        let task = tokio::spawn(run(
            Collector::new(u64::MAX, 64 * 1024),
            events_rx,
            batches_tx,
            age,
        ));
        let sent = Instant::now();
        events_tx.send(output(b"first")).await.ok();
        events_tx.send(output(b"second")).await.ok();
        let batch = batches_rx.recv().await;
        let waited = sent.elapsed();
        assert!(
            waited >= age && waited < age + Duration::from_millis(50),
            "{waited:?}"
        );
        assert_eq!(batch.map(|b| (b.chunk_no, b.lines.len())), Some((0, 2)));
        // The next line starts a new batch with its own age.
        let sent = Instant::now();
        events_tx.send(output(b"third")).await.ok();
        let batch = batches_rx.recv().await;
        assert!(sent.elapsed() >= age);
        assert_eq!(batch.map(|b| (b.chunk_no, b.lines[0].no)), Some((1, 2)));
        drop(events_tx);
        assert_eq!(batches_rx.recv().await, None);
        task.await.ok();
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(format_bytes(100 * 1024 * 1024), "100 MiB");
        assert_eq!(format_bytes(64 * 1024), "64 KiB");
        assert_eq!(format_bytes(1000), "1000 B");
    }
}
