//! How the Runs screen is drawn: the list of runs (newest first, one row each, the columns that
//! fit the width), or the open run's header over its log viewer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use warren_protocol::run::{Run, RunStatus};

use super::{OpenRun, glance, status_label, status_style};
use crate::keymap::{Action, Context};
use crate::logview::LogViewWidget;
use crate::tui::app::App;
use crate::tui::view::text::{pad, truncate};

/// `1m 3s`, `42s`, `1h 2m`, `0.4s`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1000;
    match secs {
        0 => format!("{:.1}s", ms as f64 / 1000.0),
        1..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        _ => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
    }
}

/// How long a run took (or has been going).
pub fn run_duration(run: &Run, now_ms: i64) -> Option<String> {
    let start = run.started_at?;
    Some(duration(run.finished_at.unwrap_or(now_ms) - start))
}

/// Draws the screen.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    match &app.runs.open {
        Some(open) if open.agent.is_some() => super::agent_draw::render(app, frame, area, open),
        Some(open) => render_open(app, frame, area, open),
        None => render_list(app, frame, area),
    }
}

fn render_list(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let runs = &app.view().runs;
    let width = area.width as usize;
    if runs.is_empty() {
        let lines = vec![
            Line::from(Span::styled("No runs yet.", t.style("ui.muted"))),
            Line::from(Span::styled(
                "Start one with 'warren job run NAME', or '/run NAME' in a room.",
                t.style("ui.muted"),
            )),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    // Optional columns, shown only where they fit whole (the fixed ones take 75 columns, the
    // worker 13 more), dropped right to left when the terminal is narrow.
    let medium = width >= 88;
    let wide = width >= 100;
    let mut header = format!(
        "{} {} {} {} {} {}",
        pad("STATUS", 19),
        pad("RUN", 6),
        pad("JOB", 16),
        pad("BY", 10),
        pad("STARTED", 11),
        pad("TOOK", 8)
    );
    if medium {
        header.push_str(&format!(" {}", pad("WORKER", 12)));
    }
    if wide {
        header.push_str(" CARD");
    }
    let rows = area.height.saturating_sub(1) as usize;
    let selected = app.runs.selected.min(runs.len() - 1);
    let first = selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::from(Span::styled(
        truncate(&header, width),
        t.style("ui.title"),
    ))];
    let now = app.runs_now();
    for (i, run) in runs.iter().enumerate().skip(first).take(rows) {
        let (glyph, word) = status_label(run.status);
        let model = app.view();
        let started = run
            .started_at
            .map(|at| app.local_minutes(at).get(5..).unwrap_or_default().to_owned())
            .unwrap_or_default();
        let mut rest = format!(
            " {} {} {} {} {}",
            pad(&run.label(), 6),
            pad(&truncate(&run.job_name, 16), 16),
            pad(&truncate(&model.member_name(&run.requested_by), 10), 10),
            pad(&started, 11),
            pad(&run_duration(run, now).unwrap_or_default(), 8)
        );
        if medium {
            let worker = run
                .worker_id
                .as_ref()
                .map(|w| model.member_name(w))
                .unwrap_or_default();
            rest.push_str(&format!(" {}", pad(&truncate(&worker, 12), 12)));
        }
        if wide && let Some(card) = run.card_id.as_ref().and_then(|c| model.card(c)) {
            rest.push_str(&format!(" #{}", card.number));
        }
        let status = format!("{glyph} {}", pad(word, 17));
        let mut line = Line::from(vec![
            Span::styled(status, t.style(status_style(run.status))),
            Span::raw(truncate(&rest, width.saturating_sub(19))),
        ]);
        if i == selected {
            line = line.style(t.style("ui.selection"));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn render_open(app: &App, frame: &mut Frame<'_>, area: Rect, open: &OpenRun) {
    let header = match app.view().runs.iter().find(|r| r.id == open.run_id) {
        // The run record counts its lines when it ends; while it goes, the log knows more.
        Some(run) => header_lines(
            app,
            run,
            run.lines.max(open.log.source().stored()),
            area.width as usize,
        ),
        None => vec![Line::from(Span::styled(
            "This run is not in the recent list any more; its log is below.",
            app.theme.style("ui.muted"),
        ))],
    };
    let [top, bottom] = Layout::vertical([
        Constraint::Length(header.len() as u16 + 1),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header), top);
    frame.render_widget(LogViewWidget::new(&open.log, &app.theme), bottom);
}

/// The open run's header; `lines` is how many lines its log has as far as this client knows.
fn header_lines(app: &App, run: &Run, lines: u64, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let model = app.view();
    let muted = t.style("ui.muted");
    let (glyph, word) = status_label(run.status);
    let now = app.runs_now();
    let mut first = vec![
        Span::styled(format!("{} {}", run.label(), run.job_name), t.style("ui.title")),
        Span::raw("  "),
        Span::styled(format!("{glyph} {word}"), t.style(status_style(run.status))),
    ];
    if let Some(code) = run.exit_code {
        first.push(Span::styled(format!(" · exit {code}"), muted));
    }
    if let Some(took) = run_duration(run, now) {
        first.push(Span::styled(format!(" · {took}"), muted));
    }
    first.push(Span::styled(format!(" · {lines} lines"), muted));
    let mut who = format!("by {}", model.member_name(&run.requested_by));
    if let Some(at) = run.started_at {
        who.push_str(&format!(" · started {}", app.local_minutes(at)));
    } else {
        who.push_str(&format!(" · created {}", app.local_minutes(run.created_at)));
    }
    if let Some(w) = &run.worker_id {
        who.push_str(&format!(" · on {}", model.member_name(w)));
    }
    if run.attempt > 1 {
        who.push_str(&format!(" · attempt {}", run.attempt));
    }
    if let Some(card) = run.card_id.as_ref().and_then(|c| model.card(c)) {
        who.push_str(&format!(" · card #{}", card.number));
    }
    let mut lines = vec![
        Line::from(first),
        Line::from(Span::styled(truncate(&who, width), muted)),
    ];
    if !run.params.is_empty() {
        let params: Vec<String> = run
            .params
            .iter()
            .map(|p| format!("{}={}", p.name, p.value))
            .collect();
        lines.push(Line::from(Span::styled(
            truncate(&format!("params: {}", params.join(" ")), width),
            muted,
        )));
    }
    if let Some(reason) = &run.reason {
        let style = if run.status == RunStatus::Succeeded {
            muted
        } else {
            t.style(status_style(run.status))
        };
        lines.push(Line::from(Span::styled(truncate(reason, width), style)));
    }
    if let Some(by) = &run.decided_by {
        let what = match run.status {
            RunStatus::Rejected => "rejected",
            RunStatus::Cancelled => "cancelled",
            _ => "approved",
        };
        lines.push(Line::from(Span::styled(
            format!("{what} by {}", model.member_name(by)),
            muted,
        )));
    }
    lines.push(glance::line(&model.runs, run, now, t));
    lines.push(Line::from(hint(app, run)));
    lines
}

fn hint(app: &App, run: &Run) -> Vec<Span<'static>> {
    let t = &app.theme;
    let key = t.style("ui.key");
    let muted = t.style("ui.muted");
    // The first key the keymap binds to each action in the log (a rebound key is named right;
    // an unbound action is left out).
    let first = |action: Action| {
        app.keymap
            .keys_for(Context::Log, action)
            .first()
            .map(ToString::to_string)
    };
    let mut hints: Vec<(Option<String>, &str)> = Vec::new();
    if run.status == RunStatus::AwaitingApproval {
        hints.push((first(Action::RunApprove), "approve"));
        hints.push((first(Action::RunReject), "reject"));
    }
    if !run.status.is_final() {
        hints.push((first(Action::RunCancel), "cancel"));
    } else {
        hints.push((first(Action::RunRetry), "retry"));
    }
    hints.push((first(Action::RunClose), "back"));
    hints.push((first(Action::LogSearch), "search"));
    hints.push((first(Action::LogFilter), "filter"));
    let errors = first(Action::LogNextError)
        .zip(first(Action::LogPrevError))
        .map(|(next, prev)| format!("{next}/{prev}"));
    hints.push((errors, "errors"));
    hints.push((first(Action::LogFollow), "follow"));
    hints
        .into_iter()
        .filter_map(|(k, what)| k.map(|k| (k, what)))
        .flat_map(|(k, what)| {
            [
                Span::styled(k, key),
                Span::styled(format!(" {what}  "), muted),
            ]
        })
        .collect()
}
