//! From the wire to the executor and back: an `assign` frame becomes a [`JobSpec`], and an
//! [`Outcome`] becomes the `report_run_finished` command; plus the one-line words the worker
//! logs about a run ("r7 deploy: succeeded in 3.2 s").

use std::path::Path;
use std::time::Duration;

use warren_protocol::run::Run;
use warren_protocol::run::{AssignedParam, RunEnd};
use warren_protocol::{Command, Id};

use super::exec::{Outcome, format_duration};
use super::guard::GuardSetup;
use super::spec::{JobSpec, Limits, Param};

/// What the worker runs for one `assign` frame.
pub fn job_spec(
    run: &Run,
    command: &str,
    params: &[AssignedParam],
    timeout_secs: u64,
    workdir: &Path,
    limits: Limits,
    guard: Option<&GuardSetup>,
) -> JobSpec {
    JobSpec {
        command: command.to_owned(),
        params: params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                value: p.value.clone(),
                secret: p.secret,
            })
            .collect(),
        env: vec![
            ("WARREN_RUN".to_owned(), run.label()),
            ("WARREN_RUN_ID".to_owned(), run.id.to_string()),
            ("WARREN_JOB".to_owned(), run.job_name.clone()),
        ],
        workdir: workdir.to_path_buf(),
        timeout: (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs)),
        limits,
        guard: guard.cloned(),
    }
}

/// The `report_run_finished` command for a run that ended with `outcome` after `lines` lines.
pub fn finished(run_id: &Id, outcome: &Outcome, lines: u64) -> Command {
    let (end, exit_code, reason) = match outcome {
        Outcome::Succeeded => (RunEnd::Succeeded, Some(0), None),
        Outcome::Failed { exit_code } => (RunEnd::Failed, Some(*exit_code), None),
        Outcome::Cancelled { by } => (RunEnd::Cancelled, None, Some(format!("cancelled by {by}"))),
        Outcome::TimedOut { after } => (
            RunEnd::TimedOut,
            None,
            Some(format!("timed out after {}", format_duration(*after))),
        ),
        Outcome::FailedToStart { reason } => (
            RunEnd::Failed,
            None,
            Some(format!("failed to start: {reason}")),
        ),
    };
    Command::ReportRunFinished {
        run_id: run_id.clone(),
        end,
        exit_code,
        reason,
        lines,
    }
}

/// How a run ended, in a few words: `succeeded in 3.2 s`, `failed (exit 2) in 1.0 s`.
pub fn describe(outcome: &Outcome, took: Duration) -> String {
    let took = seconds(took);
    match outcome {
        Outcome::Succeeded => format!("succeeded in {took}"),
        Outcome::Failed { exit_code } => format!("failed (exit {exit_code}) in {took}"),
        Outcome::Cancelled { .. } => format!("cancelled after {took}"),
        Outcome::TimedOut { after } => format!("timed out after {}", format_duration(*after)),
        Outcome::FailedToStart { .. } => "failed to start".to_owned(),
    }
}

/// `3.2 s`, or `2m 5s` past a minute.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_maps_to_a_run_end() {
        let Ok(id) = Id::parse("run_1") else {
            panic!("a valid id");
        };
        let end = |o: Outcome| match finished(&id, &o, 3) {
            Command::ReportRunFinished {
                end,
                exit_code,
                reason,
                lines,
                ..
            } => {
                assert_eq!(lines, 3);
                (end, exit_code, reason)
            }
            _ => panic!("report_run_finished"),
        };
        assert_eq!(end(Outcome::Succeeded), (RunEnd::Succeeded, Some(0), None));
        assert_eq!(
            end(Outcome::Failed { exit_code: 2 }),
            (RunEnd::Failed, Some(2), None)
        );
        assert_eq!(
            end(Outcome::Cancelled { by: "ada".into() }).0,
            RunEnd::Cancelled
        );
        assert_eq!(
            end(Outcome::TimedOut {
                after: Duration::from_secs(60)
            }),
            (RunEnd::TimedOut, None, Some("timed out after 1m".into()))
        );
        let (e, code, reason) = end(Outcome::FailedToStart {
            reason: "no sh".into(),
        });
        assert_eq!((e, code), (RunEnd::Failed, None));
        assert!(reason.is_some_and(|r| r.contains("no sh")));
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(
            describe(&Outcome::Succeeded, Duration::from_millis(3200)),
            "succeeded in 3.2 s"
        );
        assert_eq!(
            describe(&Outcome::Failed { exit_code: 1 }, Duration::from_secs(125)),
            "failed (exit 1) in 2m 5s"
        );
    }
}
