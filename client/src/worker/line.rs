//! A run's log as the worker produces it: lines with their stream, time and raw bytes, and the
//! numbered batches they travel in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
    /// A line of the worker's own ("started", "exit code 3", "cancelled by ada").
    System,
}

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The line's number in the run's log, from 0, gap-free across batches.
    pub no: u64,
    pub stream: Stream,
    /// When the worker read it, in milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// The bytes as the job wrote them (ANSI sequences and invalid UTF-8 kept), without the
    /// trailing `\n`, already redacted.
    pub bytes: Vec<u8>,
    /// True when this line continues the previous line of the same stream, which was cut (the
    /// job's line was longer than the line limit, or paused mid-way): no newline between them.
    pub continued: bool,
}

impl LogLine {
    /// The bytes a line counts for in a batch: its text and a little for its fields.
    pub fn weight(&self) -> usize {
        self.bytes.len() + LINE_OVERHEAD
    }
}

/// What a line's fields (number, stream, time) count for in a batch's size.
pub const LINE_OVERHEAD: usize = 16;

/// Lines to send together. `chunk_no` counts a run's batches from 0 without gaps, so a receiver
/// that gets a batch again after a reconnect recognises it and drops the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub chunk_no: u64,
    pub lines: Vec<LogLine>,
}

impl Batch {
    /// The batch's size as counted against the batch limit.
    pub fn weight(&self) -> usize {
        self.lines.iter().map(LogLine::weight).sum()
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
