//! How jobs and runs read on the command line: `job list`, `job show` (with the recent runs as a
//! small bar chart of durations, coloured by outcome on a terminal), `run list`, `run show` and
//! the one line a started run prints. Pure functions of their inputs (and the local time zone),
//! so their output is unit-tested; every string a person wrote goes through [`sanitize`].

use warren_protocol::run::{Job, Run, RunStatus};

use crate::duration;
use crate::localtime::minutes as local_minutes;
use crate::names::Names;
use crate::output::table;
use crate::param_spec;
use crate::sanitize;

/// How many recent runs `job show` and `job list` judge a job by.
pub const RECENT_RUNS: usize = 20;

/// A one-character sign for a status (the TUI's Runs list uses the same words).
pub fn glyph(status: RunStatus) -> &'static str {
    match status {
        RunStatus::AwaitingApproval => "◇",
        RunStatus::Queued => "○",
        RunStatus::Assigned => "◔",
        RunStatus::Running => "●",
        RunStatus::Succeeded => "✓",
        RunStatus::Failed => "✗",
        RunStatus::Cancelled => "⊘",
        RunStatus::TimedOut => "◷",
        RunStatus::Lost => "?",
        RunStatus::Rejected => "⊗",
        RunStatus::Paused => "⏸",
    }
}

/// A status in words: `awaiting approval`, `timed out`.
pub fn word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::AwaitingApproval => "awaiting approval",
        RunStatus::TimedOut => "timed out",
        other => other.as_str(),
    }
}

/// `✓ succeeded`.
pub fn status_label(status: RunStatus) -> String {
    format!("{} {}", glyph(status), word(status))
}

/// How long a run took, or has taken so far (`now_ms`) while it goes.
pub fn duration_ms(run: &Run, now_ms: i64) -> Option<i64> {
    let started = run.started_at?;
    let end = match run.finished_at {
        Some(end) => end,
        None if run.status == RunStatus::Running => now_ms,
        None => return None,
    };
    Some(end.saturating_sub(started))
}

/// What a job's recent runs say about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobStats {
    /// The newest run's status.
    pub last: Option<RunStatus>,
    /// Succeeded runs among the finished ones (succeeded, finished).
    pub succeeded: usize,
    pub finished: usize,
    /// The median duration of the succeeded runs.
    pub usual_ms: Option<i64>,
}

impl JobStats {
    /// From runs of one job, newest first.
    pub fn of(runs: &[&Run]) -> Self {
        let finished: Vec<&&Run> = runs.iter().filter(|r| r.status.is_final()).collect();
        let mut ok: Vec<i64> = runs
            .iter()
            .filter(|r| r.status == RunStatus::Succeeded)
            .filter_map(|r| duration_ms(r, 0))
            .collect();
        ok.sort_unstable();
        Self {
            last: runs.first().map(|r| r.status),
            succeeded: finished
                .iter()
                .filter(|r| r.status == RunStatus::Succeeded)
                .count(),
            finished: finished.len(),
            usual_ms: ok.get(ok.len() / 2).copied(),
        }
    }

    /// `80% of 5`, or `-` before any run finished.
    pub fn rate(&self) -> String {
        if self.finished == 0 {
            return "-".to_owned();
        }
        format!(
            "{}% of {}",
            self.succeeded * 100 / self.finished,
            self.finished
        )
    }
}

fn params_summary(job: &Job) -> String {
    if job.params.is_empty() {
        return "-".to_owned();
    }
    job.params
        .iter()
        .map(|p| sanitize::line(&p.name))
        .collect::<Vec<_>>()
        .join(",")
}

fn tags(list: &[String]) -> String {
    if list.is_empty() {
        return "-".to_owned();
    }
    list.iter()
        .map(|t| sanitize::line(t))
        .collect::<Vec<_>>()
        .join(",")
}

/// The runs of `job` among `runs` (newest first), at most [`RECENT_RUNS`].
pub fn runs_of<'a>(job: &Job, runs: &'a [Run]) -> Vec<&'a Run> {
    runs.iter()
        .filter(|r| r.job_id == job.id)
        .take(RECENT_RUNS)
        .collect()
}

/// `warren job list`: name, parameters, tags, protected, last run and success rate.
pub fn format_jobs(jobs: &[Job], runs: &[Run]) -> String {
    if jobs.is_empty() {
        return "no jobs yet; add one with 'warren job add NAME --command CMD'\n".to_owned();
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            let stats = JobStats::of(&runs_of(job, runs));
            vec![
                sanitize::line(&job.name),
                params_summary(job),
                tags(&job.tags),
                if job.protected { "yes" } else { "-" }.to_owned(),
                stats.last.map_or("-".to_owned(), status_label),
                stats.rate(),
            ]
        })
        .collect();
    table(
        &["JOB", "PARAMS", "TAGS", "PROTECTED", "LAST RUN", "SUCCESS"],
        &rows,
    )
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The SGR colour of an outcome in the bar chart.
fn outcome_colour(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Succeeded => "32",
        RunStatus::Failed | RunStatus::Lost => "31",
        RunStatus::Running | RunStatus::Assigned => "36",
        _ => "33",
    }
}

/// Recent runs' durations as bars, oldest on the left. In colour each bar has its outcome's
/// colour (green succeeded, red failed or lost, yellow cancelled, timed out or rejected, cyan
/// going); without colour a second line gives each run's glyph.
pub fn bar_chart(runs: &[&Run], colour: bool, now_ms: i64) -> String {
    let ordered: Vec<&&Run> = runs.iter().rev().collect();
    let durations: Vec<i64> = ordered
        .iter()
        .map(|r| duration_ms(r, now_ms).unwrap_or(0))
        .collect();
    let max = durations.iter().copied().max().unwrap_or(0).max(1);
    let mut bars = String::new();
    let mut signs = String::new();
    for (run, ms) in ordered.iter().zip(&durations) {
        let level = usize::try_from(ms.saturating_mul(7) / max)
            .unwrap_or(0)
            .min(7);
        let bar = BARS[level];
        if colour {
            bars.push_str(&format!(
                "\u{1b}[{}m{bar}\u{1b}[0m",
                outcome_colour(run.status)
            ));
        } else {
            bars.push(bar);
        }
        signs.push_str(glyph(run.status));
    }
    if colour {
        format!("{bars}\n")
    } else {
        format!("{bars}\n{signs}\n")
    }
}

/// `warren job show`: every field of the job, then its recent runs (newest first).
pub fn format_job_detail(
    job: &Job,
    runs: &[&Run],
    names: &Names,
    colour: bool,
    now_ms: i64,
) -> String {
    let mut out = format!("{}\n", sanitize::line(&job.name));
    let mut field = |key: &str, value: String| out.push_str(&format!("  {key:<12}{value}\n"));
    field("id", job.id.to_string());
    field("command", sanitize::line(&job.command));
    if !job.description.is_empty() {
        field("description", sanitize::line(&job.description));
    }
    let params: Vec<String> = job
        .params
        .iter()
        .map(|p| sanitize::line(&param_spec::describe(p)))
        .collect();
    field(
        "params",
        if params.is_empty() {
            "-".to_owned()
        } else {
            params.join(" ")
        },
    );
    field("timeout", duration::format_secs_exact(job.timeout_secs));
    field("retries", job.retries.to_string());
    field("tags", tags(&job.tags));
    field(
        "protected",
        if job.protected {
            "yes: runs wait for an approval"
        } else {
            "no"
        }
        .to_owned(),
    );
    field(
        "concurrency",
        job.concurrency
            .map_or("no limit".to_owned(), |n| n.to_string()),
    );
    field(
        "created",
        format!(
            "{} by {}",
            local_minutes(job.created_at),
            names.member(&job.created_by)
        ),
    );
    field("updated", local_minutes(job.updated_at));
    let stats = JobStats::of(runs);
    out.push('\n');
    if runs.is_empty() {
        out.push_str(&format!(
            "no runs yet; start one with 'warren job run {}'\n",
            sanitize::line(&job.name)
        ));
        return out;
    }
    out.push_str(&format!(
        "recent runs: {}  success {}  usual duration {}\n",
        runs.len(),
        stats.rate(),
        stats.usual_ms.map_or("-".to_owned(), duration::format_ms)
    ));
    for line in bar_chart(runs, colour, now_ms).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push('\n');
    out.push_str(&format_runs(runs, names, now_ms));
    out
}

/// `warren run list`: status, number, job, who, started, duration, worker, card.
pub fn format_runs(runs: &[&Run], names: &Names, now_ms: i64) -> String {
    if runs.is_empty() {
        return "no runs match\n".to_owned();
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                status_label(r.status),
                r.label(),
                sanitize::line(&r.job_name),
                names.member(&r.requested_by),
                r.started_at.map_or("-".to_owned(), local_minutes),
                duration_ms(r, now_ms).map_or("-".to_owned(), duration::format_ms),
                r.worker_id
                    .as_ref()
                    .map_or("-".to_owned(), |w| names.member(w)),
                r.card_id
                    .as_ref()
                    .map_or("-".to_owned(), |c| names.card_number(c)),
            ]
        })
        .collect();
    table(
        &[
            "STATUS", "RUN", "JOB", "WHO", "STARTED", "DURATION", "WORKER", "CARD",
        ],
        &rows,
    )
}

/// A run's parameters as `name=value`, secrets masked whatever the record says.
pub fn params_line(run: &Run) -> String {
    if run.params.is_empty() {
        return "-".to_owned();
    }
    run.params
        .iter()
        .map(|p| {
            let value = if p.secret {
                warren_protocol::run::MASK.to_owned()
            } else {
                sanitize::line(&p.value)
            };
            format!("{}={value}", sanitize::line(&p.name))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `warren run show`: the run's header.
pub fn format_run_detail(run: &Run, names: &Names, now_ms: i64) -> String {
    let mut out = format!(
        "{} {}  {}\n",
        run.label(),
        sanitize::line(&run.job_name),
        status_label(run.status)
    );
    let mut field = |key: &str, value: String| out.push_str(&format!("  {key:<11}{value}\n"));
    field("id", run.id.to_string());
    field("params", params_line(run));
    field(
        "requested",
        format!(
            "{} by {}",
            local_minutes(run.created_at),
            names.member(&run.requested_by)
        ),
    );
    if let Some(by) = &run.decided_by {
        let verb = match run.status {
            RunStatus::Rejected => "rejected by",
            RunStatus::Cancelled => "cancelled by",
            _ => "approved by",
        };
        field("decided", format!("{verb} {}", names.member(by)));
    }
    if let Some(at) = run.queued_at {
        field("queued", local_minutes(at));
    }
    if let Some(at) = run.started_at {
        field("started", local_minutes(at));
    }
    if let Some(at) = run.finished_at {
        field("finished", local_minutes(at));
    }
    if let Some(ms) = duration_ms(run, now_ms) {
        field("duration", duration::format_ms(ms));
    }
    if let Some(worker) = &run.worker_id {
        field("worker", names.member(worker));
    }
    if let Some(card) = &run.card_id {
        field("card", names.card(card));
    }
    if let Some(room) = &run.room_id {
        field("room", names.room(room));
    }
    if run.attempt > 1 {
        field("attempt", run.attempt.to_string());
    }
    if let Some(code) = run.exit_code {
        field("exit code", code.to_string());
    }
    field("lines", run.lines.to_string());
    if let Some(reason) = &run.reason {
        field("reason", sanitize::line(reason));
    }
    out
}

/// What `job run` and `run retry` print: `r7 queued`, or how to get a protected run approved.
pub fn format_started(run: &Run) -> String {
    match run.status {
        RunStatus::AwaitingApproval => format!(
            "{} awaiting approval — ask an admin: warren run approve {}",
            run.label(),
            run.label()
        ),
        other => format!("{} {}", run.label(), word(other)),
    }
}

#[cfg(test)]
pub(crate) mod tests;
