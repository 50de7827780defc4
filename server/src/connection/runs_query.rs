//! The runs domain's queries: `jobs`, `runs` (filters, pages by number, newest first), `run`
//! (by number, with an agent run's steps) and `workers` (stored records joined with the live registry: idle, busy,
//! draining or offline, and the runs each holds).

use std::collections::BTreeMap;

use warren_protocol::limits::MAX_PAGE;
use warren_protocol::run::{RunStatus, WorkerInfo, WorkerState};
use warren_protocol::{Id, QueryResult};

use crate::app::App;
use crate::service::now_ms;
use crate::store::StoreError;
use crate::store::run_reads::{self, RunFilter};
use crate::store::tables::JOBS;

/// Every job of the workspace.
pub async fn jobs(app: &App, workspace: Id) -> Result<QueryResult, StoreError> {
    app.read(move |s| {
        let txn = s.begin_read()?;
        let jobs = run_reads::jobs(&txn.open_table(JOBS)?, workspace.as_str())?;
        Ok(QueryResult::Jobs { jobs })
    })
    .await
}

/// A page of runs.
pub async fn runs(
    app: &App,
    workspace: Id,
    mut filter: RunFilter,
) -> Result<QueryResult, StoreError> {
    filter.limit = filter.limit.clamp(1, MAX_PAGE);
    app.read(move |s| {
        let (runs, has_more) = run_reads::runs_page(&s.begin_read()?, workspace.as_str(), &filter)?;
        Ok(QueryResult::Runs { runs, has_more })
    })
    .await
}

/// One run by number, if it exists.
pub async fn run(app: &App, workspace: Id, number: u64) -> Result<Option<QueryResult>, StoreError> {
    app.read(move |s| {
        let txn = s.begin_read()?;
        let Some(run) = run_reads::run_by_number(&txn, workspace.as_str(), number)? else {
            return Ok(None);
        };
        let steps = if run.is_agent() {
            crate::service::agent_runs::steps::all(
                &txn.open_table(crate::store::tables::STEPS)?,
                workspace.as_str(),
                run.id.as_str(),
            )?
        } else {
            Vec::new()
        };
        Ok(Some(QueryResult::Run { run, steps }))
    })
    .await
}

/// Every worker that has said hello to the workspace, by name.
pub async fn workers(app: &App, workspace: Id) -> Result<QueryResult, StoreError> {
    let ws = workspace.clone();
    let (records, unfinished) = app
        .read(move |s| {
            let txn = s.begin_read()?;
            Ok((
                run_reads::workers(&txn, ws.as_str())?,
                run_reads::unfinished_runs(&txn, ws.as_str())?,
            ))
        })
        .await?;
    let mut holding: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
    for run in unfinished {
        if let (Some(worker), RunStatus::Assigned | RunStatus::Running) =
            (run.worker_id, run.status)
        {
            holding.entry(worker).or_default().push(run.id);
        }
    }
    let mut out: BTreeMap<Id, WorkerInfo> = BTreeMap::new();
    for record in records {
        out.insert(
            record.user_id.clone(),
            WorkerInfo {
                runs: holding.get(&record.user_id).cloned().unwrap_or_default(),
                user_id: record.user_id,
                name: record.name,
                state: WorkerState::Offline,
                tags: record.tags,
                concurrency: record.concurrency,
                last_seen: Some(record.last_seen),
                version: record.version,
            },
        );
    }
    let lease_ms = (app.runs.lease_secs * 1000) as i64;
    let now = now_ms();
    for (id, entry) in app.runs.workers.in_workspace(&workspace) {
        let runs = holding.get(&id).cloned().unwrap_or_default();
        let state = if !entry.connected || now - entry.last_seen > lease_ms {
            WorkerState::Offline
        } else if entry.draining {
            WorkerState::Draining
        } else if runs.len() as u32 >= entry.offer.concurrency {
            WorkerState::Busy
        } else {
            WorkerState::Idle
        };
        let last_seen = out
            .get(&id)
            .and_then(|w| w.last_seen)
            .map_or(entry.last_seen, |t| t.max(entry.last_seen));
        out.insert(
            id.clone(),
            WorkerInfo {
                user_id: id,
                name: entry.offer.name,
                state,
                tags: entry.offer.tags,
                concurrency: entry.offer.concurrency,
                last_seen: Some(last_seen),
                runs,
                version: entry.offer.version,
            },
        );
    }
    let mut workers: Vec<WorkerInfo> = out.into_values().collect();
    workers.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    Ok(QueryResult::Workers { workers })
}
