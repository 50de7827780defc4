//! Where a run's log stands: the next chunk number expected from the worker that holds the run
//! (chunks are numbered from 0 for each assignment), the lines and bytes stored so far (over all
//! assignments), and whether the log is sealed (the run ended: no more chunks are taken).
//!
//! The runs service calls [`begin_assignment`] when it assigns a run and [`seal`] when the run
//! ends; the log service reads and advances it for every chunk.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::store::read::get_json;
use crate::store::tables::LOG_PROGRESS;
use crate::store::{StoreError, encode};

/// A run's log position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The chunk number the current assignment's worker must send next.
    pub next_chunk: u64,
    /// Lines taken: the last line number the worker sent and the server stored (or, past the
    /// cap, dropped). A finish report's `lines` is complete when this reaches it.
    pub lines: u64,
    /// Bytes of line text stored.
    pub bytes: u64,
    /// The run ended; chunks are refused.
    pub sealed: bool,
    /// The per-run cap was reached and the truncation line stored; later lines are dropped.
    #[serde(default)]
    pub truncated: bool,
    /// Lines taken after the truncation line and dropped (counted in `lines`, not stored).
    #[serde(default)]
    pub dropped: u64,
}

impl Progress {
    /// The number of the last line in the store (`lines` minus what the cap dropped).
    pub fn last_stored(&self) -> u64 {
        self.lines.saturating_sub(self.dropped)
    }
}

/// The progress of `run` (all zero for a run without log yet).
pub fn read(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    workspace: &str,
    run: &str,
) -> Result<Progress, StoreError> {
    Ok(get_json(table, "log progress", (workspace, run))?.unwrap_or_default())
}

/// Stores `progress` for `run`.
pub fn write(
    txn: &WriteTransaction,
    workspace: &str,
    run: &str,
    progress: &Progress,
) -> Result<(), StoreError> {
    let bytes = encode("log progress", progress)?;
    txn.open_table(LOG_PROGRESS)?
        .insert((workspace, run), bytes.as_slice())?;
    Ok(())
}

/// A new assignment of `run` starts: its worker numbers chunks from 0 again (lines go on from
/// [`Progress::lines`] + 1) and the log is open.
pub fn begin_assignment(
    txn: &WriteTransaction,
    workspace: &str,
    run: &str,
) -> Result<Progress, StoreError> {
    let mut progress = read(&txn.open_table(LOG_PROGRESS)?, workspace, run)?;
    progress.next_chunk = 0;
    progress.sealed = false;
    write(txn, workspace, run, &progress)?;
    Ok(progress)
}

/// `run` ended: no more chunks are taken for it.
pub fn seal(txn: &WriteTransaction, workspace: &str, run: &str) -> Result<Progress, StoreError> {
    let mut progress = read(&txn.open_table(LOG_PROGRESS)?, workspace, run)?;
    progress.sealed = true;
    write(txn, workspace, run, &progress)?;
    Ok(progress)
}
