//! Reading a run's stored log: a page of lines forwards or backwards from a line number, through
//! an optional filter. The whole stored log is scanned, never a sample; one page scans at most
//! [`SCAN_LINES`] lines and returns at most [`PAGE_BYTES`] of text, and says where the next page
//! starts. The `log` query and `log_subscribe` both read through here.

use redb::ReadTransaction;
use warren_protocol::Id;
use warren_protocol::run::{LogLine, MAX_LINES_PER_FRAME, Run};

use super::codec::{self, LineRef};
use super::filter::{LineFilter, passes};
use super::progress::{self, Progress};
use crate::store::StoreError;
use crate::store::read::get_json;
use crate::store::tables::{LOG_CHUNKS, LOG_PROGRESS, RUNS};

/// Most lines one page looks at (a page of a rare match may come back short, with `next`).
pub const SCAN_LINES: u64 = 200_000;
/// Most bytes of line text in one page (frames stay well under the 4 MiB limit).
pub const PAGE_BYTES: usize = 1024 * 1024;

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    /// The first line to look at (forwards) or the last (backwards); 0 means the start
    /// (forwards) or the end (backwards).
    pub from: u64,
    /// Most lines to return (clamped to 1..=`MAX_LINES_PER_FRAME`).
    pub limit: u32,
    pub backward: bool,
    pub filter: Option<&'a LineFilter>,
}

/// A page of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// In line order, also for a backward page.
    pub lines: Vec<LogLine>,
    /// Where the next page starts; `None` when the scan reached the end (or line 1).
    pub next: Option<u64>,
    /// The run's log position when the page was read.
    pub progress: Progress,
}

/// The run `run` of `workspace`, if it exists.
pub fn run(txn: &ReadTransaction, workspace: &Id, run: &Id) -> Result<Option<Run>, StoreError> {
    match txn.open_table(RUNS) {
        Ok(table) => get_json(&table, "runs", (workspace.as_str(), run.as_str())),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The log progress of `run` (zero without any log yet).
pub fn progress_of(
    txn: &ReadTransaction,
    workspace: &Id,
    run: &Id,
) -> Result<Progress, StoreError> {
    match txn.open_table(LOG_PROGRESS) {
        Ok(table) => progress::read(&table, workspace.as_str(), run.as_str()),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(Progress::default()),
        Err(e) => Err(e.into()),
    }
}

/// Reads one page of `run`'s stored log.
pub fn page(
    txn: &ReadTransaction,
    workspace: &Id,
    run: &Id,
    request: PageRequest<'_>,
) -> Result<Page, StoreError> {
    let progress = progress_of(txn, workspace, run)?;
    let last = progress.last_stored();
    let limit = (request.limit as usize).clamp(1, MAX_LINES_PER_FRAME);
    let mut page = Page {
        lines: Vec::new(),
        next: None,
        progress,
    };
    if last == 0 {
        return Ok(page);
    }
    let table = match txn.open_table(LOG_CHUNKS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(page),
        Err(e) => return Err(e.into()),
    };
    let (ws, id) = (workspace.as_str(), run.as_str());
    let mut taker = Taker {
        limit,
        bytes: 0,
        scanned: 0,
        filter: request.filter,
        lines: Vec::new(),
    };
    if request.backward {
        let from = if request.from == 0 || request.from > last {
            last
        } else {
            request.from
        };
        'chunks: for entry in table.range((ws, id, 0)..=(ws, id, from))?.rev() {
            let (key, value) = entry?;
            let lines = decode_chunk(key.value().2, value.value())?;
            for line in lines.into_iter().rev().filter(|l| l.n <= from) {
                if let Some(stop) = taker.take(line) {
                    page.next = (stop > 1).then(|| stop - 1);
                    break 'chunks;
                }
            }
        }
        taker.lines.reverse();
    } else {
        let from = request.from.max(1);
        if from > last {
            return Ok(page);
        }
        // The chunk holding `from` starts at or before it.
        let start = table
            .range((ws, id, 0)..=(ws, id, from))?
            .next_back()
            .transpose()?
            .map_or(from, |(key, _)| key.value().2);
        'chunks: for entry in table.range((ws, id, start)..=(ws, id, u64::MAX))? {
            let (key, value) = entry?;
            let lines = decode_chunk(key.value().2, value.value())?;
            for line in lines.into_iter().filter(|l| l.n >= from) {
                if let Some(stop) = taker.take(line) {
                    page.next = (stop < last).then(|| stop + 1);
                    break 'chunks;
                }
            }
        }
    }
    page.lines = taker.lines;
    Ok(page)
}

/// Collects lines until a budget is spent.
struct Taker<'a> {
    limit: usize,
    bytes: usize,
    scanned: u64,
    filter: Option<&'a LineFilter>,
    lines: Vec<LogLine>,
}

impl Taker<'_> {
    /// Looks at `line`; returns its number when the page is full after it.
    fn take(&mut self, line: LineRef<'_>) -> Option<u64> {
        self.scanned += 1;
        if passes(self.filter, line.text) {
            self.bytes += line.text.len();
            self.lines.push(line.to_line());
        }
        let full = self.lines.len() >= self.limit
            || self.bytes >= PAGE_BYTES
            || self.scanned >= SCAN_LINES;
        full.then_some(line.n)
    }
}

fn decode_chunk(first: u64, bytes: &[u8]) -> Result<Vec<LineRef<'_>>, StoreError> {
    codec::decode(first, bytes).map_err(|e| StoreError::Corrupt {
        table: "log_chunks",
        source: serde::de::Error::custom(e),
    })
}
