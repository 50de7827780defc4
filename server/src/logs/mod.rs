//! Run logs on the server. A worker's `log_chunk` is parsed into one buffer of [`lines`], checked
//! and redacted by its connection,
//! then stored through the writer's group commit ([`ingest`]) as one `LOG_CHUNKS` row
//! ([`codec`]) and acknowledged once durable; [`progress`] says where each run's log stands.
//! Stored lines are read a page at a time ([`read`], through a [`filter`]), and new lines reach
//! the run's followers through the live [`feed`] (one shared `log_lines` frame per commit,
//! written by [`warren_protocol::log_json`]). None of it goes through the workspace event stream.

pub mod check;
pub mod codec;
pub mod feed;
pub mod filter;
pub mod ingest;
pub mod lines;
pub mod progress;
pub mod read;
pub mod redact;

use redb::{ReadableTable, WriteTransaction};

use crate::store::StoreError;
use crate::store::tables::{LOG_CHUNKS, LOG_PROGRESS};

/// Removes every log (chunks and progress) of workspace `ws` (`delete_workspace`).
pub fn delete_workspace(txn: &WriteTransaction, ws: &str) -> Result<(), StoreError> {
    let mut chunks = txn.open_table(LOG_CHUNKS)?;
    let mut keys = Vec::new();
    for entry in chunks.range((ws, "", 0)..)? {
        let (key, _) = entry?;
        let (w, run, first) = key.value();
        if w != ws {
            break;
        }
        keys.push((run.to_owned(), first));
    }
    for (run, first) in keys {
        chunks.remove((ws, run.as_str(), first))?;
    }
    let mut progress = txn.open_table(LOG_PROGRESS)?;
    let mut runs = Vec::new();
    for entry in progress.range((ws, "")..)? {
        let (key, _) = entry?;
        let (w, run) = key.value();
        if w != ws {
            break;
        }
        runs.push(run.to_owned());
    }
    for run in runs {
        progress.remove((ws, run.as_str()))?;
    }
    Ok(())
}
