//! `warren job …`: add, list, show, edit and remove jobs, and start runs of them (`job run`,
//! optionally following the log to the end).

use std::io::IsTerminal;

use warren_protocol::run::{ParamSpec, Run};
use warren_protocol::{Change, Command, Query, QueryResult};

use crate::cli::{JobAddArgs, JobCommand, JobEditArgs, JobRunArgs};
use crate::commands::Out;
use crate::commands::run::{collect_params, follow_to_the_end, jobs};
use crate::error::ClientError;
use crate::names::Names;
use crate::param_spec;
use crate::resolve::{find_card, find_job, find_room, parse_card_ref};
use crate::run_output::{self, RECENT_RUNS};
use crate::sanitize;
use crate::session::Session;
use crate::theme::ColorSupport;

pub(super) async fn run(
    command: JobCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        JobCommand::Add(args) => add(args, session, out).await,
        JobCommand::List => {
            let state = session.snapshot().await?;
            if out.is_json() {
                for job in &state.jobs {
                    out.json(job)?;
                }
                return Ok(());
            }
            out.text(&run_output::format_jobs(&state.jobs, &state.runs))
        }
        JobCommand::Show { job } => show(&job, session, out).await,
        JobCommand::Edit(args) => edit(args, session, out).await,
        JobCommand::Rm { job } => {
            let jobs = jobs(session).await?;
            let job = find_job(&jobs, &job)?;
            session
                .command(Command::DeleteJob {
                    job_id: job.id.clone(),
                })
                .await?;
            out.either(job, || {
                format!(
                    "deleted job {} (its runs and logs stay)",
                    sanitize::line(&job.name)
                )
            })
        }
        JobCommand::Run(args) => start(args, session, out).await,
    }
}

/// Reads `--param` declarations; a bad one is a usage error that shows the accepted forms (and
/// never repeats a secret's would-be default).
fn parse_specs(texts: &[String]) -> Result<Vec<ParamSpec>, ClientError> {
    texts
        .iter()
        .map(|t| param_spec::parse_spec(t).map_err(ClientError::Usage))
        .collect()
}

async fn add(args: JobAddArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let params = parse_specs(&args.params)?;
    let ack = session
        .command(Command::CreateJob {
            job_id: None,
            name: args.name,
            command: args.command,
            description: args.description.unwrap_or_default(),
            params,
            timeout_secs: args.timeout,
            retries: args.retries,
            tags: args.tags,
            protected: args.protected,
            concurrency: args.concurrency,
        })
        .await?;
    let Change::JobCreated { job } = ack.event.change else {
        return Err(ClientError::Protocol("expected job_created".to_owned()));
    };
    out.either(&job, || {
        format!(
            "added job {} — start it with 'warren job run {}'",
            sanitize::line(&job.name),
            sanitize::line(&job.name)
        )
    })
}

async fn show(key: &str, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let job = find_job(&state.jobs, key)?;
    let result = session
        .query(Query::Runs {
            status: None,
            job: Some(job.id.to_string()),
            since: None,
            before: None,
            limit: u32::try_from(RECENT_RUNS).unwrap_or(u32::MAX),
        })
        .await?;
    let QueryResult::Runs { runs, .. } = result else {
        return Err(ClientError::Protocol("expected a runs result".to_owned()));
    };
    if out.is_json() {
        out.json(job)?;
        for run in &runs {
            out.json(run)?;
        }
        return Ok(());
    }
    let names = Names::from_state(&state);
    let recent: Vec<&Run> = runs.iter().collect();
    let colour = std::io::stdout().is_terminal() && ColorSupport::detect() != ColorSupport::None;
    out.text(&run_output::format_job_detail(
        job,
        &recent,
        &names,
        colour,
        crate::tui::app::now_ms(),
    ))
}

async fn edit(args: JobEditArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let params = if args.no_params {
        Some(Vec::new())
    } else if args.params.is_empty() {
        None
    } else {
        Some(parse_specs(&args.params)?)
    };
    let tags = if args.no_tags {
        Some(Vec::new())
    } else if args.tags.is_empty() {
        None
    } else {
        Some(args.tags)
    };
    let protected = match (args.protected, args.unprotected) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let concurrency = match (args.no_concurrency, args.concurrency) {
        (true, _) => Some(None),
        (false, Some(n)) => Some(Some(n)),
        (false, None) => None,
    };
    if args.name.is_none()
        && args.command.is_none()
        && args.description.is_none()
        && params.is_none()
        && args.timeout.is_none()
        && args.retries.is_none()
        && tags.is_none()
        && protected.is_none()
        && concurrency.is_none()
    {
        return Err(ClientError::Usage(
            "nothing to change: pass --name, --command, --description, --param, --no-params, --timeout, --retries, --tags, --no-tags, --protected, --unprotected, --concurrency or --no-concurrency"
                .to_owned(),
        ));
    }
    let jobs = jobs(session).await?;
    let job = find_job(&jobs, &args.job)?;
    let ack = session
        .command(Command::UpdateJob {
            job_id: job.id.clone(),
            name: args.name,
            command: args.command,
            description: args.description,
            params,
            timeout_secs: args.timeout,
            retries: args.retries,
            tags,
            protected,
            concurrency,
        })
        .await?;
    let Change::JobUpdated { job } = ack.event.change else {
        return Err(ClientError::Protocol("expected job_updated".to_owned()));
    };
    out.either(&job, || {
        format!("updated job {}", sanitize::line(&job.name))
    })
}

async fn start(args: JobRunArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let job = find_job(&state.jobs, &args.job)?;
    let card_id = match &args.card {
        Some(card) => Some(find_card(&state, &parse_card_ref(card)?)?.id.clone()),
        None => None,
    };
    let room_id = match &args.room {
        Some(room) => Some(find_room(&state, room)?.id.clone()),
        None => None,
    };
    let params = collect_params(job, &args.params, true).await?;
    let ack = session
        .command(Command::StartRun {
            run_id: None,
            job_id: job.id.clone(),
            params,
            card_id,
            room_id,
        })
        .await?;
    let Change::RunCreated { run } = ack.event.change else {
        return Err(ClientError::Protocol("expected run_created".to_owned()));
    };
    if args.follow && !out.is_json() {
        // The log goes to stdout; the run's number to stderr, so `> file` keeps only the log.
        eprintln!("{}", run_output::format_started(&run));
    } else {
        out.either(&run, || run_output::format_started(&run))?;
    }
    if args.follow {
        return follow_to_the_end(session, out, &run).await;
    }
    Ok(())
}
