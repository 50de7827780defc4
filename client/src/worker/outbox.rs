//! One run's log on its way to the server: the executor's batches become numbered `log_chunk`
//! frames, every chunk stays in memory until the server acknowledges it, and at most a window
//! of them is in flight at once. A reconnect, a refused gap or a `worker_welcome` decides which
//! chunks go again; an acknowledged chunk never does.

use std::collections::BTreeMap;

use tokio_tungstenite::tungstenite::Utf8Bytes;
use warren_protocol::Id;
use warren_protocol::log_json::{ChunkWriter, LineRef};
use warren_protocol::run::LogStream;

use super::line::{Batch, LogLine, Stream};

/// One chunk not yet acknowledged, as the frame that carries it (written once; a re-send sends
/// the same bytes).
#[derive(Debug)]
struct Pending {
    frame: Utf8Bytes,
    /// Sent on the current connection and not answered yet.
    in_flight: bool,
    /// Sent at least once, on any connection.
    sent: bool,
}

/// The unacknowledged chunks of one run.
#[derive(Debug)]
pub struct Outbox {
    run_id: Id,
    /// `run.lines` of the assignment: this execution's first line is `base + 1`.
    base: u64,
    /// The number the next batch gets (from 0 for each assignment).
    next_chunk: u64,
    /// The last line number produced so far (`base` before any).
    last_line: u64,
    chunks: BTreeMap<u64, Pending>,
    /// After a refused gap, the chunk the re-send started from, until the server answers it:
    /// further refusals that expect it are answered by that re-send already.
    resending_from: Option<u64>,
}

/// Most bytes of one `log_chunk` frame: a batch whose JSON would pass this (control characters
/// and invalid UTF-8 grow when escaped) travels as several chunks, so no frame comes near the
/// server's frame limit ([`warren_protocol::limits::MAX_FRAME_BYTES`]).
pub const MAX_CHUNK_JSON_BYTES: usize = 160 * 1024;

impl Outbox {
    /// An empty outbox for a run whose log already holds `base` lines.
    pub fn new(run_id: Id, base: u64) -> Self {
        Self {
            run_id,
            base,
            next_chunk: 0,
            last_line: base,
            chunks: BTreeMap::new(),
            resending_from: None,
        }
    }

    /// Takes the executor's next batch as the next chunk (or, if its JSON would be too big, as
    /// the next few), written as its `log_chunk` frame with compact lines.
    pub fn push(&mut self, batch: Batch) {
        // The text, and room for the other fields and a few escapes.
        let capacity = batch.weight() * 9 / 8 + 128;
        let mut writer = self.writer(capacity);
        for line in &batch.lines {
            let text = String::from_utf8_lossy(&line.bytes);
            let wire = self.wire(line, &text);
            if !writer.push(wire) {
                self.add(writer);
                writer = self.writer(capacity);
                // A fresh chunk takes any one line.
                writer.push(wire);
            }
        }
        if writer.lines() > 0 {
            self.add(writer);
        }
    }

    fn writer(&self, capacity: usize) -> ChunkWriter {
        ChunkWriter::new(
            &self.run_id,
            self.next_chunk,
            MAX_CHUNK_JSON_BYTES,
            capacity,
        )
    }

    fn add(&mut self, writer: ChunkWriter) {
        self.last_line = self.last_line.max(writer.last_n());
        self.chunks.insert(
            self.next_chunk,
            Pending {
                frame: writer.finish().into(),
                in_flight: false,
                sent: false,
            },
        );
        self.next_chunk += 1;
    }

    fn wire<'a>(&self, line: &LogLine, text: &'a str) -> LineRef<'a> {
        LineRef {
            n: self.base + line.no + 1,
            ts: i64::try_from(line.ts_ms).unwrap_or(i64::MAX),
            stream: match line.stream {
                Stream::Stdout => LogStream::Out,
                Stream::Stderr => LogStream::Err,
                Stream::System => LogStream::Sys,
            },
            text,
            continued: line.continued,
        }
    }

    /// The `log_chunk` frames to send now so that at most `window` chunks are in flight, lowest
    /// first; they count as in flight from here on.
    pub fn to_send(&mut self, window: usize) -> Vec<Utf8Bytes> {
        let mut room = window.saturating_sub(self.in_flight());
        let mut frames = Vec::new();
        for pending in self.chunks.values_mut() {
            if room == 0 {
                break;
            }
            if pending.in_flight {
                continue;
            }
            pending.in_flight = true;
            pending.sent = true;
            room -= 1;
            frames.push(pending.frame.clone());
        }
        frames
    }

    /// Chunks sent on this connection and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.chunks.values().filter(|p| p.in_flight).count()
    }

    /// Chunks held in memory (sent or not) until acknowledged.
    pub fn held(&self) -> usize {
        self.chunks.len()
    }

    /// The server stored `chunk`; it is dropped. Returns whether it was still held.
    pub fn ack(&mut self, chunk: u64) -> bool {
        if self.resending_from == Some(chunk) {
            self.resending_from = None;
        }
        self.chunks.remove(&chunk).is_some()
    }

    /// The server refused a chunk because it expects `expected` first (a gap): every chunk
    /// below `expected` is stored, and everything from it goes again. Refusals that the re-send
    /// already answers (they expect the chunk it started from, which is in flight again) change
    /// nothing. Returns whether anything changed.
    pub fn refused_gap(&mut self, expected: u64) -> bool {
        if self.resending_from == Some(expected)
            && self.chunks.get(&expected).is_some_and(|p| p.in_flight)
        {
            return false;
        }
        self.chunks.retain(|chunk, _| *chunk >= expected);
        for pending in self.chunks.values_mut() {
            pending.in_flight = false;
        }
        self.resending_from = Some(expected);
        true
    }

    /// The server refused `chunk` for the token's log budget (`rate_limited`): it is no longer
    /// in flight and goes again, in order, once the wait is over. Returns whether it was in
    /// flight (a refusal of a chunk already marked, or acknowledged since, changes nothing).
    pub fn retry_later(&mut self, chunk: u64) -> bool {
        match self.chunks.get_mut(&chunk) {
            Some(pending) if pending.in_flight => {
                pending.in_flight = false;
                true
            }
            _ => false,
        }
    }

    /// The connection dropped: nothing is in flight any more.
    pub fn disconnected(&mut self) {
        self.resending_from = None;
        for pending in self.chunks.values_mut() {
            pending.in_flight = false;
        }
    }

    /// `worker_welcome` says chunks below `acked` are stored: they are dropped, the rest goes
    /// again.
    pub fn resume(&mut self, acked: u64) {
        self.chunks.retain(|chunk, _| *chunk >= acked);
        self.disconnected();
    }

    /// The next chunk number not yet sent on any connection (what `worker_hello` reports as
    /// `next_chunk`: every chunk below was sent at least once).
    pub fn next_unsent(&self) -> u64 {
        self.chunks
            .iter()
            .find(|(_, p)| !p.sent)
            .map_or(self.next_chunk, |(chunk, _)| *chunk)
    }

    /// True when every chunk produced so far is acknowledged.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The number of the last line produced (what `report_run_finished` reports as `lines`).
    pub fn last_line(&self) -> u64 {
        self.last_line
    }
}

#[cfg(test)]
mod tests {
    use warren_protocol::ClientMessage;
    use warren_protocol::run::LogLine as WireLine;

    use super::*;

    fn batch(first: u64, n: u64) -> Batch {
        Batch {
            chunk_no: 0,
            lines: (first..first + n)
                .map(|no| LogLine {
                    no,
                    stream: if no % 2 == 0 {
                        Stream::Stdout
                    } else {
                        Stream::Stderr
                    },
                    ts_ms: 1,
                    bytes: format!("line {no}").into_bytes(),
                    continued: false,
                })
                .collect(),
        }
    }

    fn parse(frame: &Utf8Bytes) -> (u64, Vec<WireLine>) {
        match serde_json::from_str(frame.as_str()) {
            Ok(ClientMessage::LogChunk { chunk, lines, .. }) => (chunk, lines),
            other => panic!("not a log chunk: {other:?}"),
        }
    }

    fn chunks(frames: &[Utf8Bytes]) -> Vec<u64> {
        frames.iter().map(|f| parse(f).0).collect()
    }

    fn outbox(base: u64) -> Outbox {
        let id = Id::parse("run_1").unwrap_or_else(|_| panic!("a valid id"));
        Outbox::new(id, base)
    }

    #[test]
    fn lines_are_numbered_after_the_assignments_base_and_the_window_holds() {
        let mut out = outbox(10);
        for i in 0..5 {
            out.push(batch(i * 2, 2));
        }
        let frames = out.to_send(3);
        assert_eq!(chunks(&frames), vec![0, 1, 2]);
        let (_, lines) = parse(&frames[0]);
        assert_eq!(lines[0].n, 11);
        assert_eq!(lines[1].stream, LogStream::Err);
        assert!(out.to_send(3).is_empty(), "the window is full");
        assert!(out.ack(1));
        assert_eq!(chunks(&out.to_send(3)), vec![3]);
        assert_eq!(out.last_line(), 20);
        assert_eq!(out.next_unsent(), 4);
    }

    #[test]
    fn a_reconnect_resends_only_what_the_server_lacks() {
        let mut out = outbox(0);
        for i in 0..4 {
            out.push(batch(i, 1));
        }
        let _ = out.to_send(2);
        out.disconnected();
        assert_eq!(out.next_unsent(), 2);
        out.resume(1);
        assert_eq!(chunks(&out.to_send(10)), vec![1, 2, 3]);
    }

    #[test]
    fn a_chunk_refused_for_the_budget_goes_again_in_order() {
        let mut out = outbox(0);
        for i in 0..4 {
            out.push(batch(i, 1));
        }
        assert_eq!(chunks(&out.to_send(4)), vec![0, 1, 2, 3]);
        assert!(out.ack(0));
        assert!(out.retry_later(1), "in flight: it goes again");
        assert!(out.retry_later(2));
        assert!(!out.retry_later(2), "a second refusal changes nothing");
        assert!(!out.retry_later(0), "acknowledged already");
        assert_eq!(out.in_flight(), 1, "chunk 3 is still out");
        assert_eq!(chunks(&out.to_send(4)), vec![1, 2], "lowest first");
        assert_eq!(out.held(), 3);
    }

    #[test]
    fn a_refused_gap_resends_from_the_expected_chunk_once() {
        let mut out = outbox(0);
        for i in 0..4 {
            out.push(batch(i, 1));
        }
        let _ = out.to_send(10);
        assert!(out.ack(0));
        assert!(out.refused_gap(1), "chunk 1 went missing");
        assert_eq!(chunks(&out.to_send(10)), vec![1, 2, 3]);
        assert!(!out.refused_gap(1), "a stale refusal changes nothing");
        assert!(out.ack(1));
        assert!(out.refused_gap(3), "the server has 2 after all");
        assert_eq!(out.held(), 1);
    }

    #[test]
    fn a_batch_that_would_make_a_too_big_frame_is_split() {
        let mut out = outbox(0);
        let lines = (0..40)
            .map(|no| LogLine {
                no,
                stream: Stream::Stdout,
                ts_ms: 1,
                bytes: vec![0x1b; 1600],
                continued: false,
            })
            .collect();
        out.push(Batch { chunk_no: 0, lines });
        let frames = out.to_send(10);
        assert!(frames.len() > 1, "split into {}", frames.len());
        let mut next = 1;
        for frame in &frames {
            assert!(
                frame.len() < warren_protocol::limits::MAX_FRAME_BYTES,
                "{}",
                frame.len()
            );
            for line in parse(frame).1 {
                assert_eq!((line.n, line.text.len()), (next, 1600));
                next += 1;
            }
        }
        assert_eq!(next, 41, "every line, once, in order");
        assert_eq!(out.last_line(), 40);
    }
}
