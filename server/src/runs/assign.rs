//! Assignment and leases, decided in the writer's transaction (one thread, so two workers never
//! get the same run).
//!
//! [`schedule`] runs after every batch that touched runs and on the writer's timer: first the
//! cancels whose worker did not confirm them in time end ([`super::cancels`]), then every
//! assigned or running run whose worker has been silent for the lease loses it (`lost`, or back
//! to `queued` with `attempt + 1` and an exponential `not_before` while the job's retries last);
//! then paused agent runs whose budgets pass again (a period ended) are queued; then each queued
//! run whose `not_before` has passed goes, in queue order, to a connected,
//! non-draining worker with free capacity whose tags include all of the job's, honouring the
//! job's concurrency. [`reattach`] settles a reconnecting worker's runs against what it says it
//! holds.

use std::collections::{BTreeSet, HashMap};

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::account::TokenScope;
use warren_protocol::run::{AssignedParam, Job, Run, RunStatus};
use warren_protocol::{Change, Id, Role, ServerMessage};

use super::RunState;
use super::effects::Effects;
use crate::audit::Source;
use crate::logs::progress;
use crate::service::runs::{move_to, save_run};
use crate::service::{ApplyError, Ctx, append_event, follow, next_seq};
use crate::store::read::get_json;
use crate::store::tables::{JOBS, RUNS};
use crate::store::{StoreError, decode};

/// Stores `change` as an event of `workspace` by `actor` (with its room line after it).
pub fn emit(
    txn: &WriteTransaction,
    workspace: &Id,
    actor: &Id,
    now: i64,
    change: Change,
    fx: &mut Effects,
) -> Result<(), ApplyError> {
    let ctx = Ctx {
        workspace,
        actor,
        role: Role::Bot,
        scope: TokenScope::Full,
        now,
        seq: next_seq(txn, workspace)?,
        from: Source::Unknown,
    };
    let (event, json) = append_event(txn, &ctx, None, change)?;
    let follow = follow::follow_ups(txn, &event, follow::Before::default())?;
    fx.events.push((workspace.clone(), event, json));
    for (event, json) in follow {
        fx.events.push((workspace.clone(), event, json));
    }
    Ok(())
}

/// Every unfinished run, from the set the state keeps (read from the store the first time).
fn active_runs(txn: &WriteTransaction, state: &RunState) -> Result<Vec<(Id, Run)>, ApplyError> {
    let keys = match state.active() {
        Some(keys) => keys,
        None => {
            let mut keys = BTreeSet::new();
            for entry in txn.open_table(RUNS)?.iter()? {
                let (key, value) = entry.map_err(StoreError::from)?;
                let run: Run = decode("runs", value.value())?;
                if !run.status.is_final() {
                    keys.insert((Id::parse(key.value().0).map_err(bad_key)?, run.id));
                }
            }
            state.set_active(Some(keys.clone()));
            keys
        }
    };
    let table = txn.open_table(RUNS)?;
    let mut out = Vec::with_capacity(keys.len());
    for (ws, run_id) in keys {
        let run: Option<Run> = get_json(&table, "runs", (ws.as_str(), run_id.as_str()))?;
        match run {
            Some(run) if !run.status.is_final() => out.push((ws, run)),
            _ => state.track(&ws, &run_id, true),
        }
    }
    Ok(out)
}

fn bad_key(e: warren_protocol::IdError) -> StoreError {
    StoreError::Corrupt {
        table: "runs",
        source: serde::de::Error::custom(e),
    }
}

fn job_of(
    txn: &WriteTransaction,
    cache: &mut HashMap<(Id, Id), Option<Job>>,
    workspace: &Id,
    job_id: &Id,
) -> Result<Option<Job>, ApplyError> {
    if let Some(job) = cache.get(&(workspace.clone(), job_id.clone())) {
        return Ok(job.clone());
    }
    let job: Option<Job> = get_json(
        &txn.open_table(JOBS)?,
        "jobs",
        (workspace.as_str(), job_id.as_str()),
    )?;
    cache.insert((workspace.clone(), job_id.clone()), job.clone());
    Ok(job)
}

/// The backoff before attempt `attempt + 1` of a lost run: 2^attempt seconds, at most 5 min.
pub fn backoff_ms(attempt: u32) -> i64 {
    let secs = 1u64
        .checked_shl(attempt.min(20))
        .unwrap_or(u64::MAX)
        .min(super::MAX_BACKOFF_SECS);
    (secs * 1000) as i64
}

/// Takes a run from its worker: back to `queued` while the job's retries last, else `lost`.
fn lose(
    txn: &WriteTransaction,
    workspace: &Id,
    mut run: Run,
    job: Option<&Job>,
    why: &str,
    (state, fx, now): (&RunState, &mut Effects, i64),
) -> Result<(), ApplyError> {
    let Some(worker) = run.worker_id.clone() else {
        return Ok(());
    };
    let retries = if run.is_agent() {
        // An agent run resumes from its stored steps on any worker.
        crate::service::agent_runs::AGENT_RETRIES
    } else {
        job.map_or(0, |j| j.retries)
    };
    let from = if run.attempt <= retries {
        let from = move_to(&mut run, RunStatus::Queued)?;
        run.not_before = Some(now + backoff_ms(run.attempt));
        run.attempt += 1;
        run.queued_at = Some(now);
        run.worker_id = None;
        run.started_at = None;
        run.reason = Some(format!("{why}; queued again (attempt {})", run.attempt));
        from
    } else {
        let from = move_to(&mut run, RunStatus::Lost)?;
        run.finished_at = Some(now);
        run.reason = Some(format!(
            "{why}; start it again with `warren run retry {}`",
            run.label()
        ));
        let sealed = progress::seal(txn, workspace.as_str(), run.id.as_str())?;
        run.lines = sealed.lines;
        run.log_bytes = sealed.bytes;
        fx.forget.push(run.id.clone());
        from
    };
    // If it is still out there, it stops (a reconnect would be told `stop` as well).
    fx.send(
        workspace,
        &worker,
        &ServerMessage::CancelRun {
            run_id: run.id.clone(),
            reason: run.reason.clone(),
        },
    );
    save_run(txn, workspace, &run, state)?;
    emit(
        txn,
        workspace,
        &worker,
        now,
        Change::RunUpdated { run, from },
        fx,
    )
}

/// Assigns `run` to `worker`: one event, a fresh log assignment, then the `assign` frame with
/// the real parameter values. Without its secrets (the server restarted) the run fails instead.
fn assign(
    txn: &WriteTransaction,
    workspace: &Id,
    mut run: Run,
    job: Option<&Job>,
    worker: &Id,
    (state, fx, now): (&RunState, &mut Effects, i64),
) -> Result<(), ApplyError> {
    let from = move_to(&mut run, RunStatus::Assigned)?;
    run.worker_id = Some(worker.clone());
    run.not_before = None;
    // A run queued again after a lost attempt goes on numbering its log after the lines stored
    // so far: the worker numbers from `run.lines + 1`.
    let progress = progress::begin_assignment(txn, workspace.as_str(), run.id.as_str())?;
    run.lines = progress.lines;
    run.log_bytes = progress.bytes;
    save_run(txn, workspace, &run, state)?;
    emit(
        txn,
        workspace,
        worker,
        now,
        Change::RunUpdated {
            run: run.clone(),
            from,
        },
        fx,
    )?;
    match job {
        Some(job) => send_assign(txn, workspace, run, job, (state, fx, now)),
        None => super::agent_assign::send(txn, workspace, run, (state, fx, now)).map(|_| ()),
    }
}

/// Sends `assign` for an assigned run to its worker, or fails the run when its secret values
/// are gone.
fn send_assign(
    txn: &WriteTransaction,
    workspace: &Id,
    mut run: Run,
    job: &Job,
    (state, fx, now): (&RunState, &mut Effects, i64),
) -> Result<(), ApplyError> {
    let Some(worker) = run.worker_id.clone() else {
        return Ok(());
    };
    let secrets = state.secrets.get(&run.id).unwrap_or_default();
    let mut params = Vec::with_capacity(run.params.len());
    let mut gone = Vec::new();
    for p in &run.params {
        if p.secret {
            match secrets.iter().find(|s| s.name == p.name) {
                Some(s) => params.push(AssignedParam {
                    name: p.name.clone(),
                    value: s.value.clone(),
                    secret: true,
                }),
                None => gone.push(p.name.clone()),
            }
        } else {
            params.push(AssignedParam {
                name: p.name.clone(),
                value: p.value.clone(),
                secret: false,
            });
        }
    }
    if !gone.is_empty() {
        let from = move_to(&mut run, RunStatus::Failed)?;
        run.finished_at = Some(now);
        run.reason = Some(format!(
            "the values of its secret parameters ({}) were lost when the server restarted (they are never stored); start it again with `warren job run {}`",
            gone.join(", "),
            run.job_name
        ));
        progress::seal(txn, workspace.as_str(), run.id.as_str())?;
        save_run(txn, workspace, &run, state)?;
        return emit(
            txn,
            workspace,
            &worker,
            now,
            Change::RunUpdated { run, from },
            fx,
        );
    }
    fx.send(
        workspace,
        &worker,
        &ServerMessage::Assign {
            run,
            command: job.command.clone(),
            params,
            timeout_secs: job.timeout_secs,
            agent: None,
        },
    );
    Ok(())
}

/// Why a queued agent run cannot run any more (its agent was deleted or disabled, a probe's
/// provider deleted), if so.
fn agent_unrunnable(
    txn: &WriteTransaction,
    workspace: &Id,
    run: &Run,
) -> Result<Option<String>, ApplyError> {
    let Some(agent_run) = run.agent.as_ref() else {
        return Ok(None);
    };
    if let Some(provider) = &agent_run.probe_provider_id {
        let found: Option<warren_protocol::agent::Provider> = get_json(
            &txn.open_table(crate::store::tables::PROVIDERS)?,
            "providers",
            (workspace.as_str(), provider.as_str()),
        )?;
        return Ok(found
            .is_none()
            .then(|| format!("its provider {} was deleted before it ran", run.job_name)));
    }
    Ok(
        match crate::service::agent_runs::agent_of(txn, workspace, &agent_run.agent_id)? {
            None => Some(format!(
                "its agent {} was deleted before it ran",
                run.job_name
            )),
            Some(agent) if agent.disabled => Some(format!(
                "its agent {} was disabled before it ran",
                agent.name
            )),
            Some(_) => None,
        },
    )
}

/// A stand-in job for an agent run in the scheduler: no tags, no concurrency limit.
fn agent_job(run: &Run) -> Job {
    Job {
        id: run.job_id.clone(),
        name: run.job_name.clone(),
        command: String::new(),
        description: String::new(),
        params: Vec::new(),
        timeout_secs: 0,
        retries: 0,
        tags: Vec::new(),
        protected: false,
        concurrency: None,
        created_by: run.requested_by.clone(),
        created_at: run.created_at,
        updated_at: run.created_at,
    }
}

/// A connected worker that may take work.
struct Candidate {
    id: Id,
    name: String,
    tags: Vec<String>,
    free: u32,
    /// It executes agent runs too.
    agents: bool,
}

/// Ends the leases of silent workers, then assigns queued runs to free workers.
pub fn schedule(
    txn: &WriteTransaction,
    now: i64,
    state: &RunState,
    fx: &mut Effects,
) -> Result<(), ApplyError> {
    super::cancels::end_unconfirmed(txn, now, state, fx)?;
    let lease_ms = (state.lease_secs * 1000) as i64;
    let mut jobs: HashMap<(Id, Id), Option<Job>> = HashMap::new();
    let mut queued: Vec<(Id, Run)> = Vec::new();
    // Runs held per (workspace, worker) and running per (workspace, job), after the leases.
    let mut held: HashMap<(Id, Id), u32> = HashMap::new();
    let mut per_job: HashMap<(Id, Id), u32> = HashMap::new();
    for (ws, run) in active_runs(txn, state)? {
        match (run.status, run.worker_id.clone()) {
            (RunStatus::Assigned | RunStatus::Running, Some(worker)) => {
                let seen = state
                    .workers
                    .last_seen(&ws, &worker)
                    .unwrap_or(state.started_at)
                    .max(state.started_at);
                if now - seen > lease_ms {
                    let job = job_of(txn, &mut jobs, &ws, &run.job_id)?;
                    let why = format!("its worker was silent for more than {} s", state.lease_secs);
                    lose(txn, &ws, run, job.as_ref(), &why, (state, fx, now))?;
                } else {
                    *held.entry((ws.clone(), worker)).or_default() += 1;
                    *per_job.entry((ws, run.job_id)).or_default() += 1;
                }
            }
            (RunStatus::Queued, _) => queued.push((ws, run)),
            // A budget's period ended: the runs it paused go on (docs/agents.md "Budgets").
            (RunStatus::Paused, _) => {
                if let Some(change) =
                    crate::service::budgets::resume_if_allowed(txn, &ws, &run, now)?
                {
                    if let Change::RunUpdated { run, .. } = &change {
                        queued.push((ws.clone(), run.clone()));
                    }
                    emit(txn, &ws, &run.requested_by, now, change, fx)?;
                }
            }
            _ => {}
        }
    }
    // Lost runs re-queued just now wait for their backoff, so they are not in `queued`.
    queued.retain(|(_, run)| run.not_before.is_none_or(|t| t <= now));
    queued.sort_by_key(|(_, run)| (run.queued_at.unwrap_or(run.created_at), run.number));
    let mut candidates: HashMap<Id, Vec<Candidate>> = HashMap::new();
    for (ws, run) in queued {
        let job = if run.is_agent() {
            if let Some(why) = agent_unrunnable(txn, &ws, &run)? {
                let mut run = run;
                let from = move_to(&mut run, RunStatus::Cancelled)?;
                run.finished_at = Some(now);
                run.reason = Some(why);
                save_run(txn, &ws, &run, state)?;
                let actor = run.requested_by.clone();
                emit(txn, &ws, &actor, now, Change::RunUpdated { run, from }, fx)?;
                continue;
            }
            None
        } else {
            job_of(txn, &mut jobs, &ws, &run.job_id)?
        };
        let Some(job) = job.or_else(|| run.is_agent().then(|| agent_job(&run))) else {
            // Its job was deleted while it waited: it ends here, with a reason.
            let mut run = run;
            let from = move_to(&mut run, RunStatus::Cancelled)?;
            run.finished_at = Some(now);
            run.reason = Some(format!(
                "its job {} was deleted before it ran",
                run.job_name
            ));
            fx.forget.push(run.id.clone());
            save_run(txn, &ws, &run, state)?;
            let actor = run.requested_by.clone();
            emit(txn, &ws, &actor, now, Change::RunUpdated { run, from }, fx)?;
            continue;
        };
        let running = per_job
            .get(&(ws.clone(), job.id.clone()))
            .copied()
            .unwrap_or(0);
        if job.concurrency.is_some_and(|limit| running >= limit) {
            continue;
        }
        let pool = candidates.entry(ws.clone()).or_insert_with(|| {
            state
                .workers
                .in_workspace(&ws)
                .into_iter()
                .filter(|(_, e)| {
                    e.connected && e.ready && !e.draining && now - e.last_seen <= lease_ms
                })
                .map(|(id, e)| {
                    let busy = held.get(&(ws.clone(), id.clone())).copied().unwrap_or(0);
                    Candidate {
                        free: e.offer.concurrency.saturating_sub(busy),
                        id,
                        name: e.offer.name,
                        tags: e.offer.tags,
                        agents: e.offer.agents,
                    }
                })
                .collect()
        });
        // The matching worker with the most free places (then by name): work spreads out.
        let chosen = pool
            .iter_mut()
            .filter(|c| {
                c.free > 0
                    && job.tags.iter().all(|t| c.tags.contains(t))
                    && (c.agents || !run.is_agent())
            })
            .max_by(|a, b| a.free.cmp(&b.free).then(b.name.cmp(&a.name)));
        let Some(worker) = chosen else {
            continue;
        };
        worker.free -= 1;
        let worker_id = worker.id.clone();
        *per_job.entry((ws.clone(), job.id.clone())).or_default() += 1;
        let job = (!run.is_agent()).then_some(&job);
        assign(txn, &ws, run, job, &worker_id, (state, fx, now))?;
    }
    Ok(())
}

/// A worker (re)connected saying it holds `held`: assigned runs of its that it does not hold get
/// their `assign` again (the frame may have been lost with the old connection); running ones it
/// does not hold are lost to it (queued again while retries last).
pub fn reattach(
    txn: &WriteTransaction,
    workspace: &Id,
    worker: &Id,
    held: &[Id],
    (state, fx, now): (&RunState, &mut Effects, i64),
) -> Result<(), ApplyError> {
    let mut jobs = HashMap::new();
    for (ws, run) in active_runs(txn, state)? {
        if &ws != workspace || run.worker_id.as_ref() != Some(worker) || held.contains(&run.id) {
            continue;
        }
        if run.is_agent() {
            match run.status {
                RunStatus::Assigned => {
                    super::agent_assign::send(txn, &ws, run, (state, fx, now))?;
                }
                RunStatus::Running => {
                    let why = "its worker reconnected without it";
                    lose(txn, &ws, run, None, why, (state, fx, now))?;
                }
                _ => {}
            }
            continue;
        }
        let job = job_of(txn, &mut jobs, &ws, &run.job_id)?;
        match (run.status, job) {
            (RunStatus::Assigned, Some(job)) => {
                send_assign(txn, &ws, run, &job, (state, fx, now))?;
            }
            (RunStatus::Assigned | RunStatus::Running, job) => {
                let why = "its worker reconnected without it";
                lose(txn, &ws, run, job.as_ref(), why, (state, fx, now))?;
            }
            _ => {}
        }
    }
    fx.schedule = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(8), 256_000);
        assert_eq!(backoff_ms(9), 300_000);
        assert_eq!(backoff_ms(64), 300_000);
    }
}
