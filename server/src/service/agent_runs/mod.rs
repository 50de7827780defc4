//! Agent runs (issue 9, `docs/protocol.md` §19.3–19.4): asking an agent (`ask_agent`, `@name`
//! in a room), the steps the worker holding the run records (`start_model_call`,
//! `finish_model_call`, `call_tool`), the tool calls the server performs as the agent's member,
//! approvals (`decide_tool`, `revoke_approval`, "approve always" grants), the answer posted in
//! the room, and provider tests (`test_provider`).
//!
//! An agent run is a [`Run`] with an `agent` part. Every change of a step is one `run_step`
//! event; the run's own change (a transition, or its totals: steps, usage, cost) follows it as a
//! `run_updated` event ([`follow_up`], fed by [`run_before`]).

mod answer;
mod approvals;
mod ask;
pub mod check;
mod probe;
mod search;
pub mod steps;
mod tools;

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::agent::Agent;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::{Change, Command, ErrorCode, Event, Id, Role};

use super::{ApplyError, Ctx, append_event, next_seq};
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::store::StoreError;
use crate::store::read::get_json;
use crate::store::tables::{AGENTS, GRANTS, MEMBERS, STEPS};

pub use approvals::list as grants;
pub use ask::create_run;

/// How many times an agent run whose worker went silent is queued again (it resumes from its
/// stored steps) before it stays `lost`.
pub const AGENT_RETRIES: u32 = 3;

/// An agent command's run as it was before the command: the follow-up `run_updated` names
/// `from`, and a decision's step follows a tool's own event.
#[derive(Debug, Clone)]
pub struct RunBefore {
    pub run_id: Id,
    pub from: RunStatus,
    /// The step a `decide_tool` decides (its `run_step` follows the tool's event).
    pub step: Option<u32>,
}

/// Applies one agent-run command.
pub fn apply(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    match command {
        Command::AskAgent {
            run_id,
            agent_id,
            prompt,
            room_id,
            card_id,
            tool,
        } => {
            let ask = ask::Ask {
                run_id: run_id.as_ref(),
                agent_id,
                prompt,
                room_id: room_id.as_ref(),
                card_id: card_id.as_ref(),
                tool: tool.as_deref(),
            };
            ask::ask_agent(txn, ctx, &ask, state, fx)
        }
        Command::TestProvider {
            run_id,
            provider_id,
        } => probe::test_provider(txn, ctx, run_id.as_ref(), provider_id, state, fx),
        Command::StartModelCall {
            run_id,
            step,
            provider_id,
            model,
        } => steps::start_model_call(txn, ctx, run_id, *step, (provider_id, model), state, fx),
        Command::FinishModelCall {
            run_id,
            step,
            status,
            call,
        } => steps::finish_model_call(txn, ctx, run_id, *step, *status, call, state),
        Command::CallTool {
            run_id,
            step,
            call_id,
            name,
            arguments,
        } => {
            let call = tools::Call {
                step: *step,
                call_id,
                name,
                arguments,
            };
            tools::call_tool(txn, ctx, run_id, &call, state, fx)
        }
        Command::DecideTool {
            run_id,
            step,
            decision,
            reason,
        } => approvals::decide_tool(
            txn,
            ctx,
            run_id,
            *step,
            (*decision, reason.as_deref()),
            state,
            fx,
        ),
        Command::RevokeApproval { grant_id } => approvals::revoke(txn, ctx, grant_id),
        _ => Err(ApplyError::reject(
            ErrorCode::Internal,
            "not an agent-run command",
        )),
    }
}

/// What a step command's run was before it applies (read by the writer before the command, for
/// [`follow_up`]).
pub fn run_before(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
) -> Result<Option<RunBefore>, ApplyError> {
    let (run_id, step) = match command {
        Command::StartModelCall { run_id, .. } | Command::FinishModelCall { run_id, .. } => {
            (run_id, None)
        }
        Command::CallTool { run_id, step, .. } | Command::DecideTool { run_id, step, .. } => {
            (run_id, Some(*step))
        }
        _ => return Ok(None),
    };
    let run: Option<Run> = get_json(
        &txn.open_table(crate::store::tables::RUNS)?,
        "runs",
        (ctx.ws(), run_id.as_str()),
    )?;
    Ok(run.map(|run| RunBefore {
        run_id: run.id,
        from: run.status,
        step,
    }))
}

/// The events that follow an agent-run event: runs started by `@name` mentions after a
/// `message_posted`, the answer after an agent run succeeded, and after a step command its
/// decided step, a new grant and the run's `run_updated`.
pub fn follow_up(
    txn: &WriteTransaction,
    event: &Event,
    before: Option<&RunBefore>,
    runs: Option<&RunState>,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let mut out = Vec::new();
    match &event.change {
        Change::MessagePosted { message } => {
            if let Some(runs) = runs {
                out.extend(ask::mentions(txn, event, message, runs)?);
            }
        }
        Change::RunUpdated { run, from } => {
            out.extend(answer::post(txn, event, run, *from)?);
        }
        Change::RunStep { step } => {
            out.extend(answer::post_cut(txn, event, step)?);
        }
        _ => {}
    }
    let Some(before) = before else {
        return Ok(out);
    };
    let step = match &event.change {
        Change::RunStep { step } => Some(step.clone()),
        _ => match before.step {
            Some(n) => {
                let step = steps::load(txn, &event.workspace_id, &before.run_id, n)?;
                if let Some(step) = &step {
                    out.push(append(txn, event, Change::RunStep { step: step.clone() })?);
                }
                step
            }
            None => None,
        },
    };
    if let Some(grant) = step
        .as_ref()
        .and_then(|s| approvals::new_grant(txn, event, s).transpose())
    {
        out.push(append(
            txn,
            event,
            Change::ApprovalGranted { grant: grant? },
        )?);
    }
    let run: Option<Run> = get_json(
        &txn.open_table(crate::store::tables::RUNS)?,
        "runs",
        (event.workspace_id.as_str(), before.run_id.as_str()),
    )?;
    if let Some(run) = run {
        out.push(append(
            txn,
            event,
            Change::RunUpdated {
                run,
                from: before.from,
            },
        )?);
    }
    Ok(out)
}

/// Appends `change` after `event`, by the same actor at the same time.
fn append(
    txn: &WriteTransaction,
    event: &Event,
    change: Change,
) -> Result<(Event, String), ApplyError> {
    let workspace = &event.workspace_id;
    let ctx = Ctx {
        workspace,
        actor: &event.actor,
        role: Role::Owner,
        scope: warren_protocol::account::TokenScope::Full,
        now: event.at,
        seq: next_seq(txn, workspace)?,
        from: crate::audit::Source::Unknown,
    };
    Ok(append_event(txn, &ctx, None, change)?)
}

/// The agent of an agent run, if it still exists.
pub fn agent_of(
    txn: &WriteTransaction,
    workspace: &Id,
    agent_id: &Id,
) -> Result<Option<Agent>, ApplyError> {
    Ok(get_json(
        &txn.open_table(AGENTS)?,
        "agents",
        (workspace.as_str(), agent_id.as_str()),
    )?)
}

/// The role of a member (`None`: not a member any more).
fn role_of(txn: &WriteTransaction, workspace: &Id, user: &Id) -> Result<Option<Role>, ApplyError> {
    let member: Option<warren_protocol::Member> = get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (workspace.as_str(), user.as_str()),
    )?;
    Ok(member.map(|m| m.role))
}

/// A member's name for people to read (their id if they are no longer a member).
fn name_of(txn: &WriteTransaction, workspace: &Id, user: &Id) -> Result<String, ApplyError> {
    let member: Option<warren_protocol::Member> = get_json(
        &txn.open_table(MEMBERS)?,
        "members",
        (workspace.as_str(), user.as_str()),
    )?;
    Ok(member.map_or_else(|| user.to_string(), |m| m.name))
}

/// An agent run of the workspace that the actor (a worker) holds.
fn held_run(txn: &WriteTransaction, ctx: &Ctx<'_>, run_id: &Id) -> Result<Run, ApplyError> {
    let run = super::runs::load_run(txn, ctx.workspace, run_id)?;
    if !run.is_agent() {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{} is a job run, not an agent run", run.label()),
        ));
    }
    if run.worker_id.as_ref() != Some(ctx.actor) {
        return Err(ApplyError::reject(
            ErrorCode::Forbidden,
            format!(
                "{} is not assigned to you; stop it and drop it",
                run.label()
            ),
        ));
    }
    Ok(run)
}

/// Clears a deleted workspace's steps and grants.
pub fn delete_workspace(txn: &WriteTransaction, ws: &str) -> Result<(), StoreError> {
    let mut table = txn.open_table(STEPS)?;
    let mut keys = Vec::new();
    for entry in table.range((ws, "", 0)..)? {
        let (key, _) = entry?;
        let (w, run, n) = key.value();
        if w != ws {
            break;
        }
        keys.push((run.to_owned(), n));
    }
    for (run, n) in keys {
        table.remove((ws, run.as_str(), n))?;
    }
    let mut table = txn.open_table(GRANTS)?;
    let mut keys = Vec::new();
    for entry in table.range((ws, "", "")..)? {
        let (key, _) = entry?;
        let (w, agent, tool) = key.value();
        if w != ws {
            break;
        }
        keys.push((agent.to_owned(), tool.to_owned()));
    }
    for (agent, tool) in keys {
        table.remove((ws, agent.as_str(), tool.as_str()))?;
    }
    Ok(())
}
