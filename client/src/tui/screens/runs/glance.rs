//! A job's recent runs at a glance: their durations as a row of bars coloured by outcome (oldest
//! left), the success rate, the usual duration, and, while a run goes, how far it is against
//! that usual duration.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use warren_protocol::run::{Run, RunStatus};

use super::{status_style, draw::duration};
use crate::theme::Theme;

/// How many recent runs the glance shows.
pub const RECENT: usize = 20;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// What the recent finished runs of a job say.
#[derive(Debug, Clone, PartialEq)]
pub struct Recent {
    /// (duration in ms, status), oldest first.
    pub runs: Vec<(i64, RunStatus)>,
    /// Succeeded / finished, 0–100.
    pub success_percent: Option<u32>,
    /// The median duration of the succeeded ones, in ms.
    pub usual_ms: Option<i64>,
}

/// The recent finished runs of `job` among `runs` (newest first, as the model keeps them).
pub fn recent(runs: &[Run], job: &warren_protocol::Id) -> Recent {
    let mut finished: Vec<(i64, RunStatus)> = runs
        .iter()
        .filter(|r| &r.job_id == job && r.status.is_final() && r.status != RunStatus::Rejected)
        .filter_map(|r| Some((r.finished_at? - r.started_at.unwrap_or(r.created_at), r.status)))
        .take(RECENT)
        .collect();
    finished.reverse();
    let ok: Vec<i64> = {
        let mut ok: Vec<i64> = finished
            .iter()
            .filter(|(_, s)| *s == RunStatus::Succeeded)
            .map(|(d, _)| *d)
            .collect();
        ok.sort_unstable();
        ok
    };
    Recent {
        success_percent: (!finished.is_empty())
            .then(|| (ok.len() * 100 / finished.len()) as u32),
        usual_ms: ok.get(ok.len() / 2).copied(),
        runs: finished,
    }
}

/// The bars, one per run, scaled to the longest.
pub fn bars(recent: &Recent, theme: &Theme) -> Vec<Span<'static>> {
    let longest = recent.runs.iter().map(|(d, _)| *d).max().unwrap_or(1).max(1);
    recent
        .runs
        .iter()
        .map(|(d, status)| {
            let level = ((*d).max(0) * (BARS.len() as i64 - 1) / longest) as usize;
            Span::styled(BARS[level].to_string(), theme.style(status_style(*status)))
        })
        .collect()
}

/// "▂▅█▃ 90% of 10 succeeded · usually 1m 3s", and for a running run its progress against the
/// usual duration.
pub fn line(runs: &[Run], run: &Run, now_ms: i64, theme: &Theme) -> Line<'static> {
    let recent = recent(runs, &run.job_id);
    let muted = theme.style("ui.muted");
    let mut spans = bars(&recent, theme);
    if let Some(percent) = recent.success_percent {
        spans.push(Span::styled(
            format!(" {percent}% of the last {} succeeded", recent.runs.len()),
            muted,
        ));
    } else {
        spans.push(Span::styled("no finished runs of this job yet", muted));
    }
    if let Some(usual) = recent.usual_ms {
        spans.push(Span::styled(format!(" · usually {}", duration(usual)), muted));
        if run.status == RunStatus::Running
            && let Some(started) = run.started_at
        {
            spans.push(Span::raw(" · "));
            spans.extend(progress(now_ms - started, usual, theme.style("ui.accent")));
        }
    }
    Line::from(spans)
}

/// `[█████░░░░░] 0:35 of ~1:02`, or "over the usual time" past it.
fn progress(elapsed: i64, usual: i64, style: Style) -> Vec<Span<'static>> {
    const WIDTH: i64 = 10;
    let filled = (elapsed.max(0) * WIDTH / usual.max(1)).min(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '█' } else { '░' })
        .collect();
    let note = if elapsed > usual {
        format!(" {} (longer than the usual {})", duration(elapsed), duration(usual))
    } else {
        format!(" {} of ~{}", duration(elapsed), duration(usual))
    };
    vec![Span::styled(bar, style), Span::raw(note)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::Id;

    fn run(n: u64, job: &Id, status: RunStatus, secs: i64) -> Run {
        Run {
            agent: None,
            parent_run_id: None,
            id: Id::from_random("run", [n as u8; 10]),
            number: n,
            job_id: job.clone(),
            job_name: "build".into(),
            params: vec![],
            status,
            requested_by: Id::from_random("usr", [1; 10]),
            card_id: None,
            room_id: None,
            retry_of: None,
            attempt: 1,
            worker_id: None,
            decided_by: None,
            created_at: 0,
            queued_at: None,
            not_before: None,
            started_at: Some(1_000),
            finished_at: Some(1_000 + secs * 1000),
            exit_code: None,
            reason: None,
            lines: 0,
            log_bytes: 0,
        }
    }

    #[test]
    fn success_rate_and_usual_duration_come_from_finished_runs_of_the_job() {
        let job = Id::from_random("job", [1; 10]);
        let other = Id::from_random("job", [2; 10]);
        let runs = vec![
            run(5, &job, RunStatus::Running, 0),
            run(4, &job, RunStatus::Succeeded, 60),
            run(3, &other, RunStatus::Failed, 5),
            run(2, &job, RunStatus::Failed, 10),
            run(1, &job, RunStatus::Succeeded, 40),
        ];
        let r = recent(&runs, &job);
        assert_eq!(
            r.runs,
            vec![
                (40_000, RunStatus::Succeeded),
                (10_000, RunStatus::Failed),
                (60_000, RunStatus::Succeeded)
            ]
        );
        assert_eq!(r.success_percent, Some(66));
        assert_eq!(r.usual_ms, Some(60_000));
    }

    #[test]
    fn progress_fills_against_the_usual_duration() {
        let spans = progress(30_000, 60_000, Style::default());
        assert_eq!(spans[0].content, "█████░░░░░");
        let over = progress(90_000, 60_000, Style::default());
        assert_eq!(over[0].content, "██████████");
        assert!(over[1].content.contains("longer than the usual"));
    }
}
