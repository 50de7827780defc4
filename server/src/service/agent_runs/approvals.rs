//! Decisions on tool calls that wait (`decide_tool`: the first decision wins, a later one is a
//! `conflict` naming who decided and when), "approve always" grants (`GRANTS`, one per agent and
//! tool; `approval_granted`, `revoke_approval`), and the `approvals` query's read.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use warren_protocol::run::RunStatus;
use warren_protocol::step::{
    ApprovalGrant, Decision, MAX_REASON_CHARS, RunStep, StepDetail, StepStatus,
};
use warren_protocol::tool::ToolName;
use warren_protocol::{Change, ErrorCode, Event, Id};

use super::tools::{self, Outcome};
use super::{ApplyError, Ctx, steps};
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::runs::{load_run, move_to, save_run};
use crate::service::{pick_id, text};
use crate::store::read::get_json;
use crate::store::tables::GRANTS;
use crate::store::{StoreError, decode, encode};

/// The grant that lets `agent` call `tool` without asking, if any.
pub fn grant_for(
    txn: &WriteTransaction,
    workspace: &Id,
    agent: &Id,
    tool: ToolName,
) -> Result<Option<ApprovalGrant>, ApplyError> {
    Ok(get_json(
        &txn.open_table(GRANTS)?,
        "grants",
        (workspace.as_str(), agent.as_str(), tool.as_str()),
    )?)
}

/// The grants of a workspace (of one agent), by agent and tool.
pub fn list(
    txn: &ReadTransaction,
    workspace: &str,
    agent: Option<&Id>,
) -> Result<Vec<ApprovalGrant>, StoreError> {
    let table = txn.open_table(GRANTS)?;
    let mut out = Vec::new();
    for entry in table.range((workspace, "", "")..)? {
        let (key, value) = entry?;
        let (ws, agent_id, _) = key.value();
        if ws != workspace {
            break;
        }
        if agent.is_some_and(|a| a.as_str() != agent_id) {
            continue;
        }
        out.push(decode("grants", value.value())?);
    }
    Ok(out)
}

/// The grant a decided step created in this very event (for its `approval_granted`).
pub fn new_grant(
    txn: &WriteTransaction,
    event: &Event,
    step: &RunStep,
) -> Result<Option<ApprovalGrant>, ApplyError> {
    let StepDetail::ToolCall(call) = &step.detail else {
        return Ok(None);
    };
    let (Some(approval), Some(tool)) = (&call.approval, call.tool) else {
        return Ok(None);
    };
    if approval.decision != Some(Decision::ApproveAlways) || approval.decided_at != Some(event.at) {
        return Ok(None);
    }
    let run = load_run(txn, &event.workspace_id, &step.run_id)?;
    let Some(agent) = run.agent.as_ref() else {
        return Ok(None);
    };
    let grant = grant_for(txn, &event.workspace_id, &agent.agent_id, tool)?;
    Ok(grant.filter(|g| {
        g.granted_at == event.at
            && g.run_id.as_ref() == Some(&step.run_id)
            && Some(&g.id) == approval.grant_id.as_ref()
            && g.granted_by == event.actor
    }))
}

/// `decide_tool`.
pub fn decide_tool(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    n: u32,
    (decision, reason): (Decision, Option<&str>),
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let mut run = load_run(txn, ctx.workspace, run_id)?;
    let Some(mut step) = steps::load(txn, ctx.workspace, run_id, n)? else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "{} has no step {n}; see its steps with `warren run show {}`",
                run.label(),
                run.label()
            ),
        ));
    };
    let StepDetail::ToolCall(call) = &step.detail else {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "step {n} of {} is a model call; only tool calls wait for decisions",
                run.label()
            ),
        ));
    };
    let Some(approval) = call.approval.clone() else {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("step {n} of {} did not need a decision", run.label()),
        ));
    };
    if let (Some(decided), Some(by), Some(at)) = (
        approval.decision,
        approval.decided_by.as_ref(),
        approval.decided_at,
    ) {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "step {n} of {} was decided already: {} by {} at {} UTC",
                run.label(),
                decided.as_str(),
                super::name_of(txn, ctx.workspace, by)?,
                warren_protocol::time::format_utc_minutes(at)
            ),
        ));
    }
    if step.status != StepStatus::AwaitingApproval || run.status != RunStatus::AwaitingApproval {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is {}; its step {n} no longer waits for a decision",
                run.label(),
                run.status.as_str()
            ),
        ));
    }
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(text::one_line("a reason", r, MAX_REASON_CHARS)?),
        None => None,
    };
    let tool = call.tool;
    let arguments = call.arguments.clone();
    let agent = match run.agent.as_ref() {
        Some(a) => super::agent_of(txn, ctx.workspace, &a.agent_id)?,
        None => None,
    };
    let mut grant_id = None;
    let decider = super::name_of(txn, ctx.workspace, ctx.actor)?;
    let outcome = match (decision, tool, &agent) {
        (Decision::Reject, _, _) => Outcome {
            change: None,
            result: match &reason {
                Some(r) => format!("rejected by {decider}: {r}"),
                None => format!("rejected by {decider}"),
            },
            is_error: true,
            child_run_id: None,
        },
        (_, Some(tool), Some(agent)) => {
            if decision == Decision::ApproveAlways {
                grant_id = Some(grant(txn, ctx, agent.id.clone(), tool, &run.id)?);
            }
            match tool.parse_args(&arguments) {
                Ok(args) => tools::perform(txn, ctx, &run, agent, &args, state, fx)?,
                Err(e) => Outcome {
                    change: None,
                    result: e.to_string(),
                    is_error: true,
                    child_run_id: None,
                },
            }
        }
        _ => Outcome {
            change: None,
            result: "this agent or tool no longer exists".to_owned(),
            is_error: true,
            child_run_id: None,
        },
    };
    tools::finish(&mut step, &outcome);
    step.status = if decision == Decision::Reject {
        StepStatus::Rejected
    } else {
        StepStatus::Done
    };
    step.finished_at = Some(ctx.now);
    if let StepDetail::ToolCall(t) = &mut step.detail
        && let Some(a) = t.approval.as_mut()
    {
        a.decision = Some(decision);
        a.decided_by = Some(ctx.actor.clone());
        a.decided_at = Some(ctx.now);
        a.reason = reason;
        a.grant_id = grant_id;
    }
    steps::store(txn, ctx.workspace, &step)?;
    move_to(&mut run, RunStatus::Queued)?;
    run.queued_at = Some(ctx.now);
    run.decided_by = Some(ctx.actor.clone());
    save_run(txn, ctx.workspace, &run, state)?;
    fx.schedule = true;
    Ok(outcome.change.unwrap_or(Change::RunStep { step }))
}

/// Stores an "approve always" grant (or keeps the one there is) and returns its id.
fn grant(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    agent_id: Id,
    tool: ToolName,
    run_id: &Id,
) -> Result<Id, ApplyError> {
    if let Some(existing) = grant_for(txn, ctx.workspace, &agent_id, tool)? {
        return Ok(existing.id);
    }
    let grant = ApprovalGrant {
        id: pick_id(None, "grant")?,
        agent_id,
        tool,
        granted_by: ctx.actor.clone(),
        granted_at: ctx.now,
        run_id: Some(run_id.clone()),
    };
    txn.open_table(GRANTS)?.insert(
        (ctx.ws(), grant.agent_id.as_str(), tool.as_str()),
        encode("grants", &grant)?.as_slice(),
    )?;
    Ok(grant.id)
}

/// `revoke_approval`.
pub fn revoke(txn: &WriteTransaction, ctx: &Ctx<'_>, grant_id: &Id) -> Result<Change, ApplyError> {
    let mut table = txn.open_table(GRANTS)?;
    let mut found = None;
    for entry in table.range((ctx.ws(), "", "")..)? {
        let (key, value) = entry?;
        let (ws, agent, tool) = key.value();
        if ws != ctx.ws() {
            break;
        }
        let grant: ApprovalGrant = decode("grants", value.value())?;
        if &grant.id == grant_id {
            found = Some((agent.to_owned(), tool.to_owned()));
            break;
        }
    }
    let Some((agent, tool)) = found else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "no grant {grant_id} in this workspace; list them with `warren approvals list`"
            ),
        ));
    };
    table.remove((ctx.ws(), agent.as_str(), tool.as_str()))?;
    Ok(Change::ApprovalRevoked {
        grant_id: grant_id.clone(),
    })
}
