//! Jobs: creating, changing and deleting the named shell commands that runs execute. Names are
//! unique in a workspace ignoring ASCII case; every change is audited (`job.create`,
//! `job.update`, `job.delete`).

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::run::{DEFAULT_TIMEOUT_SECS, Job, ParamSpec};
use warren_protocol::{Change, ErrorCode, Id};

use super::{ApplyError, Ctx, job_rules as rules, pick_id, text};
use crate::audit::{details, target};
use crate::store::encode;
use crate::store::read::{get_json, list_in_workspace};
use crate::store::tables::JOBS;

/// The fields of a `create_job` command.
pub struct NewJob<'a> {
    pub job_id: Option<&'a Id>,
    pub name: &'a str,
    pub command: &'a str,
    pub description: &'a str,
    pub params: &'a [ParamSpec],
    pub timeout_secs: Option<u64>,
    pub retries: u32,
    pub tags: &'a [String],
    pub protected: bool,
    pub concurrency: Option<u32>,
}

/// The fields of an `update_job` command (absent: unchanged).
pub struct JobChanges<'a> {
    pub name: Option<&'a str>,
    pub command: Option<&'a str>,
    pub description: Option<&'a str>,
    pub params: Option<&'a [ParamSpec]>,
    pub timeout_secs: Option<u64>,
    pub retries: Option<u32>,
    pub tags: Option<&'a [String]>,
    pub protected: Option<bool>,
    pub concurrency: Option<Option<u32>>,
}

/// Loads a job of the workspace or says how to find one.
pub fn load(txn: &WriteTransaction, ctx: &Ctx<'_>, job_id: &Id) -> Result<Job, ApplyError> {
    get_json(&txn.open_table(JOBS)?, "jobs", (ctx.ws(), job_id.as_str()))?.ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no job {job_id} in this workspace; list jobs with `warren job list`"),
        )
    })
}

fn name_taken(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    name: &str,
    except: Option<&Id>,
) -> Result<(), ApplyError> {
    let jobs: Vec<Job> = list_in_workspace(&txn.open_table(JOBS)?, "jobs", ctx.ws())?;
    text::refuse_taken_name(
        "job",
        name,
        except,
        jobs.iter().map(|x| (x.name.as_str(), &x.id)),
    )
}

fn store(txn: &WriteTransaction, ctx: &Ctx<'_>, job: &Job) -> Result<(), ApplyError> {
    txn.open_table(JOBS)?
        .insert((ctx.ws(), job.id.as_str()), encode("jobs", job)?.as_slice())?;
    Ok(())
}

pub fn create_job(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    new: &NewJob<'_>,
) -> Result<Change, ApplyError> {
    let name = rules::name(new.name)?;
    let job = Job {
        id: pick_id(new.job_id, "job")?,
        command: rules::command(new.command)?,
        description: rules::description(new.description)?,
        params: rules::params(new.params)?,
        timeout_secs: rules::timeout(new.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS))?,
        retries: rules::retries(new.retries)?,
        tags: rules::tags(new.tags)?,
        protected: new.protected,
        concurrency: rules::concurrency(new.concurrency)?,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
        name,
    };
    if txn
        .open_table(JOBS)?
        .get((ctx.ws(), job.id.as_str()))?
        .is_some()
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("job {} already exists", job.id),
        ));
    }
    name_taken(txn, ctx, &job.name, None)?;
    store(txn, ctx, &job)?;
    ctx.audit(
        txn,
        "job.create",
        Some(target::job(&job)),
        details([("protected", if job.protected { "true" } else { "false" })]),
    )?;
    Ok(Change::JobCreated { job })
}

pub fn update_job(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    job_id: &Id,
    changes: &JobChanges<'_>,
) -> Result<Change, ApplyError> {
    let mut job = load(txn, ctx, job_id)?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(name) = changes.name {
        let name = rules::name(name)?;
        name_taken(txn, ctx, &name, Some(&job.id))?;
        job.name = name;
        changed.push("name");
    }
    if let Some(command) = changes.command {
        job.command = rules::command(command)?;
        changed.push("command");
    }
    if let Some(description) = changes.description {
        job.description = rules::description(description)?;
        changed.push("description");
    }
    if let Some(params) = changes.params {
        job.params = rules::params(params)?;
        changed.push("params");
    }
    if let Some(timeout) = changes.timeout_secs {
        job.timeout_secs = rules::timeout(timeout)?;
        changed.push("timeout");
    }
    if let Some(retries) = changes.retries {
        job.retries = rules::retries(retries)?;
        changed.push("retries");
    }
    if let Some(tags) = changes.tags {
        job.tags = rules::tags(tags)?;
        changed.push("tags");
    }
    if let Some(protected) = changes.protected {
        job.protected = protected;
        changed.push("protected");
    }
    if let Some(concurrency) = changes.concurrency {
        job.concurrency = rules::concurrency(concurrency)?;
        changed.push("concurrency");
    }
    job.updated_at = ctx.now;
    store(txn, ctx, &job)?;
    ctx.audit_update(txn, "job.update", target::job(&job), &changed)?;
    Ok(Change::JobUpdated { job })
}

pub fn delete_job(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    job_id: &Id,
) -> Result<Change, ApplyError> {
    let job = load(txn, ctx, job_id)?;
    txn.open_table(JOBS)?.remove((ctx.ws(), job.id.as_str()))?;
    ctx.audit(txn, "job.delete", Some(target::job(&job)), details([]))?;
    Ok(Change::JobDeleted { job_id: job.id })
}
