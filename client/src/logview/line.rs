//! The lines a log is made of and where they come from: [`LogLine`] and the [`LineSource`]
//! trait the viewer reads through, so that only a window of a log is ever held. [`MemorySource`]
//! is the in-memory source (tests, `warren demo`); the integration implements the trait over the
//! server's stored chunks and live tail.

use std::ops::Range;

use super::matcher::{Filter, Query};

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The job's standard output.
    Stdout,
    /// The job's standard error.
    Stderr,
    /// Lines warren itself adds (started, exit code, truncation).
    System,
}

/// One line of a run's log, as stored: its bytes still carry the job's ANSI sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The line's number in the whole log, from 1 (it survives filtering).
    pub number: u64,
    /// Where it came from.
    pub stream: Stream,
    /// When the worker read it, in milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The raw bytes, without the line break.
    pub bytes: Vec<u8>,
    /// It continues the previous line of its stream, which was cut (too long, or it paused
    /// mid-way); the gutter marks it.
    pub continued: bool,
}

/// Which way a search goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards the end of the log.
    Forward,
    /// Towards the start.
    Backward,
}

/// Where the viewer reads lines from. Positions are indices into the source as it is *now*
/// (after its filter), from 0; [`LogLine::number`] keeps the line's place in the whole log.
///
/// The filter belongs to the source because it must be applied to the whole stored log and then
/// to the live tail (on the server, for a remote run), never to a sample of it.
pub trait LineSource {
    /// How many lines the source holds now (after its filter).
    fn len(&self) -> u64;

    /// Whether it holds none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lines at `range` (clamped to what exists). A source that has not loaded them yet
    /// returns fewer; the viewer draws what it gets.
    fn fetch(&self, range: Range<u64>) -> Vec<LogLine>;

    /// Applies `filter` (or none) to the whole log and to every line that arrives after.
    fn set_filter(&mut self, filter: Option<Filter>);

    /// Whether the last [`LineSource::find`] that found nothing is still searching lines the
    /// source does not hold (a remote source asks the server and answers later).
    fn searching(&self) -> bool {
        false
    }

    /// Work still under way that the status line should mention ("filtering: line 40,000 of
    /// 1,000,000"), if any.
    fn progress(&self) -> Option<String> {
        None
    }

    /// Like [`LineSource::find`], but only through lines the source can read at once, looking
    /// at no more than `budget` of them and never asking for more: what an incremental search
    /// does on every keystroke. The default scans through [`LineSource::fetch`]; a remote source
    /// looks only through the lines it holds.
    fn find_near(
        &self,
        from: u64,
        direction: Direction,
        query: &Query,
        budget: u64,
    ) -> Option<u64> {
        let len = self.len();
        let (start, end) = match direction {
            Direction::Forward => {
                let start = from.checked_add(1)?;
                (start, start.saturating_add(budget).min(len))
            }
            Direction::Backward => {
                let end = from.min(len);
                (end.saturating_sub(budget), end)
            }
        };
        scan(self, start..end, direction, query)
    }

    /// How many lines match `query` among those the source can read at once, looking at no
    /// more than `budget` lines around position `at`, and how many of them come before `at`.
    fn count_near(&self, query: &Query, at: u64, budget: u64) -> MatchCount {
        let len = self.len();
        let start = at
            .saturating_sub(budget / 2)
            .min(len.saturating_sub(budget));
        let end = start.saturating_add(budget).min(len);
        let mut count = MatchCount {
            before: 0,
            total: 0,
            whole: start == 0 && end == len,
        };
        let mut pos = start;
        while pos < end {
            let block_end = pos.saturating_add(BLOCK).min(end);
            for (i, line) in self.fetch(pos..block_end).iter().enumerate() {
                if query.matches(line) {
                    count.total += 1;
                    if pos + (i as u64) < at {
                        count.before += 1;
                    }
                }
            }
            pos = block_end;
        }
        count
    }

    /// The first position after (`Forward`) or before (`Backward`) `from` whose line matches
    /// `query`. The default scans through [`LineSource::fetch`] in blocks; a remote source asks
    /// the server, which runs the same [`Query::matches`].
    fn find(&self, from: u64, direction: Direction, query: &Query) -> Option<u64> {
        let len = self.len();
        match direction {
            Direction::Forward => scan(self, from.checked_add(1)?..len, direction, query),
            Direction::Backward => scan(self, 0..from.min(len), direction, query),
        }
    }
}

/// Lines fetched at once by a scan.
const BLOCK: u64 = 4096;

/// The first position in `range` (from its start going forward, from its end going backward)
/// whose line matches `query`, reading a block of lines at a time.
fn scan<S: LineSource + ?Sized>(
    source: &S,
    range: Range<u64>,
    direction: Direction,
    query: &Query,
) -> Option<u64> {
    match direction {
        Direction::Forward => {
            let mut start = range.start;
            while start < range.end {
                let end = start.saturating_add(BLOCK).min(range.end);
                let lines = source.fetch(start..end);
                if let Some(i) = lines.iter().position(|l| query.matches(l)) {
                    return Some(start + i as u64);
                }
                start = end;
            }
            None
        }
        Direction::Backward => {
            let mut end = range.end;
            while end > range.start {
                let start = end.saturating_sub(BLOCK).max(range.start);
                let lines = source.fetch(start..end);
                if let Some(i) = lines.iter().rposition(|l| query.matches(l)) {
                    return Some(start + i as u64);
                }
                end = start;
            }
            None
        }
    }
}

/// How many lines an incremental search found matching, among those it looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatchCount {
    /// Matching lines before the position counted from (the top line).
    pub before: u64,
    /// Matching lines looked at.
    pub total: u64,
    /// Whether every line of the source was looked at (else there may be more).
    pub whole: bool,
}

/// A log held in memory, with its filter applied as an index of matching positions.
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    lines: Vec<LogLine>,
    filter: Option<Filter>,
    /// With a filter: the positions in `lines` that pass it, in order.
    index: Vec<usize>,
}

impl MemorySource {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a line (the live tail); it is numbered after the last one.
    pub fn push(&mut self, stream: Stream, ts_ms: i64, bytes: impl Into<Vec<u8>>) {
        self.push_piece(stream, ts_ms, bytes, false);
    }

    /// Appends a line that may continue the previous one (`continued`).
    pub fn push_piece(
        &mut self,
        stream: Stream,
        ts_ms: i64,
        bytes: impl Into<Vec<u8>>,
        continued: bool,
    ) {
        let line = LogLine {
            number: self.lines.len() as u64 + 1,
            stream,
            ts_ms,
            bytes: bytes.into(),
            continued,
        };
        if self.filter.as_ref().is_some_and(|f| f.matches(&line)) {
            self.index.push(self.lines.len());
        }
        self.lines.push(line);
    }

    /// How many lines the whole log holds, whatever the filter.
    pub fn total(&self) -> u64 {
        self.lines.len() as u64
    }
}

impl LineSource for MemorySource {
    fn len(&self) -> u64 {
        match self.filter {
            Some(_) => self.index.len() as u64,
            None => self.lines.len() as u64,
        }
    }

    fn fetch(&self, range: Range<u64>) -> Vec<LogLine> {
        let len = self.len();
        let start = range.start.min(len) as usize;
        let end = range.end.min(len) as usize;
        if start >= end {
            return Vec::new();
        }
        match self.filter {
            Some(_) => self.index[start..end]
                .iter()
                .filter_map(|&i| self.lines.get(i).cloned())
                .collect(),
            None => self.lines[start..end].to_vec(),
        }
    }

    fn set_filter(&mut self, filter: Option<Filter>) {
        self.index = match &filter {
            Some(f) => self
                .lines
                .iter()
                .enumerate()
                .filter(|(_, l)| f.matches(l))
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        self.filter = filter;
    }
}
