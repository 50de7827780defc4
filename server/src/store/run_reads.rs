//! Reads of the runs domain over committed state: jobs by name, runs newest first (filtered and
//! paged by number), one run by number, the runs a snapshot carries (unfinished ones and the
//! last [`SNAPSHOT_FINISHED_RUNS`] finished), and the stored worker records.

use redb::ReadableTable;
use warren_protocol::Id;
use warren_protocol::run::{Job, Run, RunStatus};

use super::read::{get_json, list_in_workspace};
use super::records::WorkerRecord;
use super::tables::{RUN_NUMBERS, RUNS, WORKERS};
use super::{StoreError, decode};

/// Finished runs a snapshot carries (all unfinished ones come too).
pub const SNAPSHOT_FINISHED_RUNS: usize = 200;

/// Every job of the workspace, by name (ignoring ASCII case).
pub fn jobs(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    workspace: &str,
) -> Result<Vec<Job>, StoreError> {
    let mut jobs: Vec<Job> = list_in_workspace(table, "jobs", workspace)?;
    jobs.sort_by_key(|j| j.name.to_ascii_lowercase());
    Ok(jobs)
}

/// What a `runs` query selects.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    /// A job id or name (ignoring ASCII case).
    pub job: Option<String>,
    /// Created at or after (ms).
    pub since: Option<i64>,
    /// Numbers below this one.
    pub before: Option<u64>,
    pub limit: usize,
}

impl RunFilter {
    fn matches(&self, run: &Run) -> bool {
        self.status.is_none_or(|s| run.status == s)
            && self.since.is_none_or(|t| run.created_at >= t)
            && self
                .job
                .as_deref()
                .is_none_or(|j| run.job_id.as_str() == j || run.job_name.eq_ignore_ascii_case(j))
    }
}

/// Walks the workspace's runs newest first, calling `visit` until it returns false.
fn newest_first(
    txn: &redb::ReadTransaction,
    workspace: &str,
    before: Option<u64>,
    mut visit: impl FnMut(Run) -> bool,
) -> Result<(), StoreError> {
    let numbers = txn.open_table(RUN_NUMBERS)?;
    let runs = txn.open_table(RUNS)?;
    let end = before.unwrap_or(u64::MAX);
    for entry in numbers.range((workspace, 0)..(workspace, end))?.rev() {
        let (_, run_id) = entry?;
        let run: Option<Run> = get_json(&runs, "runs", (workspace, run_id.value()))?;
        if let Some(run) = run
            && !visit(run)
        {
            break;
        }
    }
    Ok(())
}

/// A page of runs, newest first, and whether older ones match too.
pub fn runs_page(
    txn: &redb::ReadTransaction,
    workspace: &str,
    filter: &RunFilter,
) -> Result<(Vec<Run>, bool), StoreError> {
    let limit = filter.limit.max(1);
    let mut out = Vec::new();
    let mut more = false;
    newest_first(txn, workspace, filter.before, |run| {
        if !filter.matches(&run) {
            return true;
        }
        if out.len() == limit {
            more = true;
            return false;
        }
        out.push(run);
        true
    })?;
    Ok((out, more))
}

/// The run numbered `number`.
pub fn run_by_number(
    txn: &redb::ReadTransaction,
    workspace: &str,
    number: u64,
) -> Result<Option<Run>, StoreError> {
    let Some(id) = txn
        .open_table(RUN_NUMBERS)?
        .get((workspace, number))?
        .map(|g| g.value().to_owned())
    else {
        return Ok(None);
    };
    get_json(&txn.open_table(RUNS)?, "runs", (workspace, id.as_str()))
}

/// The runs of a snapshot: every unfinished run and the newest finished ones, newest first.
pub fn snapshot_runs(txn: &redb::ReadTransaction, workspace: &str) -> Result<Vec<Run>, StoreError> {
    let mut finished = 0;
    let mut out = Vec::new();
    newest_first(txn, workspace, None, |run| {
        if run.status.is_final() {
            if finished < SNAPSHOT_FINISHED_RUNS {
                finished += 1;
                out.push(run);
            }
        } else {
            out.push(run);
        }
        true
    })?;
    Ok(out)
}

/// Every unfinished run of the workspace.
pub fn unfinished_runs(
    txn: &redb::ReadTransaction,
    workspace: &str,
) -> Result<Vec<Run>, StoreError> {
    let table = txn.open_table(RUNS)?;
    let all: Vec<Run> = list_in_workspace(&table, "runs", workspace)?;
    Ok(all.into_iter().filter(|r| !r.status.is_final()).collect())
}

/// The stored record of every worker of the workspace.
pub fn workers(
    txn: &redb::ReadTransaction,
    workspace: &str,
) -> Result<Vec<WorkerRecord>, StoreError> {
    let table = txn.open_table(WORKERS)?;
    let mut out = Vec::new();
    for entry in table.range((workspace, "")..)? {
        let (key, value) = entry?;
        if key.value().0 != workspace {
            break;
        }
        out.push(decode("workers", value.value())?);
    }
    Ok(out)
}

/// The run `run_id` of the workspace.
pub fn run(
    txn: &redb::ReadTransaction,
    workspace: &Id,
    run_id: &Id,
) -> Result<Option<Run>, StoreError> {
    get_json(
        &txn.open_table(RUNS)?,
        "runs",
        (workspace.as_str(), run_id.as_str()),
    )
}
