//! Budgets: spending limits per workspace, agent or room, checked before every model call.
//!
//! Stub of the interface the agent runs use (the budgets service fills it in): [`check`] is
//! called by `start_model_call` before a model call starts.

use redb::WriteTransaction;
use warren_protocol::Id;
use warren_protocol::run::Run;

use super::ApplyError;

/// Checks every budget that covers `run` (the workspace's, its agent's, its room's) at `now`.
/// `Ok(None)` when the call may start; `Ok(Some(reason))` when a budget is exhausted, with the
/// reason the run is paused for ("budget exhausted: agent reviewer, $5.00 a month").
pub fn check(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
    now: i64,
) -> Result<Option<String>, ApplyError> {
    let _ = (txn, workspace, run, now);
    Ok(None)
}
