//! Spending: what a finished model call cost, added (as the follow-up of its `run_step`) to the
//! usage row of its day, agent, provider and room and to every budget that covers its run, with
//! one `budget_set` per budget so clients see `spent` move, and an alert in the run's room the
//! first time in a period spending reaches 50, 75, 90 or 100 % of a budget.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::account::TokenScope;
use warren_protocol::agent::{Agent, format_usd};
use warren_protocol::budget::{BudgetScope, UsageRow};
use warren_protocol::run::Run;
use warren_protocol::step::{ModelCall, RunStep, StepDetail};
use warren_protocol::{Change, Event, Id, Member, Role, Room};

use super::{BudgetRecord, load, name_or_id, per, period, raise_hint, save, scopes_of};
use crate::audit::Source;
use crate::service::{ApplyError, Ctx, append_event, chat, next_seq};
use crate::store::read::get_json;
use crate::store::tables::{AGENTS, MEMBERS, ROOMS, RUNS, USAGE};
use crate::store::{StoreError, decode, encode};

/// Stores `change` as an event of `workspace` by `actor`.
fn emit(
    txn: &WriteTransaction,
    workspace: &Id,
    actor: &Id,
    now: i64,
    change: Change,
) -> Result<(Event, String), ApplyError> {
    let ctx = Ctx {
        workspace,
        actor,
        role: Role::Bot,
        scope: TokenScope::Full,
        now,
        seq: next_seq(txn, workspace)?,
        from: Source::Unknown,
    };
    Ok(append_event(txn, &ctx, None, change)?)
}

/// After a `run_step`: a model call that ended (`done`, `failed`, `cancelled`) of an agent run
/// counts — its usage row grows and every budget over its run spends its cost.
pub fn follow_up(
    txn: &WriteTransaction,
    event: &Event,
    step: &RunStep,
) -> Result<Vec<(Event, String)>, ApplyError> {
    let StepDetail::ModelCall(call) = &step.detail else {
        return Ok(Vec::new());
    };
    if !step.status.is_final() {
        return Ok(Vec::new());
    }
    let workspace = &event.workspace_id;
    let run: Option<Run> = get_json(
        &txn.open_table(RUNS)?,
        "runs",
        (workspace.as_str(), step.run_id.as_str()),
    )?;
    let Some(run) = run else {
        return Ok(Vec::new());
    };
    let Some(agent_run) = &run.agent else {
        return Ok(Vec::new());
    };
    count_usage(txn, workspace, event.at, &agent_run.agent_id, &run, call)?;
    if call.cost == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for scope in scopes_of(&run) {
        let Some(record) = load(txn, workspace, &scope)? else {
            continue;
        };
        let mut record = record.at(event.at);
        record.budget.spent = record.budget.spent.saturating_add(call.cost);
        let reached = record.reach_thresholds();
        save(txn, workspace, &record)?;
        out.push(emit(
            txn,
            workspace,
            &event.actor,
            event.at,
            Change::BudgetSet {
                budget: record.budget.clone(),
            },
        )?);
        if let (Some(percent), Some(room_id)) = (reached, &run.room_id) {
            out.extend(alert(txn, event, &run, room_id, &record, percent)?);
        }
    }
    Ok(out)
}

/// Adds `call` to the usage row of its day, agent, provider and the run's room.
fn count_usage(
    txn: &WriteTransaction,
    workspace: &Id,
    now: i64,
    agent_id: &Id,
    run: &Run,
    call: &ModelCall,
) -> Result<(), ApplyError> {
    let day = period::day(now);
    let room = run.room_id.as_ref().map_or("", Id::as_str);
    let key = (
        workspace.as_str(),
        day.as_str(),
        agent_id.as_str(),
        call.provider_id.as_str(),
        room,
    );
    let mut table = txn.open_table(USAGE)?;
    let found = table.get(key)?.map(|g| g.value().to_vec());
    let mut row: UsageRow = match found {
        Some(bytes) => decode("usage", &bytes)?,
        None => UsageRow {
            day: day.clone(),
            agent_id: agent_id.clone(),
            provider_id: call.provider_id.clone(),
            room_id: run.room_id.clone(),
            usage: Default::default(),
            cost: 0,
            calls: 0,
        },
    };
    row.usage.input_tokens = row
        .usage
        .input_tokens
        .saturating_add(call.usage.input_tokens);
    row.usage.output_tokens = row
        .usage
        .output_tokens
        .saturating_add(call.usage.output_tokens);
    row.usage.counted |= call.usage.counted;
    row.cost = row.cost.saturating_add(call.cost);
    row.calls += 1;
    table.insert(key, encode("usage", &row)?.as_slice())?;
    Ok(())
}

/// What the model calls under `scope` cost from `start` (a period's first midnight) on, from
/// the usage rows.
pub fn spent_since(
    txn: &WriteTransaction,
    workspace: &Id,
    scope: &BudgetScope,
    start: i64,
) -> Result<u64, ApplyError> {
    let first = period::day(start);
    let ws = workspace.as_str();
    let table = txn.open_table(USAGE)?;
    let mut spent = 0u64;
    for entry in table.range((ws, first.as_str(), "", "", "")..)? {
        let (key, value) = entry.map_err(StoreError::from)?;
        let (w, _, agent, _, room) = key.value();
        if w != ws {
            break;
        }
        let covered = match scope {
            BudgetScope::Workspace => true,
            BudgetScope::Agent { agent_id } => agent == agent_id.as_str(),
            BudgetScope::Room { room_id } => room == room_id.as_str(),
        };
        if covered {
            let row: UsageRow = decode("usage", value.value())?;
            spent = spent.saturating_add(row.cost);
        }
    }
    Ok(spent)
}

/// The alert for `record` reaching `percent`, posted in the run's room by the agent's member
/// (or, when the agent is gone, by the member who asked).
fn alert(
    txn: &WriteTransaction,
    event: &Event,
    run: &Run,
    room_id: &Id,
    record: &BudgetRecord,
    percent: u8,
) -> Result<Option<(Event, String)>, ApplyError> {
    let workspace = &event.workspace_id;
    let room: Option<Room> = get_json(
        &txn.open_table(ROOMS)?,
        "rooms",
        (workspace.as_str(), room_id.as_str()),
    )?;
    if room.is_none() {
        return Ok(None);
    }
    let budget = &record.budget;
    let (what, flag) = name_or_id(txn, workspace, &budget.scope)?;
    let amounts = format!(
        "{} of {}",
        format_usd(budget.spent),
        format_usd(budget.limit)
    );
    let body = if percent >= 100 {
        format!(
            "⛔ The {} budget of {what} is exhausted: {amounts} {}. Agent runs under it pause \
             before their next model call until an admin acts: {}.",
            per(budget.period),
            period::this(budget.period),
            raise_hint(&flag, budget)
        )
    } else {
        format!(
            "⚠ {percent}% of the {} budget of {what} is spent: {amounts} {}.",
            per(budget.period),
            period::this(budget.period)
        )
    };
    let author = voice(txn, workspace, run)?;
    let ctx = Ctx {
        workspace,
        actor: &author,
        role: Role::Member,
        scope: TokenScope::Full,
        now: event.at,
        seq: next_seq(txn, workspace)?,
        from: Source::Unknown,
    };
    let change = chat::post_message(txn, &ctx, None, room_id, &body)?;
    Ok(Some(append_event(txn, &ctx, None, change)?))
}

/// Who posts a run's budget alerts: its agent's member while it is one, else who asked.
fn voice(txn: &WriteTransaction, workspace: &Id, run: &Run) -> Result<Id, ApplyError> {
    let Some(agent_run) = &run.agent else {
        return Ok(run.requested_by.clone());
    };
    let agent: Option<Agent> = get_json(
        &txn.open_table(AGENTS)?,
        "agents",
        (workspace.as_str(), agent_run.agent_id.as_str()),
    )?;
    if let Some(agent) = agent {
        let member: Option<Member> = get_json(
            &txn.open_table(MEMBERS)?,
            "members",
            (workspace.as_str(), agent.member_id.as_str()),
        )?;
        if member.is_some() {
            return Ok(agent.member_id);
        }
    }
    Ok(run.requested_by.clone())
}
