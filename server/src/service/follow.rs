//! Events that follow an event: after a change is stored, each domain may add events of its own
//! in the same transaction (a run's line in its room, an agent's member after the agent, an
//! agent's answer, budget alerts). One registration line per domain in [`follow_ups`].

use redb::WriteTransaction;
use warren_protocol::{Event, Member};

use super::ApplyError;

/// What a command read before it changed things, for the follow-ups that need it.
#[derive(Debug, Default)]
pub struct Before<'a> {
    /// The member an agent command is about to change ([`super::agents::member_before`]).
    pub agent_member: Option<Member>,
    /// The run an agent step command is about to change ([`super::agent_runs::run_before`]).
    pub agent_run: Option<super::agent_runs::RunBefore>,
    /// The writer's run state, for follow-ups that start runs (`@name` mentions).
    pub runs: Option<&'a crate::runs::RunState>,
}

/// The events that follow `event` (stored already), in order, each appended to the log.
pub fn follow_ups(
    txn: &WriteTransaction,
    event: &Event,
    before: Before<'_>,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let mut out = Vec::new();
    out.extend(super::run_notes::follow_up(
        txn,
        &event.workspace_id,
        event.at,
        &event.change,
    )?);
    out.extend(super::agents::follow_up(txn, event, before.agent_member)?);
    out.extend(super::agent_runs::follow_up(
        txn,
        event,
        before.agent_run.as_ref(),
        before.runs,
    )?);
    out.extend(super::budgets::follow_up(txn, event)?);
    Ok(out)
}
