//! `call_tool`: the model asked for a tool. The name and arguments are checked
//! (`ToolName::parse_args`; a failure is a `done` step whose result is the error, for the
//! model), then the call waits for a decision (`awaiting_approval`) unless the agent
//! auto-approves the tool or a grant covers it, or is performed at once as the agent's member
//! ([`perform`]). A performed tool's own event (`card_created`, …) is the command's event; its
//! `run_step` and the run's `run_updated` follow it.

use std::collections::BTreeMap;

use redb::WriteTransaction;
use serde_json::json;
use warren_protocol::agent::Agent;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{
    Approval, Decision, MAX_TOOL_RESULT_BYTES, RunStep, StepDetail, StepStatus, ToolCallStep,
};
use warren_protocol::tool::{ToolArgs, ToolName};
use warren_protocol::{Board, Card, Change, Command, ErrorCode, Id, Room};

use super::{ApplyError, Ctx, approvals, held_run, role_of, steps};
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::service::runs::{move_to, save_run};
use crate::store::read::list_in_workspace;
use crate::store::tables::{BOARDS, CARDS, JOBS, ROOMS};

/// Longest arguments text stored with a step, in bytes.
const MAX_ARGUMENTS_BYTES: usize = 64 * 1024;
/// Longest call id, in bytes.
const MAX_CALL_ID_BYTES: usize = 256;

/// A `call_tool` command's call.
pub struct Call<'a> {
    pub step: u32,
    pub call_id: &'a str,
    pub name: &'a str,
    pub arguments: &'a str,
}

/// What performing a tool gave: the event it made (if any), the result for the model, whether
/// that is an error, and the run a `job.run` started.
pub struct Outcome {
    pub change: Option<Change>,
    pub result: String,
    pub is_error: bool,
    pub child_run_id: Option<Id>,
}

impl Outcome {
    fn error(message: impl Into<String>) -> Self {
        Outcome {
            change: None,
            result: message.into(),
            is_error: true,
            child_run_id: None,
        }
    }

    fn done(change: Option<Change>, result: serde_json::Value) -> Self {
        Outcome {
            change,
            result: result.to_string(),
            is_error: false,
            child_run_id: None,
        }
    }
}

/// `call_tool` from the worker holding the run.
pub fn call_tool(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    call: &Call<'_>,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let mut run = held_run(txn, ctx, run_id)?;
    if run.status != RunStatus::Running {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is {}; a tool is called only while it runs",
                run.label(),
                run.status.as_str()
            ),
        ));
    }
    steps::expect_next(&run, call.step)?;
    if call.call_id.len() > MAX_CALL_ID_BYTES {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("a tool call id is at most {MAX_CALL_ID_BYTES} bytes"),
        ));
    }
    let agent_id = run.agent.as_ref().map(|a| a.agent_id.clone());
    let agent = match agent_id {
        Some(id) => super::agent_of(txn, ctx.workspace, &id)?,
        None => None,
    };
    let tool = ToolName::parse(call.name);
    let mut step = RunStep {
        run_id: run.id.clone(),
        n: call.step,
        status: StepStatus::Done,
        started_at: ctx.now,
        finished_at: Some(ctx.now),
        detail: StepDetail::ToolCall(ToolCallStep {
            call_id: call.call_id.to_owned(),
            tool,
            name: steps::cut(call.name, MAX_CALL_ID_BYTES).0,
            arguments: steps::cut(call.arguments, MAX_ARGUMENTS_BYTES).0,
            result: None,
            is_error: false,
            child_run_id: None,
            approval: None,
        }),
    };
    let checked = match (&agent, tool) {
        (None, _) => Err("this agent was deleted; end the run".to_owned()),
        (Some(agent), None) => Err(format!(
            "there is no tool named {:?}; the tools you may call are: {}",
            call.name,
            tool_list(agent)
        )),
        (Some(agent), Some(tool)) if !agent.tools.contains(&tool) => Err(format!(
            "you may not call {}; the tools you may call are: {}",
            tool.model_name(),
            tool_list(agent)
        )),
        (Some(_), Some(tool)) => tool
            .parse_args(call.arguments)
            .map(|args| (tool, args))
            .map_err(|e| e.to_string()),
    };
    let change = match (checked, agent) {
        (Err(message), _) => {
            finish(&mut step, &Outcome::error(message));
            None
        }
        (Ok((tool, args)), Some(agent)) => {
            let grant = approvals::grant_for(txn, ctx.workspace, &agent.id, tool)?;
            if agent.asks_for(tool) && grant.is_none() {
                step.status = StepStatus::AwaitingApproval;
                step.finished_at = None;
                if let StepDetail::ToolCall(t) = &mut step.detail {
                    t.approval = Some(Approval {
                        requested_at: ctx.now,
                        decision: None,
                        decided_by: None,
                        decided_at: None,
                        reason: None,
                        grant_id: None,
                    });
                }
                move_to(&mut run, RunStatus::AwaitingApproval)?;
                run.worker_id = None;
                run.started_at = None;
                fx.schedule = true;
                None
            } else {
                if let (Some(grant), StepDetail::ToolCall(t)) = (&grant, &mut step.detail) {
                    t.approval = Some(Approval {
                        requested_at: ctx.now,
                        decision: Some(Decision::ApproveAlways),
                        decided_by: Some(grant.granted_by.clone()),
                        decided_at: Some(ctx.now),
                        reason: None,
                        grant_id: Some(grant.id.clone()),
                    });
                }
                let outcome = perform(txn, ctx, &run, &agent, &args, state, fx)?;
                finish(&mut step, &outcome);
                outcome.change
            }
        }
        (Ok(_), None) => None,
    };
    steps::store(txn, ctx.workspace, &step)?;
    steps::count_step(&mut run, step.n);
    save_run(txn, ctx.workspace, &run, state)?;
    Ok(change.unwrap_or(Change::RunStep { step }))
}

fn tool_list(agent: &Agent) -> String {
    if agent.tools.is_empty() {
        return "none".to_owned();
    }
    agent
        .tools
        .iter()
        .map(|t| t.model_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Puts a tool's outcome into its step (`done`, the result cut to [`MAX_TOOL_RESULT_BYTES`]).
pub fn finish(step: &mut RunStep, outcome: &Outcome) {
    if let StepDetail::ToolCall(t) = &mut step.detail {
        t.result = Some(steps::cut(&outcome.result, MAX_TOOL_RESULT_BYTES).0);
        t.is_error = outcome.is_error;
        t.child_run_id = outcome.child_run_id.clone();
    }
}

/// Performs a checked tool call as the agent's member, with that member's role. A refusal
/// (permission, a name that does not exist, a bad value) is an error result for the model;
/// only a storage failure is an error here.
pub fn perform(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run: &Run,
    agent: &Agent,
    args: &ToolArgs,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Outcome, ApplyError> {
    let Some(role) = role_of(txn, ctx.workspace, &agent.member_id)? else {
        return Ok(Outcome::error(
            "this agent is no longer a member of the workspace",
        ));
    };
    let member = Ctx {
        workspace: ctx.workspace,
        actor: &agent.member_id,
        role,
        scope: warren_protocol::account::TokenScope::Full,
        now: ctx.now,
        seq: ctx.seq,
        from: ctx.from,
    };
    match perform_as(txn, &member, run, args, state, fx) {
        Ok(outcome) => Ok(outcome),
        Err(ApplyError::Rejected(e)) => Ok(Outcome::error(format!("{}: {}", e.code, e.message))),
        Err(other) => Err(other),
    }
}

fn not_found(message: String) -> ApplyError {
    ApplyError::reject(ErrorCode::NotFound, message)
}

fn boards(txn: &WriteTransaction, ctx: &Ctx<'_>) -> Result<Vec<Board>, ApplyError> {
    let mut boards: Vec<Board> = list_in_workspace(&txn.open_table(BOARDS)?, "boards", ctx.ws())?;
    boards.sort_by_key(|b| (b.created_at, b.id.clone()));
    Ok(boards)
}

fn card_by_number(txn: &WriteTransaction, ctx: &Ctx<'_>, number: u64) -> Result<Card, ApplyError> {
    let cards: Vec<Card> = list_in_workspace(&txn.open_table(CARDS)?, "cards", ctx.ws())?;
    cards
        .into_iter()
        .find(|c| c.number == number)
        .ok_or_else(|| not_found(format!("there is no card #{number}; search for it first")))
}

fn perform_as(
    txn: &WriteTransaction,
    member: &Ctx<'_>,
    run: &Run,
    args: &ToolArgs,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Outcome, ApplyError> {
    match args {
        ToolArgs::CardCreate(a) => {
            let boards = boards(txn, member)?;
            let board = match &a.board {
                Some(name) => boards
                    .iter()
                    .find(|b| b.name.eq_ignore_ascii_case(name.trim()))
                    .ok_or_else(|| {
                        not_found(format!(
                            "there is no board {name:?}; the boards are: {}",
                            boards
                                .iter()
                                .map(|b| b.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
                None => boards
                    .first()
                    .ok_or_else(|| not_found("this workspace has no board".to_owned()))?,
            };
            let column = match &a.column {
                Some(name) => Some(column_named(board, name)?),
                None => None,
            };
            let command = Command::CreateCard {
                card_id: None,
                board_id: board.id.clone(),
                column_id: column.clone(),
                title: a.title.clone(),
                description: a.description.clone(),
                labels: a.labels.clone(),
                assignee: None,
                priority: a.priority.unwrap_or_default(),
                position: Default::default(),
            };
            member.check(&command)?;
            let change = crate::service::boards::create_card(txn, member, &command)?;
            let result = match &change {
                Change::CardCreated { card } => json!({
                    "card": card.number,
                    "title": card.title,
                    "board": board.name,
                    "column": board.columns.iter().find(|c| c.id == card.column_id).map(|c| c.name.clone()),
                }),
                _ => json!({}),
            };
            Ok(Outcome::done(Some(change), result))
        }
        ToolArgs::CardMove(a) => {
            let card = card_by_number(txn, member, a.card)?;
            let board = boards(txn, member)?
                .into_iter()
                .find(|b| b.id == card.board_id)
                .ok_or_else(|| not_found(format!("the board of card #{} is gone", a.card)))?;
            let column = column_named(&board, &a.column)?;
            let command = Command::MoveCard {
                card_id: card.id.clone(),
                column_id: column.clone(),
                position: Default::default(),
            };
            member.check(&command)?;
            let change = crate::service::boards::move_card(
                txn,
                member,
                &card.id,
                &column,
                &Default::default(),
            )?;
            Ok(Outcome::done(
                Some(change),
                json!({"card": a.card, "column": a.column.trim()}),
            ))
        }
        ToolArgs::MessagePost(a) => {
            let name = a.room.trim().trim_start_matches('#');
            let rooms: Vec<Room> =
                list_in_workspace(&txn.open_table(ROOMS)?, "rooms", member.ws())?;
            let room = rooms
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    not_found(format!(
                        "there is no room #{name}; the rooms are: {}",
                        rooms
                            .iter()
                            .map(|r| format!("#{}", r.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            let body = super::answer::clean(&a.body);
            let command = Command::PostMessage {
                message_id: None,
                room_id: room.id.clone(),
                body: body.clone(),
            };
            member.check(&command)?;
            let change = crate::service::chat::post_message(txn, member, None, &room.id, &body)?;
            let id = match &change {
                Change::MessagePosted { message } => Some(message.id.clone()),
                _ => None,
            };
            Ok(Outcome::done(
                Some(change),
                json!({"posted": true, "room": room.name, "message_id": id}),
            ))
        }
        ToolArgs::JobRun(a) => {
            let jobs = crate::store::run_reads::jobs(&txn.open_table(JOBS)?, member.ws())?;
            let job = jobs
                .iter()
                .find(|j| j.name.eq_ignore_ascii_case(a.job.trim()))
                .ok_or_else(|| {
                    not_found(format!(
                        "there is no job {:?}; the jobs are: {}",
                        a.job,
                        jobs.iter()
                            .map(|j| j.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            let card_id = match a.card {
                Some(n) => Some(card_by_number(txn, member, n)?.id),
                None => None,
            };
            let command = Command::StartRun {
                run_id: None,
                job_id: job.id.clone(),
                params: a
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>(),
                card_id,
                room_id: run.room_id.clone(),
            };
            member.check(&command)?;
            let change = crate::service::runs::apply(txn, member, &command, state, fx)?;
            let Change::RunCreated { run: mut child } = change else {
                return Ok(Outcome::error("the job run did not start"));
            };
            child.parent_run_id = Some(run.id.clone());
            save_run(txn, member.workspace, &child, state)?;
            let result = json!({
                "run": child.label(),
                "job": child.job_name,
                "status": child.status.as_str(),
            });
            let child_id = child.id.clone();
            let mut outcome = Outcome::done(Some(Change::RunCreated { run: child }), result);
            outcome.child_run_id = Some(child_id);
            Ok(outcome)
        }
        ToolArgs::Search(a) => {
            let result = super::search::search(txn, member.workspace, a)?;
            Ok(Outcome::done(None, result))
        }
    }
}

fn column_named(board: &Board, name: &str) -> Result<Id, ApplyError> {
    board
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
        .map(|c| c.id.clone())
        .ok_or_else(|| {
            not_found(format!(
                "board {} has no column {name:?}; its columns are: {}",
                board.name,
                board
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
