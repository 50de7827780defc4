//! The steps of an agent run in the `STEPS` table, and the worker's model-call commands:
//! `start_model_call` (the next step number, within the agent's limits and the run's budgets)
//! and `finish_model_call` (the whole call, its usage and cost added to the run's totals).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::agent::Provider;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{MAX_STEP_TEXT_BYTES, ModelCall, RunStep, StepDetail, StepStatus};
use warren_protocol::{Change, ErrorCode, Id};

use super::{ApplyError, Ctx, held_run};
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::runs::{move_to, save_run};
use crate::store::encode;
use crate::store::read::get_json;
use crate::store::tables::{PROVIDERS, STEPS};
use crate::store::{StoreError, decode};

/// One stored step.
pub fn load(
    txn: &WriteTransaction,
    workspace: &Id,
    run_id: &Id,
    n: u32,
) -> Result<Option<RunStep>, ApplyError> {
    Ok(get_json(
        &txn.open_table(STEPS)?,
        "steps",
        (workspace.as_str(), run_id.as_str(), n),
    )?)
}

/// Every stored step of a run, in order.
pub fn all(
    table: &impl ReadableTable<(&'static str, &'static str, u32), &'static [u8]>,
    workspace: &str,
    run_id: &str,
) -> Result<Vec<RunStep>, StoreError> {
    let mut out = Vec::new();
    for entry in table.range((workspace, run_id, 0)..=(workspace, run_id, u32::MAX))? {
        let (_, value) = entry?;
        out.push(decode("steps", value.value())?);
    }
    Ok(out)
}

/// Stores (or replaces) a step.
pub fn store(txn: &WriteTransaction, workspace: &Id, step: &RunStep) -> Result<(), ApplyError> {
    txn.open_table(STEPS)?.insert(
        (workspace.as_str(), step.run_id.as_str(), step.n),
        encode("steps", step)?.as_slice(),
    )?;
    Ok(())
}

/// Refuses a step number that is not the run's next one.
pub fn expect_next(run: &Run, step: u32) -> Result<(), ApplyError> {
    let next = run.agent.as_ref().map_or(1, |a| a.steps + 1);
    if step != next {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} has {} steps stored; the next step is {next}, not {step} (resume from the steps of its assignment)",
                run.label(),
                next - 1
            ),
        ));
    }
    Ok(())
}

/// Counts a new step on the run's totals.
pub fn count_step(run: &mut Run, step: u32) {
    if let Some(agent) = run.agent.as_mut() {
        agent.steps = agent.steps.max(step);
    }
}

fn limit(message: String) -> ApplyError {
    ApplyError::reject(ErrorCode::Validation, message)
}

/// `start_model_call` from the worker holding the run.
pub fn start_model_call(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    step: u32,
    (provider_id, model): (&Id, &str),
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let found = super::super::runs::load_run(txn, ctx.workspace, run_id)?;
    if let (RunStatus::Paused, Some(reason)) = (
        found.status,
        found.agent.as_ref().and_then(|a| a.paused_reason.clone()),
    ) {
        // A re-sent start after the pause: the same answer.
        return Err(ApplyError::reject(ErrorCode::BudgetExhausted, reason));
    }
    let mut run = held_run(txn, ctx, run_id)?;
    if run.status != RunStatus::Running {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is {}; a model call starts only while it runs (send report_run_started first)",
                run.label(),
                run.status.as_str()
            ),
        ));
    }
    expect_next(&run, step)?;
    let Some(agent_run) = run.agent.clone() else {
        return Err(ApplyError::reject(ErrorCode::Internal, "not an agent run"));
    };
    let provider: Option<Provider> = get_json(
        &txn.open_table(PROVIDERS)?,
        "providers",
        (ctx.ws(), provider_id.as_str()),
    )?;
    let Some(provider) = provider else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no provider {provider_id} in this workspace"),
        ));
    };
    if agent_run.probe_provider_id.is_none() {
        let agent = super::agent_of(txn, ctx.workspace, &agent_run.agent_id)?.ok_or_else(|| {
            limit(format!(
                "the agent of {} was deleted; end the run as failed",
                run.label()
            ))
        })?;
        if step > agent.max_steps {
            return Err(limit(format!(
                "{} reached its agent's limit of {} steps; end the run as failed with this reason",
                run.label(),
                agent.max_steps
            )));
        }
        let used = agent_run.usage.input_tokens + agent_run.usage.output_tokens;
        if let Some(max) = agent.max_tokens
            && used >= max
        {
            return Err(limit(format!(
                "{} used {used} tokens, its agent's limit is {max}; end the run as failed with this reason",
                run.label()
            )));
        }
        let started = run.started_at.unwrap_or(run.created_at);
        let wall_ms = i64::try_from(agent.max_wall_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        if ctx.now - started > wall_ms {
            return Err(limit(format!(
                "{} ran longer than its agent's limit of {} s; end the run as failed with this reason",
                run.label(),
                agent.max_wall_secs
            )));
        }
    }
    if let Some(reason) = crate::service::budgets::check(txn, ctx.workspace, &run, ctx.now)? {
        pause(txn, ctx, run, &reason, state, fx)?;
        return Err(ApplyError::reject(ErrorCode::BudgetExhausted, reason));
    }
    let stored = RunStep {
        run_id: run.id.clone(),
        n: step,
        status: StepStatus::Running,
        started_at: ctx.now,
        finished_at: None,
        detail: StepDetail::ModelCall(ModelCall {
            provider_id: provider.id.clone(),
            provider: provider.name.clone(),
            model: model.trim().to_owned(),
            usage: Default::default(),
            cost: 0,
            latency_ms: 0,
            first_token_ms: None,
            attempts: Vec::new(),
            text: String::new(),
            partial: false,
            tool_calls: Vec::new(),
            finish_reason: None,
            error: None,
        }),
    };
    store(txn, ctx.workspace, &stored)?;
    count_step(&mut run, step);
    save_run(txn, ctx.workspace, &run, state)?;
    Ok(Change::RunStep { step: stored })
}

/// A budget is exhausted: the run goes `paused` with the reason and leaves its worker. This is
/// applied as an event of its own (the command itself is refused with `budget_exhausted`), so
/// the pause is durable although the command is not.
fn pause(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    mut run: Run,
    reason: &str,
    state: &RunState,
    fx: &mut Effects,
) -> Result<(), ApplyError> {
    let from = move_to(&mut run, RunStatus::Paused)?;
    run.worker_id = None;
    run.started_at = None;
    if let Some(agent) = run.agent.as_mut() {
        agent.paused_reason = Some(reason.to_owned());
    }
    save_run(txn, ctx.workspace, &run, state)?;
    fx.schedule = true;
    crate::runs::assign::emit(
        txn,
        ctx.workspace,
        ctx.actor,
        ctx.now,
        Change::RunUpdated { run, from },
        fx,
    )
}

/// Cuts `text` to at most `max` bytes at a character boundary, marking the cut.
pub fn cut(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    const MARK: &str = " […cut]";
    let mut end = max.saturating_sub(MARK.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}{MARK}", &text[..end]), true)
}

/// `finish_model_call` from the worker holding the run.
pub fn finish_model_call(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    step: u32,
    status: StepStatus,
    call: &ModelCall,
    state: &RunState,
) -> Result<Change, ApplyError> {
    let mut run = held_run(txn, ctx, run_id)?;
    if !matches!(
        status,
        StepStatus::Done | StepStatus::Failed | StepStatus::Cancelled
    ) {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "a model call finishes done, failed or cancelled, not {}",
                status.as_str()
            ),
        ));
    }
    let Some(mut stored) = load(txn, ctx.workspace, &run.id, step)? else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "{} has no step {step}; send start_model_call first",
                run.label()
            ),
        ));
    };
    let StepDetail::ModelCall(_) = &stored.detail else {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("step {step} of {} is a tool call", run.label()),
        ));
    };
    if stored.status.is_final() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "step {step} of {} has finished already ({})",
                run.label(),
                stored.status.as_str()
            ),
        ));
    }
    let mut call = call.clone();
    let (text, was_cut) = cut(&call.text, MAX_STEP_TEXT_BYTES);
    call.text = text;
    call.partial |= was_cut;
    if call.cost == 0 {
        // Cost is tokens at the price of the provider that answered, unless the call says.
        let provider: Option<Provider> = get_json(
            &txn.open_table(PROVIDERS)?,
            "providers",
            (ctx.ws(), call.provider_id.as_str()),
        )?;
        if let Some(provider) = provider {
            call.cost = call.cost.max(provider.price.cost(call.usage));
        }
    }
    stored.status = status;
    stored.finished_at = Some(ctx.now);
    stored.detail = StepDetail::ModelCall(call.clone());
    store(txn, ctx.workspace, &stored)?;
    if let Some(agent) = run.agent.as_mut() {
        agent.usage.input_tokens += call.usage.input_tokens;
        agent.usage.output_tokens += call.usage.output_tokens;
        agent.usage.counted |= call.usage.counted;
        agent.cost += call.cost;
    }
    save_run(txn, ctx.workspace, &run, state)?;
    Ok(Change::RunStep { step: stored })
}
