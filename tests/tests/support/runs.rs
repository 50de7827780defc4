//! Helpers for the runs tests: jobs, a fake worker speaking raw worker frames over a real
//! WebSocket (hello, assignments, reports), and waits on run events.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use warren_e2e::client::Client;
use warren_protocol::run::{
    AssignedParam, HeldRun, HeldRunState, ParamKind, ParamSpec, Run, RunEnd,
};
use warren_protocol::{Change, Command, Id, ServerMessage};

/// `create_job` with a name, a command, parameters and tags; everything else default.
pub fn job(name: &str, params: Vec<ParamSpec>, tags: &[&str]) -> Command {
    Command::CreateJob {
        job_id: None,
        name: name.into(),
        command: "echo hi".into(),
        description: String::new(),
        params,
        timeout_secs: None,
        retries: 0,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        protected: false,
        concurrency: None,
    }
}

/// A parameter declaration.
pub fn param(name: &str, kind: ParamKind, choices: &[&str], default: Option<&str>) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        kind,
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        default: default.map(str::to_owned),
    }
}

/// Creates a job and returns its id.
pub async fn create_job(owner: &mut Client, command: Command) -> Id {
    let ack = owner.command(&command).await;
    match ack.event.change {
        Change::JobCreated { job } => job.id,
        other => panic!("expected job_created, got {other:?}"),
    }
}

/// `start_run` of `job` with `params` (and a room).
pub fn start(job: &Id, params: &[(&str, &str)], room: Option<&Id>) -> Command {
    Command::StartRun {
        run_id: None,
        job_id: job.clone(),
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        card_id: None,
        room_id: room.cloned(),
    }
}

/// Starts a run and returns it as created.
pub async fn start_run(client: &mut Client, command: Command) -> Run {
    let ack = client.command(&command).await;
    match ack.event.change {
        Change::RunCreated { run } => run,
        other => panic!("expected run_created, got {other:?}"),
    }
}

/// Says `worker_hello` and waits for `worker_welcome`; returns its held states.
pub async fn worker_hello(
    worker: &mut Client,
    tags: &[&str],
    concurrency: u32,
    held: &[HeldRun],
) -> Vec<HeldRunState> {
    let before = welcomes(worker).len();
    worker
        .send_json(&json!({
            "type": "worker_hello",
            "tags": tags,
            "concurrency": concurrency,
            "held": held,
        }))
        .await
        .expect("send worker_hello");
    worker
        .expect_until("worker_welcome", |c| welcomes(c).len() > before)
        .await;
    welcomes(worker).pop().unwrap_or_default()
}

fn welcomes(c: &Client) -> Vec<Vec<HeldRunState>> {
    c.run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::WorkerWelcome { held, .. } => Some(held.clone()),
            _ => None,
        })
        .collect()
}

/// Every `assign` the worker received: (run, params).
pub fn assigns(c: &Client) -> Vec<(Run, Vec<AssignedParam>)> {
    c.run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::Assign { run, params, .. } => Some((run.clone(), params.clone())),
            _ => None,
        })
        .collect()
}

/// Waits for the worker's `n`th assign (1-based) and returns it.
pub async fn nth_assign(worker: &mut Client, n: usize) -> (Run, Vec<AssignedParam>) {
    worker
        .expect_until(&format!("assign #{n}"), |c| assigns(c).len() >= n)
        .await;
    assigns(worker)
        .into_iter()
        .nth(n - 1)
        .expect("the assign just seen")
}

/// The runs the worker was told to cancel.
pub fn cancels(c: &Client) -> Vec<Id> {
    c.run_frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::CancelRun { run_id, .. } => Some(run_id.clone()),
            _ => None,
        })
        .collect()
}

/// `report_run_started` and its ack.
pub async fn report_started(worker: &mut Client, run: &Id) {
    worker
        .command(&Command::ReportRunStarted {
            run_id: run.clone(),
        })
        .await;
}

/// `report_run_finished` (no log lines).
pub fn finished(run: &Id, end: RunEnd, exit_code: Option<i32>) -> Command {
    Command::ReportRunFinished {
        run_id: run.clone(),
        end,
        exit_code,
        reason: None,
        lines: 0,
    }
}

/// The latest state of `run` in the events `c` has seen (`run_created` / `run_updated`).
pub fn latest(c: &Client, run: &Id) -> Option<Run> {
    c.events.iter().rev().find_map(|e| match &e.change {
        Change::RunCreated { run: r } | Change::RunUpdated { run: r, .. } if &r.id == run => {
            Some(r.clone())
        }
        _ => None,
    })
}

/// Waits until the subscribed client has seen `run` reach `status`.
pub async fn until_status(
    c: &mut Client,
    run: &Id,
    status: warren_protocol::run::RunStatus,
) -> Run {
    c.expect_until(&format!("run {run} {}", status.as_str()), |c| {
        latest(c, run).is_some_and(|r| r.status == status)
    })
    .await;
    latest(c, run).expect("just seen")
}

/// Everything a client received, as JSON text (to look for a secret in it).
pub fn everything(c: &Client) -> String {
    format!(
        "{} {} {} {:?}",
        serde_json::to_string(&c.events).unwrap_or_default(),
        serde_json::to_string(&c.snapshots).unwrap_or_default(),
        serde_json::to_string(&c.run_frames).unwrap_or_default(),
        c.loose_errors
    )
}
