//! Paused runs going on: after a budget is set (raised) or cleared, every `paused` agent run of
//! the workspace whose budgets all pass now goes back to `queued` (its `paused_reason` cleared),
//! one `run_updated` each, so the scheduler hands it to a worker again. The command's dispatch
//! asks the scheduler to look at the queue after the batch. When a budget's period ends (the
//! next UTC day, Monday or 1st), the scheduler's tick does the same for the runs it paused
//! ([`resume_if_allowed`]), so a run paused by a spent daily budget goes on after midnight.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::account::TokenScope;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::{Change, Event, Id, Role};

use super::check;
use crate::audit::Source;
use crate::service::runs::move_to;
use crate::service::{ApplyError, Ctx, append_event, next_seq};
use crate::store::tables::RUNS;
use crate::store::{decode, encode};

/// The paused agent runs of the workspace. A workspace keeps every run it ever had, so only
/// records whose JSON says `"status":"paused"` are decoded (serde writes the field exactly so;
/// a false match is decoded and dropped). Still a read of every run: about 0.2 s for 10,000
/// runs in a debug build, on a rare admin command.
fn paused_runs(txn: &WriteTransaction, workspace: &str) -> Result<Vec<Run>, ApplyError> {
    const PAUSED: &[u8] = b"\"status\":\"paused\"";
    let table = txn.open_table(RUNS)?;
    let mut out = Vec::new();
    for entry in table.range((workspace, "")..)? {
        let (key, value) = entry?;
        if key.value().0 != workspace {
            break;
        }
        let bytes = value.value();
        if !bytes.windows(PAUSED.len()).any(|w| w == PAUSED) {
            continue;
        }
        let run: Run = decode("runs", bytes)?;
        if run.status == RunStatus::Paused && run.agent.is_some() {
            out.push(run);
        }
    }
    Ok(out)
}

/// After `budget_set` or `budget_cleared`: queues again the paused runs no budget holds back.
/// Reads the workspace's runs (a budget command is rare; the spending follow-up never calls
/// this).
pub fn follow_up(
    txn: &WriteTransaction,
    event: &Event,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let workspace = &event.workspace_id;
    let paused = paused_runs(txn, workspace.as_str())?;
    let mut out = Vec::new();
    for run in paused {
        if check(txn, workspace, &run, event.at)?.is_some() {
            continue;
        }
        let (run, from) = requeue(txn, workspace, run, event.at)?;
        let ctx = Ctx {
            workspace,
            actor: &event.actor,
            role: Role::Member,
            scope: TokenScope::Full,
            now: event.at,
            seq: next_seq(txn, workspace)?,
            from: Source::Unknown,
        };
        out.push(append_event(
            txn,
            &ctx,
            None,
            Change::RunUpdated { run, from },
        )?);
    }
    Ok(out)
}

/// Back to `queued` at `now`: the pause's reason cleared, no worker, no backoff; stored. Returns
/// the run and the status it left.
fn requeue(
    txn: &WriteTransaction,
    workspace: &Id,
    mut run: Run,
    now: i64,
) -> Result<(Run, RunStatus), ApplyError> {
    let from = move_to(&mut run, RunStatus::Queued)?;
    let paused_for = run.agent.as_mut().and_then(|a| a.paused_reason.take());
    if paused_for.is_some() && run.reason == paused_for {
        run.reason = None;
    }
    run.queued_at = Some(now);
    run.not_before = None;
    run.worker_id = None;
    // Paused and queued are both unfinished: the scheduler's set of active runs holds it
    // already, so storing the record is enough.
    txn.open_table(RUNS)?.insert(
        (workspace.as_str(), run.id.as_str()),
        encode("runs", &run)?.as_slice(),
    )?;
    Ok((run, from))
}

/// For the scheduler, at each tick: a paused agent run whose budgets all pass at `now` (the
/// period of the one that paused it has ended, so it counts from $0 again) goes back to
/// `queued`. Returns the change to record (`run_updated`), or `None` while a budget still holds
/// it (or it is not a paused agent run). Cheap: three point reads of `BUDGETS` per paused run.
pub fn resume_if_allowed(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
    now: i64,
) -> Result<Option<Change>, ApplyError> {
    if run.status != RunStatus::Paused
        || run.agent.is_none()
        || check(txn, workspace, run, now)?.is_some()
    {
        return Ok(None);
    }
    let (run, from) = requeue(txn, workspace, run.clone(), now)?;
    Ok(Some(Change::RunUpdated { run, from }))
}
