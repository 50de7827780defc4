//! `warren run …` (list, show, cancel, approve, reject, retry, export; for agent runs, `show`
//! lists the steps and `approve`/`reject` decide the tool call the run waits on) and what
//! `job run` shares with it: finding a run by `r7`, `7` or id, gathering parameter values (secrets from `@env:VAR` or
//! a prompt without echo, never printed), and turning how a followed run ended into the exit
//! code.

use std::collections::BTreeMap;

use warren_protocol::run::{Job, ParamKind, Run, RunStatus};
use warren_protocol::step::{Decision, RunStep, StepDetail};
use warren_protocol::{Change, Command, Query, QueryResult};

use crate::agent_output::{AgentNames, export, steps};
use crate::cli::{RunCommand, RunExportFormat, RunListArgs};
use crate::commands::Out;
use crate::commands::log;
use crate::error::ClientError;
use crate::names::Names;
use crate::param_spec::{self, ValueSource};
use crate::resolve::{RunRef, find_job, parse_run_ref};
use crate::run_output;
use crate::sanitize;
use crate::session::Session;

/// Pages of `runs` asked for when looking a run up by id.
const ID_SEARCH_PAGES: usize = 20;

pub(super) async fn run(
    command: RunCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        RunCommand::List(args) => list(args, session, out).await,
        RunCommand::Show { run } => {
            let (run, steps) = find_run_steps(session, &parse_run_ref(&run)?).await?;
            let state = session.snapshot().await?;
            let now = crate::tui::app::now_ms();
            if run.is_agent() {
                // JSON: the run, then one line per step (as `job show` prints a job, then runs).
                if out.is_json() {
                    out.json(&run)?;
                    for step in &steps {
                        out.json(step)?;
                    }
                    return Ok(());
                }
                let names = AgentNames::from_state(&state);
                return out.text(&steps::format_agent_run(&run, &steps, &names, now));
            }
            let names = Names::from_state(&state);
            out.either(&run, || run_output::format_run_detail(&run, &names, now))
        }
        RunCommand::Export {
            run,
            format,
            output,
        } => export(&run, format, output.as_deref(), session, out).await,
        RunCommand::Cancel { run, reason } => {
            let run = find_run(session, &parse_run_ref(&run)?).await?;
            let run_id = run.id.clone();
            decide(
                session,
                out,
                Command::CancelRun { run_id, reason },
                "cancel",
            )
            .await
        }
        RunCommand::Approve { run, always } => {
            let (run, steps) = find_run_steps(session, &parse_run_ref(&run)?).await?;
            if run.is_agent() {
                let decision = if always {
                    Decision::ApproveAlways
                } else {
                    Decision::ApproveOnce
                };
                return decide_tool(session, out, &run, &steps, decision, None).await;
            }
            if always {
                return Err(ClientError::Usage(format!(
                    "--always is for an agent's tool call; {} is a run of the job {}, approved once with 'warren run approve {}'",
                    run.label(),
                    sanitize::line(&run.job_name),
                    run.label()
                )));
            }
            let run_id = run.id.clone();
            decide(session, out, Command::ApproveRun { run_id }, "approve").await
        }
        RunCommand::Reject { run, reason } => {
            let (run, steps) = find_run_steps(session, &parse_run_ref(&run)?).await?;
            if run.is_agent() {
                return decide_tool(session, out, &run, &steps, Decision::Reject, reason).await;
            }
            let run_id = run.id.clone();
            decide(
                session,
                out,
                Command::RejectRun { run_id, reason },
                "reject",
            )
            .await
        }
        RunCommand::Retry {
            run,
            params,
            follow,
        } => {
            let old = find_run(session, &parse_run_ref(&run)?).await?;
            let jobs = jobs(session).await?;
            let job = find_job(&jobs, old.job_id.as_str()).map_err(|_| {
                ClientError::NotFound(format!(
                    "the job of {} ({}) was deleted, so it cannot run again; add it back with 'warren job add'",
                    old.label(),
                    sanitize::line(&old.job_name)
                ))
            })?;
            let params = collect_params(job, &params, false).await?;
            let ack = session
                .command(Command::RetryRun {
                    run_id: old.id.clone(),
                    new_run_id: None,
                    params,
                })
                .await?;
            let Change::RunCreated { run } = ack.event.change else {
                return Err(ClientError::Protocol("expected run_created".to_owned()));
            };
            out.either(&run, || {
                format!(
                    "{} (retry of {})",
                    run_output::format_started(&run),
                    old.label()
                )
            })?;
            if follow {
                return follow_to_the_end(session, out, &run).await;
            }
            Ok(())
        }
    }
}

/// Sends a cancel, approve or reject and prints where the run went.
async fn decide(
    session: &mut Session,
    out: &mut Out,
    command: Command,
    verb: &str,
) -> Result<(), ClientError> {
    let ack = session.command(command).await?;
    let Change::RunUpdated { run, from } = ack.event.change else {
        return Err(ClientError::Protocol(format!(
            "expected run_updated after {verb}"
        )));
    };
    out.either(&run, || {
        let mut text = format!(
            "{} {} → {}",
            run.label(),
            run_output::word(from),
            run_output::word(run.status)
        );
        if verb == "cancel" && !run.status.is_final() {
            text.push_str(" (its worker is stopping it)");
        }
        text
    })
}

async fn list(args: RunListArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let since = args
        .since
        .map(|age| crate::tui::app::now_ms().saturating_sub(age));
    let mut runs: Vec<Run> = Vec::new();
    let mut before = None;
    loop {
        let want = (args.limit - runs.len().min(args.limit)).min(warren_protocol::limits::MAX_PAGE);
        if want == 0 {
            break;
        }
        let result = session
            .query(Query::Runs {
                status: args.status,
                job: args.job.clone(),
                since,
                before,
                limit: u32::try_from(want).unwrap_or(u32::MAX),
            })
            .await?;
        let QueryResult::Runs {
            runs: page,
            has_more,
        } = result
        else {
            return Err(ClientError::Protocol("expected a runs result".to_owned()));
        };
        let more = has_more && !page.is_empty();
        before = page.last().map(|r| r.number);
        runs.extend(page);
        if !more {
            break;
        }
    }
    if out.is_json() {
        for run in &runs {
            out.json(run)?;
        }
        return Ok(());
    }
    let names = Names::from_state(&session.snapshot().await?);
    let refs: Vec<&Run> = runs.iter().collect();
    out.text(&run_output::format_runs(
        &refs,
        &names,
        crate::tui::app::now_ms(),
    ))
}

/// Approves or rejects the tool call an agent run waits on (`decide_tool`).
async fn decide_tool(
    session: &mut Session,
    out: &mut Out,
    run: &Run,
    steps: &[RunStep],
    decision: Decision,
    reason: Option<String>,
) -> Result<(), ClientError> {
    let label = run.label();
    let Some(step) = steps::waiting_step(steps) else {
        return Err(ClientError::Usage(format!(
            "{label} waits for no decision (it is {}); see its steps with 'warren run show {label}'",
            run_output::word(run.status)
        )));
    };
    let tool = match &step.detail {
        StepDetail::ToolCall(t) => t
            .tool
            .map_or_else(|| sanitize::line(&t.name), |t| t.as_str().to_owned()),
        StepDetail::ModelCall(_) => "the call".to_owned(),
    };
    let ack = session
        .command(Command::DecideTool {
            run_id: run.id.clone(),
            step: step.n,
            decision,
            reason,
        })
        .await?;
    out.either(&ack.event.change, || {
        let name = sanitize::line(&run.job_name);
        match decision {
            Decision::ApproveOnce => {
                format!("approved {tool} for {label} (this call only); @{name} goes on")
            }
            Decision::ApproveAlways => format!(
                "approved {tool} for {label}, and from now on for @{name} without asking (revoke with 'warren approvals revoke ID'; see 'warren approvals list')"
            ),
            Decision::Reject => {
                format!("rejected {tool} for {label}; @{name} hears why and goes on")
            }
        }
    })
}

/// `run export`: the run and its steps as Markdown or as the `run` query's JSON.
async fn export(
    key: &str,
    format: RunExportFormat,
    output: Option<&std::path::Path>,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let (run, steps) = find_run_steps(session, &parse_run_ref(key)?).await?;
    let text = if out.is_json() || format == RunExportFormat::Json {
        let result = QueryResult::Run {
            run: run.clone(),
            steps,
        };
        serde_json::to_string_pretty(&result).map_err(|e| ClientError::Protocol(e.to_string()))?
            + "\n"
    } else {
        let names = AgentNames::from_state(&session.snapshot().await?);
        export::markdown(&run, &steps, &names, crate::tui::app::now_ms())
    };
    match output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| ClientError::Usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {} to {}", run.label(), path.display());
            Ok(())
        }
        None => out.raw(&text),
    }
}

/// A run and its steps (none for a job run), by number or id.
pub(super) async fn find_run_steps(
    session: &Session,
    run: &RunRef,
) -> Result<(Run, Vec<RunStep>), ClientError> {
    let number = match run {
        RunRef::Number(n) => *n,
        RunRef::Id(_) => find_run(session, run).await?.number,
    };
    match session.query(Query::Run { number }).await {
        Ok(QueryResult::Run { run, steps }) => Ok((run, steps)),
        Ok(_) => Err(ClientError::Protocol("expected a run result".to_owned())),
        Err(ClientError::Server(wire)) if wire.code == warren_protocol::ErrorCode::NotFound => {
            Err(ClientError::NotFound(format!(
                "no run {run} in this workspace; list runs with 'warren run list'"
            )))
        }
        Err(e) => Err(e),
    }
}

/// Every job of the workspace.
pub(super) async fn jobs(session: &Session) -> Result<Vec<Job>, ClientError> {
    match session.query(Query::Jobs).await? {
        QueryResult::Jobs { jobs } => Ok(jobs),
        _ => Err(ClientError::Protocol("expected a jobs result".to_owned())),
    }
}

/// Finds a run by number (one `run` query) or by id (the snapshot's recent runs, then pages of
/// older ones).
pub(super) async fn find_run(session: &Session, run: &RunRef) -> Result<Run, ClientError> {
    let not_found = || {
        ClientError::NotFound(format!(
            "no run {run} in this workspace; list runs with 'warren run list'"
        ))
    };
    match run {
        RunRef::Number(number) => match session.query(Query::Run { number: *number }).await {
            Ok(QueryResult::Run { run, .. }) => Ok(run),
            Ok(_) => Err(ClientError::Protocol("expected a run result".to_owned())),
            Err(ClientError::Server(wire)) if wire.code == warren_protocol::ErrorCode::NotFound => {
                Err(not_found())
            }
            Err(e) => Err(e),
        },
        RunRef::Id(id) => {
            let mut before = None;
            for _ in 0..ID_SEARCH_PAGES {
                let result = session
                    .query(Query::Runs {
                        status: None,
                        job: None,
                        since: None,
                        before,
                        limit: u32::try_from(warren_protocol::limits::MAX_PAGE).unwrap_or(u32::MAX),
                    })
                    .await?;
                let QueryResult::Runs { runs, has_more } = result else {
                    return Err(ClientError::Protocol("expected a runs result".to_owned()));
                };
                if let Some(found) = runs.iter().find(|r| &r.id == id) {
                    return Ok(found.clone());
                }
                match runs.last() {
                    Some(last) if has_more => before = Some(last.number),
                    _ => break,
                }
            }
            Err(not_found())
        }
    }
}

/// The values to start `job` with, from `-p` arguments: checked against their kinds here (the
/// server checks again), secrets read from `@env:VAR` or asked for without echo when stdin is a
/// terminal. Says on stderr where each secret came from, never what it is. With
/// `require_all` (a new run), a parameter without a default must be given.
pub(super) async fn collect_params(
    job: &Job,
    given: &[String],
    require_all: bool,
) -> Result<BTreeMap<String, String>, ClientError> {
    let job_name = sanitize::line(&job.name);
    let mut values = BTreeMap::new();
    for text in given {
        let (key, source) = param_spec::parse_assignment(text).map_err(ClientError::Usage)?;
        let Some(spec) = job.params.iter().find(|p| p.name == key) else {
            let known: Vec<&str> = job.params.iter().map(|p| p.name.as_str()).collect();
            return Err(ClientError::Usage(format!(
                "job {job_name} has no parameter {key:?} (its parameters: {}); see 'warren job show {job_name}'",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let secret = spec.kind == ParamKind::Secret;
        let value = match source {
            ValueSource::Literal(value) => {
                if secret {
                    eprintln!(
                        "warren: note: the secret {key} was written on the command line, so it is in your shell history; -p {key}=@env:VAR keeps it out"
                    );
                }
                value
            }
            ValueSource::Env(var) => {
                let value = std::env::var(&var).map_err(|_| {
                    ClientError::Usage(format!(
                        "-p {key}=@env:{var}: the environment variable {var} is not set (or not UTF-8); export it first"
                    ))
                })?;
                if secret {
                    eprintln!("warren: secret {key} read from ${var}");
                }
                value
            }
        };
        if !secret {
            param_spec::check_value(spec, &value).map_err(|why| {
                ClientError::Usage(format!(
                    "-p {key}: {why}; see 'warren job show {job_name}' for its type"
                ))
            })?;
        }
        values.insert(key, value);
    }
    for spec in &job.params {
        if values.contains_key(&spec.name) || spec.default.is_some() {
            continue;
        }
        let name = &spec.name;
        if spec.kind == ParamKind::Secret {
            if !crate::secret_prompt::can_prompt() {
                return Err(ClientError::Usage(format!(
                    "job {job_name} needs the secret {name}: pass -p {name}=@env:VAR (it is asked for only on a terminal)"
                )));
            }
            let value =
                crate::secret_prompt::ask(format!("secret {name} for {job_name} (not shown): "))
                    .await?;
            eprintln!("warren: secret {name} read from the terminal");
            values.insert(name.clone(), value);
        } else if require_all {
            return Err(ClientError::Usage(format!(
                "job {job_name} needs -p {name}=VALUE ({}); see 'warren job show {job_name}'",
                param_spec::describe(spec)
            )));
        }
    }
    Ok(values)
}

/// Streams a run's log to its end and turns how it ended into the exit status.
pub(super) async fn follow_to_the_end(
    session: &mut Session,
    out: &mut Out,
    run: &Run,
) -> Result<(), ClientError> {
    let options = log::Options::for_follow(out.is_json());
    log::follow(session, out, run, &options).await?;
    let finished = find_run(session, &RunRef::Number(run.number)).await?;
    outcome(&finished)
}

/// `Ok` for a succeeded run; else the one-line reason and the exit code: the job's own for a
/// failure with one, 1 for everything else.
pub fn outcome(run: &Run) -> Result<(), ClientError> {
    let label = run.label();
    let reason = run
        .reason
        .as_deref()
        .map(|r| format!(": {}", sanitize::line(r)))
        .unwrap_or_default();
    let (code, message) = match run.status {
        RunStatus::Succeeded => return Ok(()),
        RunStatus::Failed => match run.exit_code {
            Some(code) if (1..=255).contains(&code) => (
                code,
                format!("{label} failed with exit code {code}{reason}"),
            ),
            _ => (1, format!("{label} failed{reason}")),
        },
        other => (1, format!("{label} {}{reason}", run_output::word(other))),
    };
    Err(ClientError::RunEnded { message, code })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_output::tests::run;

    #[test]
    fn a_followed_run_exits_with_its_outcome() {
        assert!(outcome(&run(7, RunStatus::Succeeded, 5)).is_ok());
        let failed = outcome(&run(7, RunStatus::Failed, 5)).err();
        assert!(
            matches!(&failed, Some(ClientError::RunEnded { code: 3, message }) if message == "r7 failed with exit code 3: exited with 3"),
            "{failed:?}"
        );
        let mut killed = run(7, RunStatus::Failed, 5);
        killed.exit_code = None;
        killed.reason = Some("killed by signal 9".into());
        let killed = outcome(&killed).err();
        assert!(
            matches!(&killed, Some(ClientError::RunEnded { code: 1, message }) if message == "r7 failed: killed by signal 9"),
            "{killed:?}"
        );
        for status in [
            RunStatus::Cancelled,
            RunStatus::TimedOut,
            RunStatus::Lost,
            RunStatus::Rejected,
        ] {
            let err = outcome(&run(7, status, 5)).err();
            assert!(
                matches!(&err, Some(ClientError::RunEnded { code: 1, message }) if message.starts_with("r7 ") && !message.contains('\n')),
                "{status:?}: {err:?}"
            );
            assert_eq!(err.map(|e| e.exit_code()), Some(1));
        }
    }

    #[tokio::test]
    async fn parameters_are_checked_and_secrets_come_from_the_environment() {
        let job = crate::run_output::tests::job();
        // PATH is set wherever tests run; it stands in for a secret exported by the user.
        let var = "PATH";
        let expected = std::env::var(var).unwrap_or_default();
        let given = vec!["env=prod".to_owned(), format!("token=@env:{var}")];
        let values = collect_params(&job, &given, true).await;
        let values = values.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(values.get("env").map(String::as_str), Some("prod"));
        assert_eq!(
            values.get("token").map(String::as_str),
            Some(expected.as_str())
        );

        let err = collect_params(&job, &["env=dev".to_owned(), "token=x".to_owned()], true)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not one of staging, prod"), "{err}");
        let err = collect_params(&job, &["nope=1".to_owned()], true)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("no parameter \"nope\"") && err.contains("env, token"),
            "{err}"
        );
        let err = collect_params(&job, &["token=@env:WARREN_TEST_UNSET_VAR".to_owned()], true)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("WARREN_TEST_UNSET_VAR is not set"), "{err}");
    }
}
