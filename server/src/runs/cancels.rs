//! Cancels waiting for their worker's confirmation. Cancelling an assigned or running run ends
//! it at once (`cancelled`) and sends `cancel_run` to its worker, whose `report_run_finished`
//! then seals the log and forgets the secrets. A worker that is connected but never reports
//! (hung, buggy) would keep both forever, so each such cancel has a deadline (`warren-server
//! serve --cancel-deadline`, 30 s): when it passes unconfirmed, the writer ends the run itself
//! ([`end_unconfirmed`]) — the log is sealed (later chunks are refused), the secrets are
//! forgotten, and the run's reason says the server ended it. A late report is still accepted
//! without another transition (`service::runs`).
//!
//! The deadlines live in memory only: after a restart the secrets are gone anyway, and a
//! worker that reconnects is told to stop the run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use redb::WriteTransaction;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::{Change, Id, ServerMessage};

use super::RunState;
use super::effects::Effects;
use crate::logs::progress;
use crate::service::ApplyError;
use crate::service::runs::save_run;
use crate::store::read::get_json;
use crate::store::tables::{LOG_PROGRESS, RUNS};

/// How long a worker has to confirm a cancel, by default: its kill grace (10 s) plus 20 s to
/// deliver the last of the output and the report.
pub const CANCEL_DEADLINE: Duration = Duration::from_secs(30);

/// Cancelled runs whose worker has not reported yet, with the time (ms) the server ends them.
#[derive(Debug)]
pub struct Cancels {
    deadline_ms: i64,
    waiting: Mutex<HashMap<(Id, Id), i64>>,
}

impl Cancels {
    /// Cancels that wait at most `deadline` for their worker.
    pub fn new(deadline: Duration) -> Self {
        Self {
            deadline_ms: i64::try_from(deadline.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// `run` of `workspace` was cancelled at `now` and its worker told: it has until the
    /// deadline to report.
    pub fn started(&self, workspace: &Id, run: &Id, now: i64) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.insert(
                (workspace.clone(), run.clone()),
                now.saturating_add(self.deadline_ms),
            );
        }
    }

    /// The worker reported: nothing more to wait for.
    pub fn confirmed(&self, workspace: &Id, run: &Id) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.remove(&(workspace.clone(), run.clone()));
        }
    }

    /// The cancels whose deadline passed by `now`, taken out of the waiting set.
    fn expired(&self, now: i64) -> Vec<(Id, Id)> {
        let Ok(mut waiting) = self.waiting.lock() else {
            return Vec::new();
        };
        let due: Vec<(Id, Id)> = waiting
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &due {
            waiting.remove(key);
        }
        due
    }

    /// How many cancels wait for their worker.
    pub fn len(&self) -> usize {
        self.waiting.lock().map_or(0, |w| w.len())
    }

    /// Whether no cancel waits for its worker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn seconds(&self) -> String {
        let secs = self.deadline_ms as f64 / 1000.0;
        if secs.fract() == 0.0 {
            format!("{secs:.0} s")
        } else {
            format!("{secs:.1} s")
        }
    }
}

/// Ends every cancelled run whose worker did not report by its deadline: its log is sealed,
/// its secrets forgotten, and one `run_updated` (from `cancelled`, no other transition) records
/// the final line count and that the server ended it. The worker is told `cancel_run` again.
pub fn end_unconfirmed(
    txn: &WriteTransaction,
    now: i64,
    state: &RunState,
    fx: &mut Effects,
) -> Result<(), ApplyError> {
    for (workspace, run_id) in state.cancels.expired(now) {
        let run: Option<Run> = get_json(
            &txn.open_table(RUNS)?,
            "runs",
            (workspace.as_str(), run_id.as_str()),
        )?;
        let Some(mut run) = run else {
            continue;
        };
        let Some(worker) = run.worker_id.clone() else {
            continue;
        };
        if run.status != RunStatus::Cancelled {
            continue;
        }
        let stored = progress::read(
            &txn.open_table(LOG_PROGRESS)?,
            workspace.as_str(),
            run_id.as_str(),
        )?;
        if stored.sealed {
            // Reported after all.
            continue;
        }
        let sealed = progress::seal(txn, workspace.as_str(), run_id.as_str())?;
        run.lines = sealed.lines;
        run.log_bytes = sealed.bytes;
        let cancelled = run.reason.clone().unwrap_or_else(|| "cancelled".to_owned());
        run.reason = Some(format!(
            "{cancelled}; its worker did not confirm the cancel within {}, so the server ended the run (its log ends at line {})",
            state.cancels.seconds(),
            run.lines
        ));
        tracing::warn!(run = %run.id, %worker, "a worker did not confirm a cancel; the server ended the run");
        fx.send(
            &workspace,
            &worker,
            &ServerMessage::CancelRun {
                run_id: run.id.clone(),
                reason: run.reason.clone(),
            },
        );
        fx.forget.push(run.id.clone());
        save_run(txn, &workspace, &run, state)?;
        let change = Change::RunUpdated {
            run,
            from: RunStatus::Cancelled,
        };
        super::assign::emit(txn, &workspace, &worker, now, change, fx)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_expires_once_at_its_deadline_unless_confirmed() {
        let cancels = Cancels::new(Duration::from_millis(1500));
        let ws = Id::from_random("ws", [1; 10]);
        let (a, b) = (
            Id::from_random("run", [2; 10]),
            Id::from_random("run", [3; 10]),
        );
        cancels.started(&ws, &a, 1_000);
        cancels.started(&ws, &b, 1_000);
        cancels.confirmed(&ws, &b);
        assert_eq!(cancels.len(), 1);
        assert!(cancels.expired(2_499).is_empty(), "not yet");
        assert_eq!(cancels.expired(2_500), vec![(ws.clone(), a)]);
        assert!(cancels.expired(10_000).is_empty(), "taken once");
        assert!(cancels.is_empty());
        assert_eq!(cancels.seconds(), "1.5 s");
        assert_eq!(Cancels::new(CANCEL_DEADLINE).seconds(), "30 s");
    }
}
