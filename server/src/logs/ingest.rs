//! Ingest of `log_chunk` frames. The connection checks a chunk's shape and redacts it
//! ([`prepare`]); the writer applies it inside the group commit ([`apply`]), so many chunks
//! share one fsync and a chunk is acknowledged only once it is durable. Rules, in order: the
//! run must exist and be held by the sending worker; a chunk below the expected number is a
//! re-send (acknowledged again, stored once); a sealed log takes nothing; a chunk above the
//! expected number is a gap (refused with `expected`); lines must continue the run's numbering.
//! Past the per-run cap one `sys` line says the log was truncated and later lines are dropped
//! (still acknowledged, so the worker carries on).

use tokio::sync::oneshot;
use warren_protocol::run::{LogLine, LogStream, MAX_LINE_BYTES, MAX_LINES_PER_FRAME, Run};
use warren_protocol::{ErrorCode, Id};

use super::codec::{self, LineRef};
use super::lines::Lines;
use super::progress;
use crate::service::ApplyError;
use crate::store::read::get_json;
use crate::store::tables::{LOG_CHUNKS, LOG_PROGRESS, RUNS};

/// The per-run cap on stored log text by default: 100 MiB.
pub const DEFAULT_CAP_BYTES: u64 = 100 * 1024 * 1024;

/// A chunk on its way to the writer.
pub struct Chunk {
    pub run_id: Id,
    pub chunk: u64,
    /// Already checked and redacted by [`prepare`].
    pub lines: Lines,
    /// The lines' stored form ([`codec::encode`]), made by [`prepare`] on the connection's task
    /// so the writer, which every chunk passes in turn, only copies it into the store.
    pub encoded: Vec<u8>,
    /// The per-run cap on stored text, in bytes.
    pub cap_bytes: u64,
    /// Where the writer answers once the chunk is durable (dropped if the commit failed: the
    /// write request's own answer then says why).
    pub reply: oneshot::Sender<ChunkAnswer>,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Chunk({} #{}, {} lines)",
            self.run_id,
            self.chunk,
            self.lines.len()
        )
    }
}

/// The writer's answer to a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkAnswer {
    /// Durable (or was already).
    Acked,
    /// Not stored.
    Refused {
        code: ErrorCode,
        message: String,
        expected: Option<u64>,
    },
}

/// What [`apply`] did: the answer, and which lines went into the store (the first `kept` lines
/// of the chunk, then the truncation line if the cap was reached here).
#[derive(Debug)]
pub struct Ingested {
    pub answer: ChunkAnswer,
    pub kept: usize,
    pub truncation: Option<LogLine>,
}

impl Ingested {
    fn refused(code: ErrorCode, message: String, expected: Option<u64>) -> Ingested {
        Ingested {
            answer: ChunkAnswer::Refused {
                code,
                message,
                expected,
            },
            kept: 0,
            truncation: None,
        }
    }

    /// The lines stored, taken from the chunk's own lines.
    pub fn stored(&self, mut lines: Lines) -> Lines {
        lines.truncate(self.kept);
        if let Some(line) = &self.truncation {
            lines.push(LineRef::of(line));
        }
        lines
    }
}

/// Checks a chunk's shape (line count and length), redacts its lines with the run's `secrets`
/// and returns their stored form. The error is a `validation` message for the worker.
pub fn prepare(lines: &mut Lines, secrets: &[String]) -> Result<Vec<u8>, String> {
    if lines.len() > MAX_LINES_PER_FRAME {
        return Err(format!(
            "a log_chunk holds at most {MAX_LINES_PER_FRAME} lines, this one {}; send smaller chunks",
            lines.len()
        ));
    }
    let first = lines.first().map_or(0, |l| l.n);
    for (i, line) in lines.iter().enumerate() {
        if line.text.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line {} is {} bytes; split lines longer than {MAX_LINE_BYTES} bytes",
                line.n,
                line.text.len()
            ));
        }
        // Within the chunk here, off the writer; where the chunk starts is checked there.
        let want = first.saturating_add(i as u64);
        if line.n != want {
            return Err(format!(
                "line numbers in a log_chunk continue without gaps; line {} of this chunk is numbered {}, not {want}",
                i + 1,
                line.n
            ));
        }
    }
    super::redact::redact(lines, secrets);
    Ok(codec::encode(lines.iter()))
}

/// Applies `chunk` from `worker` to `workspace`'s run in the writer's transaction.
pub fn apply(
    txn: &redb::WriteTransaction,
    workspace: &Id,
    worker: &Id,
    chunk: &Chunk,
) -> Result<Ingested, ApplyError> {
    let (ws, id) = (workspace.as_str(), chunk.run_id.as_str());
    let run: Option<Run> = get_json(&txn.open_table(RUNS)?, "runs", (ws, id))?;
    let Some(run) = run else {
        return Ok(Ingested::refused(
            ErrorCode::NotFound,
            format!("no run {id} in this workspace; stop it and drop its log"),
            None,
        ));
    };
    if run.worker_id.as_ref() != Some(worker) {
        return Ok(Ingested::refused(
            ErrorCode::Forbidden,
            format!(
                "run {} is not assigned to you; stop it and drop its log",
                run.label()
            ),
            None,
        ));
    }
    let mut progress = progress::read(&txn.open_table(LOG_PROGRESS)?, ws, id)?;
    if chunk.chunk < progress.next_chunk {
        // A re-send after a reconnect: stored already.
        return Ok(Ingested {
            answer: ChunkAnswer::Acked,
            kept: 0,
            truncation: None,
        });
    }
    if progress.sealed {
        return Ok(Ingested::refused(
            ErrorCode::Conflict,
            format!(
                "run {} has ended ({}); its log takes no more lines",
                run.label(),
                run.status.as_str()
            ),
            None,
        ));
    }
    if chunk.chunk > progress.next_chunk {
        return Ok(Ingested::refused(
            ErrorCode::Conflict,
            format!(
                "chunk {} of run {} skips ahead; re-send from chunk {}",
                chunk.chunk,
                run.label(),
                progress.next_chunk
            ),
            Some(progress.next_chunk),
        ));
    }
    // `prepare` saw that the chunk's lines continue each other; here, that it continues the log.
    if let Some(first) = chunk.lines.first()
        && first.n != progress.lines + 1
    {
        return Ok(Ingested::refused(
            ErrorCode::Validation,
            format!(
                "line numbers of run {} continue from {} without gaps; line 1 of chunk {} is numbered {}",
                run.label(),
                progress.lines + 1,
                chunk.chunk,
                first.n
            ),
            None,
        ));
    }
    let mut kept = 0;
    let mut truncation = None;
    let text_bytes = chunk.lines.text_bytes() as u64;
    if !progress.truncated && progress.bytes + text_bytes <= chunk.cap_bytes {
        // Under the cap, as nearly always: every line is kept.
        progress.bytes += text_bytes;
        kept = chunk.lines.len();
    }
    for line in chunk.lines.iter().skip(kept) {
        if progress.truncated {
            progress.dropped += 1;
            continue;
        }
        let len = line.text.len() as u64;
        if progress.bytes + len > chunk.cap_bytes {
            let text = format!(
                "log truncated at {}: the rest of the output was dropped",
                size(chunk.cap_bytes)
            );
            progress.bytes += text.len() as u64;
            progress.truncated = true;
            truncation = Some(LogLine {
                n: line.n,
                ts: line.ts,
                stream: LogStream::Sys,
                text,
                continued: false,
            });
            continue;
        }
        progress.bytes += len;
        kept += 1;
    }
    if let Some(first) = chunk.lines.first()
        && (kept > 0 || truncation.is_some())
    {
        // Usually every line is kept and the stored form is ready; past the cap it is made
        // again from the lines kept and the truncation line.
        let whole = kept == chunk.lines.len() && truncation.is_none();
        let remade;
        let bytes = if whole {
            chunk.encoded.as_slice()
        } else {
            remade = codec::encode(
                chunk
                    .lines
                    .iter()
                    .take(kept)
                    .chain(truncation.as_ref().map(LineRef::of)),
            );
            remade.as_slice()
        };
        txn.open_table(LOG_CHUNKS)?
            .insert((ws, id, first.n), bytes)?;
    }
    progress.lines += chunk.lines.len() as u64;
    progress.next_chunk += 1;
    progress::write(txn, ws, id, &progress)?;
    Ok(Ingested {
        answer: ChunkAnswer::Acked,
        kept,
        truncation,
    })
}

/// `100 MiB`, `4 KiB`, or `1000 bytes`.
fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(numbers: &[u64]) -> Lines {
        Lines::from(
            numbers
                .iter()
                .map(|&n| LogLine {
                    n,
                    ts: 0,
                    stream: LogStream::Out,
                    text: format!("line {n}"),
                    continued: false,
                })
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_chunk_whose_lines_skip_a_number_is_refused_before_the_writer() {
        assert!(prepare(&mut lines(&[3, 4, 5]), &[]).is_ok());
        assert!(prepare(&mut lines(&[]), &[]).is_ok());
        let gap = prepare(&mut lines(&[3, 4, 6]), &[]).err();
        assert_eq!(
            gap.as_deref(),
            Some(
                "line numbers in a log_chunk continue without gaps; line 3 of this chunk is numbered 6, not 5"
            )
        );
        let back = prepare(&mut lines(&[3, 3]), &[]).err().unwrap_or_default();
        assert!(
            back.contains("line 2 of this chunk is numbered 3, not 4"),
            "{back}"
        );
    }
}
