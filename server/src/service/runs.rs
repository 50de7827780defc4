//! Runs: starting, cancelling, approving, rejecting and retrying them, and the reports of the
//! worker that executes them. Every transition is checked with [`RunStatus::can_become`] and is
//! exactly one `run_updated` event whose actor caused it. Secret parameter values go to the
//! vault (`RunState::secrets`) and never into a record. Assignment and leases are in
//! `crate::runs::assign`.

use std::collections::BTreeMap;

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::permission;
use warren_protocol::run::{Job, Run, RunEnd, RunStatus};
use warren_protocol::{Change, Command, ErrorCode, Id, ServerMessage};

use super::{ApplyError, Ctx, jobs, pick_id, run_params, text};
use crate::logs::progress;
use crate::runs::RunState;
use crate::runs::effects::Effects;
use crate::store::encode;
use crate::store::read::get_json;
use crate::store::tables::{CARDS, COUNTERS, ROOMS, RUN_NUMBERS, RUNS};

/// Longest reason (cancel, reject, finish), in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Loads a run of the workspace or says how to find one.
pub fn load_run(txn: &WriteTransaction, workspace: &Id, run_id: &Id) -> Result<Run, ApplyError> {
    get_json(
        &txn.open_table(RUNS)?,
        "runs",
        (workspace.as_str(), run_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no run {run_id} in this workspace; list runs with `warren run list`"),
        )
    })
}

/// Stores a run and keeps the set of unfinished runs up to date.
pub fn save_run(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
    state: &RunState,
) -> Result<(), ApplyError> {
    txn.open_table(RUNS)?.insert(
        (workspace.as_str(), run.id.as_str()),
        encode("runs", run)?.as_slice(),
    )?;
    state.track(workspace, &run.id, run.status.is_final());
    Ok(())
}

/// Moves `run` to `to` if the state machine allows it; returns the status it left.
pub fn move_to(run: &mut Run, to: RunStatus) -> Result<RunStatus, ApplyError> {
    let from = run.status;
    if !from.can_become(to) {
        let hint = if from.is_final() {
            format!(
                "it has ended; start a new one with `warren run retry {}`",
                run.label()
            )
        } else {
            format!("see it with `warren run show {}`", run.label())
        };
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is {}; it cannot become {}: {hint}",
                run.label(),
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    run.status = to;
    Ok(from)
}

/// A new run of `job` (its id and name), asked by the actor now, in `status` (`queued` or
/// `awaiting_approval`): its id (the one asked for, or a fresh one; refused if taken) and its
/// number, the workspace's next (`r7`). Nothing is stored yet: the caller adds what its kind of
/// run carries (parameters, card, room, retry, agent part), then [`store_new_run`]. Job runs and
/// agent runs are both made here.
pub fn new_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    requested: Option<&Id>,
    job: (&Id, &str),
    status: RunStatus,
) -> Result<Run, ApplyError> {
    let id = pick_id(requested, "run")?;
    if txn
        .open_table(RUNS)?
        .get((ctx.ws(), id.as_str()))?
        .is_some()
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("run {id} already exists"),
        ));
    }
    let mut counters = txn.open_table(COUNTERS)?;
    let number = counters
        .get((ctx.ws(), "run_number"))?
        .map_or(1, |g| g.value());
    counters.insert((ctx.ws(), "run_number"), number + 1)?;
    Ok(Run {
        id,
        number,
        job_id: job.0.clone(),
        job_name: job.1.to_owned(),
        params: Vec::new(),
        status,
        requested_by: ctx.actor.clone(),
        card_id: None,
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: None,
        decided_by: None,
        created_at: ctx.now,
        queued_at: (status == RunStatus::Queued).then_some(ctx.now),
        not_before: None,
        started_at: None,
        finished_at: None,
        exit_code: None,
        reason: None,
        lines: 0,
        log_bytes: 0,
        parent_run_id: None,
        agent: None,
    })
}

/// Stores a run made by [`new_run`] and indexes its number.
pub fn store_new_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run: &Run,
    state: &RunState,
) -> Result<(), ApplyError> {
    txn.open_table(RUN_NUMBERS)?
        .insert((ctx.ws(), run.number), run.id.as_str())?;
    save_run(txn, ctx.workspace, run, state)
}

fn reason(value: Option<&String>) -> Result<Option<String>, ApplyError> {
    match value.map(|r| r.trim()).filter(|r| !r.is_empty()) {
        Some(r) => Ok(Some(text::one_line("a reason", r, MAX_REASON_CHARS)?)),
        None => Ok(None),
    }
}

/// Applies one run command.
pub fn apply(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    match command {
        Command::StartRun {
            run_id,
            job_id,
            params,
            card_id,
            room_id,
        } => {
            let job = jobs::load(txn, ctx, job_id)?;
            let start = Start {
                run_id: run_id.as_ref(),
                params,
                card_id: card_id.as_ref(),
                room_id: room_id.as_ref(),
                retry_of: None,
            };
            start_run(txn, ctx, &job, &start, state, fx)
        }
        Command::RetryRun {
            run_id,
            new_run_id,
            params,
        } => retry_run(txn, ctx, run_id, new_run_id.as_ref(), params, state, fx),
        Command::CancelRun { run_id, reason } => {
            cancel_run(txn, ctx, run_id, reason.as_ref(), state, fx)
        }
        Command::ApproveRun { run_id } => {
            let mut run = load_run(txn, ctx.workspace, run_id)?;
            let from = move_to(&mut run, RunStatus::Queued)?;
            run.decided_by = Some(ctx.actor.clone());
            run.queued_at = Some(ctx.now);
            save_run(txn, ctx.workspace, &run, state)?;
            fx.schedule = true;
            Ok(Change::RunUpdated { run, from })
        }
        Command::RejectRun {
            run_id,
            reason: why,
        } => {
            let mut run = load_run(txn, ctx.workspace, run_id)?;
            let why = reason(why.as_ref())?;
            let from = move_to(&mut run, RunStatus::Rejected)?;
            run.decided_by = Some(ctx.actor.clone());
            run.reason = Some(match why {
                Some(r) => format!("rejected: {r}"),
                None => "rejected".to_owned(),
            });
            run.finished_at = Some(ctx.now);
            save_run(txn, ctx.workspace, &run, state)?;
            fx.forget.push(run.id.clone());
            Ok(Change::RunUpdated { run, from })
        }
        Command::ReportRunStarted { run_id } => {
            let mut run = own_run(txn, ctx, run_id)?;
            let from = move_to(&mut run, RunStatus::Running)?;
            run.started_at = Some(ctx.now);
            save_run(txn, ctx.workspace, &run, state)?;
            Ok(Change::RunUpdated { run, from })
        }
        Command::ReportRunFinished {
            run_id,
            end,
            exit_code,
            reason: why,
            lines,
        } => {
            let report = Finish {
                end: *end,
                exit_code: *exit_code,
                reason: reason(why.as_ref())?,
                lines: *lines,
            };
            report_finished(txn, ctx, run_id, &report, state, fx)
        }
        _ => Err(ApplyError::reject(ErrorCode::Internal, "not a run command")),
    }
}

/// What a new run is started with.
struct Start<'a> {
    run_id: Option<&'a Id>,
    params: &'a BTreeMap<String, String>,
    card_id: Option<&'a Id>,
    room_id: Option<&'a Id>,
    retry_of: Option<&'a Id>,
}

fn start_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    job: &Job,
    start: &Start<'_>,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let resolved = run_params::resolve(job, start.params)?;
    if let Some(card) = start.card_id
        && txn
            .open_table(CARDS)?
            .get((ctx.ws(), card.as_str()))?
            .is_none()
    {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no card {card} in this workspace"),
        ));
    }
    if let Some(room) = start.room_id
        && txn
            .open_table(ROOMS)?
            .get((ctx.ws(), room.as_str()))?
            .is_none()
    {
        return Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("no room {room} in this workspace"),
        ));
    }
    let status = if job.protected {
        RunStatus::AwaitingApproval
    } else {
        RunStatus::Queued
    };
    let mut run = new_run(txn, ctx, start.run_id, (&job.id, &job.name), status)?;
    run.params = resolved.params;
    run.card_id = start.card_id.cloned();
    run.room_id = start.room_id.cloned();
    run.retry_of = start.retry_of.cloned();
    store_new_run(txn, ctx, &run, state)?;
    state.secrets.put(&run.id, resolved.secrets);
    fx.schedule = true;
    Ok(Change::RunCreated { run })
}

fn retry_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    new_run_id: Option<&Id>,
    given: &BTreeMap<String, String>,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let old = load_run(txn, ctx.workspace, run_id)?;
    let need = permission::command_named("retry_run");
    ctx.check_own("retry_run", need, &old.requested_by == ctx.actor)?;
    if !old.status.is_final() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} is {}; only a run that has ended can be retried (cancel it first with `warren run cancel {}`)",
                old.label(),
                old.status.as_str(),
                old.label()
            ),
        ));
    }
    let job = jobs::load(txn, ctx, &old.job_id).map_err(|_| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!(
                "{}'s job {} was deleted; there is nothing to retry",
                old.label(),
                old.job_name
            ),
        )
    })?;
    let missing: Vec<&str> = old
        .params
        .iter()
        .filter(|p| p.secret && !given.keys().any(|k| k.eq_ignore_ascii_case(&p.name)))
        .map(|p| p.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "{} had the secret parameter{} {}; secrets are never kept, so give {} again: `warren run retry {} {}`",
                old.label(),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
                old.label(),
                missing
                    .iter()
                    .map(|m| format!("-p {m}=…"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ));
    }
    let mut params: BTreeMap<String, String> = old
        .params
        .iter()
        .filter(|p| !p.secret && job.params.iter().any(|s| s.name == p.name))
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect();
    for (k, v) in given {
        params.retain(|name, _| !name.eq_ignore_ascii_case(k));
        params.insert(k.clone(), v.clone());
    }
    let start = Start {
        run_id: new_run_id,
        params: &params,
        card_id: old.card_id.as_ref(),
        room_id: old.room_id.as_ref(),
        retry_of: Some(&old.id),
    };
    start_run(txn, ctx, &job, &start, state, fx)
}

fn cancel_run(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    why: Option<&String>,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let mut run = load_run(txn, ctx.workspace, run_id)?;
    let need = permission::command_named("cancel_run");
    ctx.check_own("cancel_run", need, &run.requested_by == ctx.actor)?;
    let why = reason(why)?;
    if run.status.is_final() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} has already ended ({}); there is nothing to cancel",
                run.label(),
                run.status.as_str()
            ),
        ));
    }
    let from = move_to(&mut run, RunStatus::Cancelled)?;
    run.decided_by = Some(ctx.actor.clone());
    run.reason = Some(match why {
        Some(r) => format!("cancelled: {r}"),
        None => "cancelled".to_owned(),
    });
    run.finished_at = Some(ctx.now);
    match (&run.worker_id, from) {
        (Some(worker), RunStatus::Assigned | RunStatus::Running) => {
            // The worker stops the process group and reports; its report is taken without
            // another transition, and then the log is sealed and the secrets forgotten. If it
            // does not report in time, the server does that itself (`runs::cancels`).
            state.cancels.started(ctx.workspace, &run.id, ctx.now);
            fx.send(
                ctx.workspace,
                worker,
                &ServerMessage::CancelRun {
                    run_id: run.id.clone(),
                    reason: run.reason.clone(),
                },
            );
        }
        _ => fx.forget.push(run.id.clone()),
    }
    save_run(txn, ctx.workspace, &run, state)?;
    fx.schedule = true;
    Ok(Change::RunUpdated { run, from })
}

/// A run that the actor (a worker) holds.
fn own_run(txn: &WriteTransaction, ctx: &Ctx<'_>, run_id: &Id) -> Result<Run, ApplyError> {
    let run = load_run(txn, ctx.workspace, run_id)?;
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

/// A worker's `report_run_finished`.
struct Finish {
    end: RunEnd,
    exit_code: Option<i32>,
    reason: Option<String>,
    lines: u64,
}

fn report_finished(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    run_id: &Id,
    report: &Finish,
    state: &RunState,
    fx: &mut Effects,
) -> Result<Change, ApplyError> {
    let mut run = own_run(txn, ctx, run_id)?;
    let stored = progress::read(
        &txn.open_table(crate::store::tables::LOG_PROGRESS)?,
        ctx.ws(),
        run.id.as_str(),
    )?;
    let ended_by_server = run.status == RunStatus::Cancelled && stored.sealed;
    if stored.lines < report.lines && !stored.truncated && !ended_by_server {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "{} of {} log lines of {} are stored; send the remaining log chunks, wait for their log_ack, then report again",
                stored.lines,
                report.lines,
                run.label()
            ),
        ));
    }
    let from = run.status;
    if from == RunStatus::Cancelled && stored.sealed {
        // The server ended it already (its worker missed the cancel's deadline): the late
        // report is taken as it stands, recording only the exit code.
        run.exit_code = report.exit_code;
        save_run(txn, ctx.workspace, &run, state)?;
        state.cancels.confirmed(ctx.workspace, &run.id);
        fx.forget.push(run.id.clone());
        return Ok(Change::RunUpdated { run, from });
    }
    if from == RunStatus::Cancelled {
        // Cancelled while it ran: the report is taken without another transition.
        state.cancels.confirmed(ctx.workspace, &run.id);
        run.exit_code = report.exit_code;
    } else {
        move_to(&mut run, report.end.status())?;
        run.exit_code = report.exit_code;
        run.reason = report.reason.clone();
        run.finished_at = Some(ctx.now);
    }
    let sealed = progress::seal(txn, ctx.ws(), run.id.as_str())?;
    run.lines = sealed.lines;
    run.log_bytes = sealed.bytes;
    save_run(txn, ctx.workspace, &run, state)?;
    fx.forget.push(run.id.clone());
    fx.schedule = true;
    Ok(Change::RunUpdated { run, from })
}
