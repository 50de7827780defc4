//! Budgets: spending limits per workspace, agent or room over a UTC day, week or month.
//!
//! `set_budget`/`clear_budget` (permission `budget:manage`, audited as `budget.set` and
//! `budget.clear`) store a [`BudgetRecord`] per scope in `BUDGETS`. [`check`] is called by
//! `start_model_call` before every model call: a run covered by an exhausted budget (its
//! workspace's, its agent's or its room's) is paused with the reason it returns. What a finished
//! model call cost is added by the follow-up of its `run_step` ([`spend`]: usage rows, `spent`,
//! alerts in the run's room at 50/75/90/100 %), and raising or clearing a budget queues the runs
//! it paused again ([`requeue`]). Periods roll over lazily: a budget whose period ended counts
//! from 0, in [`check`] and the `budgets` query at once, and in the store at its next spending;
//! the scheduler's tick asks [`resume_if_allowed`] about each paused run, so runs a budget paused
//! go on by themselves once its period ends.

mod period;
pub mod reads;
mod requeue;
mod spend;

pub use requeue::resume_if_allowed;

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use warren_protocol::agent::{Agent, MicroUsd, format_usd};
use warren_protocol::audit::AuditTarget;
use warren_protocol::budget::{ALERT_PERCENTS, Budget, BudgetPeriod, BudgetScope};
use warren_protocol::run::Run;
use warren_protocol::{Change, ErrorCode, Event, Id, Room};

use super::{ApplyError, Ctx};
use crate::audit::details;
use crate::store::encode;
use crate::store::read::get_json;
use crate::store::tables::{AGENTS, BUDGETS, ROOMS};

/// Largest limit accepted: one billion dollars, in micro-dollars (sums stay far from overflow).
pub const MAX_LIMIT: MicroUsd = 1_000_000_000 * 1_000_000;

/// A budget as stored: the wire record and the alerts already posted in its current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetRecord {
    pub budget: Budget,
    /// The thresholds of [`ALERT_PERCENTS`] reached in the current period (an alert is posted
    /// when spending first reaches one; reaching it again in the period posts nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerted: Vec<u8>,
}

impl BudgetRecord {
    /// The record as it stands at `now`: once its period has ended, a new one starts with
    /// nothing spent and no alerts posted.
    pub fn at(mut self, now: i64) -> Self {
        let start = period::start(self.budget.period, now);
        if start > self.budget.period_start {
            self.budget.period_start = start;
            self.budget.spent = 0;
            self.alerted.clear();
        }
        self
    }

    /// Marks every threshold spending has reached as alerted; returns the highest one that was
    /// not alerted before (the alert to post), if any.
    fn reach_thresholds(&mut self) -> Option<u8> {
        let percent = self.budget.percent();
        let mut newest = None;
        for t in ALERT_PERCENTS {
            if percent >= u64::from(t) && !self.alerted.contains(&t) {
                self.alerted.push(t);
                newest = Some(t);
            }
        }
        newest
    }
}

/// The key of a scope in `BUDGETS`: `workspace`, `agent:<id>` or `room:<id>`.
pub fn scope_key(scope: &BudgetScope) -> String {
    match scope {
        BudgetScope::Workspace => "workspace".to_owned(),
        BudgetScope::Agent { agent_id } => format!("agent:{agent_id}"),
        BudgetScope::Room { room_id } => format!("room:{room_id}"),
    }
}

/// The scopes whose budgets cover an agent run: its workspace, its agent and its room.
pub fn scopes_of(run: &Run) -> Vec<BudgetScope> {
    let mut scopes = vec![BudgetScope::Workspace];
    if let Some(agent) = &run.agent {
        scopes.push(BudgetScope::Agent {
            agent_id: agent.agent_id.clone(),
        });
    }
    if let Some(room_id) = &run.room_id {
        scopes.push(BudgetScope::Room {
            room_id: room_id.clone(),
        });
    }
    scopes
}

fn load(
    txn: &WriteTransaction,
    workspace: &Id,
    scope: &BudgetScope,
) -> Result<Option<BudgetRecord>, ApplyError> {
    let key = scope_key(scope);
    Ok(get_json(
        &txn.open_table(BUDGETS)?,
        "budgets",
        (workspace.as_str(), key.as_str()),
    )?)
}

fn save(txn: &WriteTransaction, workspace: &Id, record: &BudgetRecord) -> Result<(), ApplyError> {
    let key = scope_key(&record.budget.scope);
    txn.open_table(BUDGETS)?.insert(
        (workspace.as_str(), key.as_str()),
        encode("budgets", record)?.as_slice(),
    )?;
    Ok(())
}

/// What a scope is called in messages and on the command line, if it (still) exists:
/// (`the workspace` | `agent reviewer` | `room #general`, `workspace` | `--agent reviewer` |
/// `--room general`). (`--workspace NAME` is the CLI's flag that picks a workspace, so the
/// workspace's own budget is the word `workspace`.)
fn named(
    txn: &WriteTransaction,
    workspace: &Id,
    scope: &BudgetScope,
) -> Result<Option<(String, String)>, ApplyError> {
    Ok(match scope {
        BudgetScope::Workspace => Some(("the workspace".to_owned(), "workspace".to_owned())),
        BudgetScope::Agent { agent_id } => {
            let agent: Option<Agent> = get_json(
                &txn.open_table(AGENTS)?,
                "agents",
                (workspace.as_str(), agent_id.as_str()),
            )?;
            agent.map(|a| (format!("agent {}", a.name), format!("--agent {}", a.name)))
        }
        BudgetScope::Room { room_id } => {
            let room: Option<Room> = get_json(
                &txn.open_table(ROOMS)?,
                "rooms",
                (workspace.as_str(), room_id.as_str()),
            )?;
            room.map(|r| (format!("room #{}", r.name), format!("--room {}", r.name)))
        }
    })
}

/// [`named`], or the scope's id when the agent or room is gone.
fn name_or_id(
    txn: &WriteTransaction,
    workspace: &Id,
    scope: &BudgetScope,
) -> Result<(String, String), ApplyError> {
    Ok(named(txn, workspace, scope)?.unwrap_or_else(|| {
        let key = scope_key(scope);
        let (kind, id) = key.split_once(':').unwrap_or(("scope", key.as_str()));
        (format!("{kind} {id}"), format!("--{kind} {id}"))
    }))
}

fn per(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Day => "daily",
        BudgetPeriod::Week => "weekly",
        BudgetPeriod::Month => "monthly",
    }
}

/// How to raise a budget, as the command to type.
fn raise_hint(flag: &str, budget: &Budget) -> String {
    format!(
        "raise it above {} with `warren budget set {flag} AMOUNTusd/{}` or remove it with `warren budget clear {flag}`",
        format_usd(budget.limit),
        budget.period.as_str()
    )
}

/// Checks every budget that covers `run` (the workspace's, its agent's, its room's) at `now`.
/// `Ok(None)` when the call may start; `Ok(Some(reason))` when a budget is exhausted, with the
/// reason the run is paused for ("budget exhausted: agent reviewer, $5.00 of $5.00 this month —
/// raise it …"). Writes nothing: a period that ended counts from 0 here, and is rolled over in
/// the store by the next spending.
pub fn check(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
    now: i64,
) -> Result<Option<String>, ApplyError> {
    if run.agent.is_none() {
        return Ok(None);
    }
    for scope in scopes_of(run) {
        let Some(record) = load(txn, workspace, &scope)? else {
            continue;
        };
        let budget = record.at(now).budget;
        if budget.exhausted() {
            let (what, flag) = name_or_id(txn, workspace, &scope)?;
            return Ok(Some(format!(
                "budget exhausted: {what}, {} of {} {} — {}",
                format_usd(budget.spent),
                format_usd(budget.limit),
                period::this(budget.period),
                raise_hint(&flag, &budget)
            )));
        }
    }
    Ok(None)
}

fn audit_target(scope: &BudgetScope, what: &str) -> AuditTarget {
    AuditTarget {
        kind: "budget".to_owned(),
        id: scope_key(scope),
        name: what.to_owned(),
    }
}

/// `set_budget`: stores the budget with the current period's start. What was spent is kept
/// when the period is unchanged; otherwise (a new budget, another period) it is what the
/// scope's model calls cost since the period began, from the usage rows. Alerts for the
/// thresholds already reached under the new limit are not posted (the admin set it knowing);
/// the later ones are.
pub fn set_budget(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    scope: &BudgetScope,
    limit: MicroUsd,
    period: BudgetPeriod,
) -> Result<Change, ApplyError> {
    if limit == 0 {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            "a budget's limit must be more than $0; to stop agent runs, disable the agent \
             (`warren agent disable NAME`); to remove a budget, use `warren budget clear`",
        ));
    }
    if limit > MAX_LIMIT {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "a limit of {} is more than {}; check the amount (limits are in micro-dollars: 20000000 is $20)",
                format_usd(limit),
                format_usd(MAX_LIMIT)
            ),
        ));
    }
    let Some((what, _)) = named(txn, ctx.workspace, scope)? else {
        let (kind, list) = match scope {
            BudgetScope::Agent { .. } => ("agent", "warren agent list"),
            _ => ("room", "warren room list"),
        };
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "no {kind} {} in this workspace; see them with `{list}`",
                scope_key(scope).split_once(':').map_or("", |(_, id)| id)
            ),
        ));
    };
    let start = period::start(period, ctx.now);
    let previous = load(txn, ctx.workspace, scope)?.map(|r| r.at(ctx.now));
    let spent = match &previous {
        Some(p) if p.budget.period == period && p.budget.period_start == start => p.budget.spent,
        _ => spend::spent_since(txn, ctx.workspace, scope, start)?,
    };
    let mut record = BudgetRecord {
        budget: Budget {
            scope: scope.clone(),
            limit,
            period,
            spent,
            period_start: start,
            set_by: ctx.actor.clone(),
            updated_at: ctx.now,
        },
        alerted: Vec::new(),
    };
    record.reach_thresholds();
    save(txn, ctx.workspace, &record)?;
    let limit_text = format!("{}/{}", format_usd(limit), period.as_str());
    let from_text = previous
        .as_ref()
        .map(|p| {
            format!(
                "{}/{}",
                format_usd(p.budget.limit),
                p.budget.period.as_str()
            )
        })
        .unwrap_or_default();
    let mut facts = details([("limit", limit_text.as_str())]);
    if !from_text.is_empty() {
        facts.insert("from".to_owned(), from_text);
    }
    ctx.audit(txn, "budget.set", Some(audit_target(scope, &what)), facts)?;
    Ok(Change::BudgetSet {
        budget: record.budget,
    })
}

/// `clear_budget`: removes the scope's budget (runs it paused are queued again by the
/// follow-up).
pub fn clear_budget(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    scope: &BudgetScope,
) -> Result<Change, ApplyError> {
    let (what, _) = name_or_id(txn, ctx.workspace, scope)?;
    let Some(record) = load(txn, ctx.workspace, scope)? else {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("{what} has no budget; see the budgets with `warren budget list`"),
        ));
    };
    let key = scope_key(scope);
    txn.open_table(BUDGETS)?
        .remove((ctx.workspace.as_str(), key.as_str()))?;
    let limit_text = format!(
        "{}/{}",
        format_usd(record.budget.limit),
        record.budget.period.as_str()
    );
    ctx.audit(
        txn,
        "budget.clear",
        Some(audit_target(scope, &what)),
        details([("limit", limit_text.as_str())]),
    )?;
    Ok(Change::BudgetCleared {
        scope: scope.clone(),
    })
}

/// The events that follow `event` for budgets: after a finished model call's `run_step`, its
/// spending (`budget_set` per covering budget, alert messages); after `budget_set` or
/// `budget_cleared`, the paused runs that may go on (`run_updated`, back to `queued`).
pub fn follow_up(
    txn: &WriteTransaction,
    event: &Event,
) -> Result<Vec<(Event, String)>, ApplyError> {
    match &event.change {
        Change::RunStep { step } => spend::follow_up(txn, event, step),
        Change::BudgetSet { .. } | Change::BudgetCleared { .. } => requeue::follow_up(txn, event),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests;
