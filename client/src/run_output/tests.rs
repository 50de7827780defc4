//! The job and run tables and detail views, pinned with insta (times at the epoch, so the
//! snapshots hold in UTC, which the test environment uses like `output.rs`'s tests).

use warren_protocol::run::{Job, ParamKind, ParamSpec, Run, RunParam, RunStatus};
use warren_protocol::{Id, Member, Role};

use super::*;
use crate::resolve::tests::state;

fn id(s: &str) -> Id {
    Id::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn names() -> Names {
    let mut s = state();
    s.members.push(Member {
        user_id: id("user_builder"),
        name: "builder".into(),
        role: Role::Bot,
    });
    Names::from_state(&s)
}

pub(crate) fn job() -> Job {
    Job {
        id: id("job_deploy"),
        name: "deploy".into(),
        command: "./deploy.sh \"$WARREN_PARAM_ENV\"".into(),
        description: "Ship it".into(),
        params: vec![
            ParamSpec {
                name: "env".into(),
                kind: ParamKind::Choice,
                choices: vec!["staging".into(), "prod".into()],
                default: Some("staging".into()),
            },
            ParamSpec {
                name: "token".into(),
                kind: ParamKind::Secret,
                choices: vec![],
                default: None,
            },
        ],
        timeout_secs: 5400,
        retries: 2,
        tags: vec!["linux".into(), "docker".into()],
        protected: true,
        concurrency: Some(1),
        created_by: id("user_ann"),
        created_at: 0,
        updated_at: 60_000,
    }
}

pub(crate) fn run(number: u64, status: RunStatus, secs: i64) -> Run {
    let finished = status.is_final();
    Run {
        agent: None,
        parent_run_id: None,
        id: id(&format!("run_n{number}")),
        number,
        job_id: id("job_deploy"),
        job_name: "deploy".into(),
        params: vec![
            RunParam {
                name: "env".into(),
                value: "prod".into(),
                secret: false,
            },
            RunParam {
                name: "token".into(),
                value: "leaked-if-shown".into(),
                secret: true,
            },
        ],
        status,
        requested_by: id("user_ann"),
        card_id: Some(id("card_twelve")),
        room_id: None,
        retry_of: None,
        attempt: 1,
        worker_id: Some(id("user_builder")),
        decided_by: None,
        created_at: 0,
        queued_at: Some(0),
        not_before: None,
        started_at: Some(60_000),
        finished_at: finished.then_some(60_000 + secs * 1000),
        exit_code: match status {
            RunStatus::Succeeded => Some(0),
            RunStatus::Failed => Some(3),
            _ => None,
        },
        reason: (status == RunStatus::Failed).then(|| "exited with 3".to_owned()),
        lines: 120,
        log_bytes: 4000,
    }
}

fn history() -> Vec<Run> {
    vec![
        run(7, RunStatus::Running, 0),
        run(6, RunStatus::Failed, 30),
        run(5, RunStatus::Succeeded, 95),
        run(4, RunStatus::Succeeded, 80),
        run(3, RunStatus::Cancelled, 10),
        run(2, RunStatus::Succeeded, 120),
    ]
}

const NOW: i64 = 60_000 + 45_000;

#[test]
fn job_list_shows_params_tags_last_run_and_success_rate() {
    let runs = history();
    insta::assert_snapshot!(format_jobs(&[job()], &runs));
    assert!(format_jobs(&[], &[]).contains("warren job add"));
}

#[test]
fn job_show_has_every_field_a_bar_chart_and_the_recent_runs() {
    let runs = history();
    let recent = runs_of(&job(), &runs);
    insta::assert_snapshot!(format_job_detail(&job(), &recent, &names(), false, NOW));
}

#[test]
fn the_bar_chart_is_coloured_by_outcome_on_a_terminal() {
    let runs = history();
    let recent = runs_of(&job(), &runs);
    let chart = bar_chart(&recent, true, NOW);
    // Oldest first: r2 succeeded (longest: full bar, green) … r7 running (cyan).
    assert!(chart.starts_with("\u{1b}[32m█\u{1b}[0m"), "{chart:?}");
    assert!(
        chart.contains("\u{1b}[31m"),
        "a red bar for the failed run: {chart:?}"
    );
    assert!(
        chart.contains("\u{1b}[33m"),
        "a yellow bar for the cancelled run: {chart:?}"
    );
    assert!(
        chart.contains("\u{1b}[36m"),
        "a cyan bar for the running run: {chart:?}"
    );
    let plain = bar_chart(&recent, false, NOW);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert_eq!(plain.lines().nth(1), Some("✓⊘✓✓✗●"));
}

#[test]
fn stats_count_finished_runs_and_take_the_median_success() {
    let runs = history();
    let stats = JobStats::of(&runs.iter().collect::<Vec<_>>());
    assert_eq!(stats.last, Some(RunStatus::Running));
    assert_eq!((stats.succeeded, stats.finished), (3, 5));
    assert_eq!(stats.usual_ms, Some(95_000));
    assert_eq!(stats.rate(), "60% of 5");
    assert_eq!(JobStats::of(&[]).rate(), "-");
}

#[test]
fn run_list_has_status_number_job_who_started_duration_worker_card() {
    let runs = history();
    let refs: Vec<&Run> = runs.iter().collect();
    insta::assert_snapshot!(format_runs(&refs, &names(), NOW));
}

#[test]
fn run_show_masks_secrets_and_shows_times_exit_code_and_reason() {
    let mut failed = run(6, RunStatus::Failed, 30);
    failed.decided_by = None;
    let text = format_run_detail(&failed, &names(), NOW);
    assert!(!text.contains("leaked-if-shown"), "{text}");
    insta::assert_snapshot!(text);
    let mut rejected = run(8, RunStatus::Rejected, 0);
    rejected.started_at = None;
    rejected.decided_by = Some(id("user_ann"));
    rejected.reason = Some("rejected: not \u{1b}[2Jtoday".into());
    let text = format_run_detail(&rejected, &names(), NOW);
    assert!(text.contains("rejected by Ann"), "{text}");
    assert!(text.contains("rejected: not today"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

#[test]
fn a_started_run_says_what_happens_next() {
    assert_eq!(format_started(&run(7, RunStatus::Queued, 0)), "r7 queued");
    assert_eq!(
        format_started(&run(7, RunStatus::AwaitingApproval, 0)),
        "r7 awaiting approval — ask an admin: warren run approve r7"
    );
}
