//! The steps of an agent run as the run view draws them: each with its status glyph (the runs'
//! table) and elapsed time; model calls with provider, model, tokens and cost, the first rows of
//! their text (all of it when opened, the streamed rows while in progress); tool calls folded,
//! opened with a key to their arguments, result and the decision they needed. The selected step
//! stays in view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use warren_protocol::agent::format_usd;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{Decision, RunStep, StepDetail, StepStatus};

use super::draw::duration;
use super::{OpenRun, status_label, status_style};
use crate::tui::agents::stream::visible;
use crate::tui::app::App;
use crate::tui::screens::chat::approval;
use crate::tui::screens::chat::run_line::thousands;
use crate::tui::screens::chat::stream::rows;
use crate::tui::view::text::truncate;

/// Rows of a finished model call's text shown while its step is folded.
const FOLDED_TEXT_ROWS: usize = 3;
/// Rows of a streaming model call shown at most (its newest).
const STREAM_ROWS: usize = 200;

/// A step's status in the runs' glyph table.
pub fn step_status(status: StepStatus) -> RunStatus {
    match status {
        StepStatus::Running => RunStatus::Running,
        StepStatus::AwaitingApproval => RunStatus::AwaitingApproval,
        StepStatus::Done => RunStatus::Succeeded,
        StepStatus::Failed => RunStatus::Failed,
        StepStatus::Rejected => RunStatus::Rejected,
        StepStatus::Cancelled => RunStatus::Cancelled,
    }
}

/// One step's rows (its first row is its summary).
fn step_lines(
    app: &App,
    run: &Run,
    step: &RunStep,
    unfolded: bool,
    width: usize,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let muted = t.style("ui.muted");
    let status = step_status(step.status);
    let (glyph, _) = status_label(status);
    let elapsed = duration(step.finished_at.unwrap_or_else(|| app.runs_now()) - step.started_at);
    let body = width.saturating_sub(4).max(1);
    let mut out = Vec::new();
    match &step.detail {
        StepDetail::ModelCall(call) => {
            let counted = if call.usage.counted { "~" } else { "" };
            let mut summary = if step.status == StepStatus::Running {
                format!(
                    "{} {} model {}/{} · streaming · {elapsed}",
                    step.n, glyph, call.provider, call.model
                )
            } else {
                format!(
                    "{} {} model {}/{} · {counted}{}→{} tok · {} · {elapsed}",
                    step.n,
                    glyph,
                    call.provider,
                    call.model,
                    thousands(call.usage.input_tokens),
                    thousands(call.usage.output_tokens),
                    format_usd(call.cost),
                )
            };
            if !call.attempts.is_empty() {
                summary.push_str(&format!(" · {} failed tries", call.attempts.len()));
            }
            out.push(Line::from(Span::styled(
                truncate(&summary, width),
                t.style(status_style(status)),
            )));
            if unfolded {
                for a in &call.attempts {
                    out.push(Line::from(Span::styled(
                        truncate(
                            &format!(
                                "    ↳ {} {}: {} after {}",
                                a.provider,
                                serde_json::to_value(a.class)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_default(),
                                a.message,
                                duration(a.after_ms as i64)
                            ),
                            width,
                        ),
                        muted,
                    )));
                }
            }
            // The text: streamed so far (committed per line or full row), or as stored.
            let streamed = (step.status == StepStatus::Running).then(|| {
                app.streams
                    .partial(&run.id, step.n)
                    .map(|raw| visible(raw, body, STREAM_ROWS))
                    .unwrap_or_default()
            });
            let text = call.text.trim_end_matches('\n');
            if streamed.as_ref().is_some_and(|r| !r.is_empty()) || !text.is_empty() {
                let all = streamed.unwrap_or_else(|| rows(text, body));
                let limit = if unfolded || step.status == StepStatus::Running {
                    all.len()
                } else {
                    FOLDED_TEXT_ROWS
                };
                for row in all.iter().take(limit) {
                    out.push(Line::from(vec![
                        Span::raw("    "),
                        Span::styled(row.clone(), t.style("ui.text")),
                    ]));
                }
                if all.len() > limit {
                    out.push(Line::from(Span::styled(
                        format!("    … {} more rows", all.len() - limit),
                        muted,
                    )));
                }
            }
            if call.partial {
                let why = if step.status == StepStatus::Cancelled {
                    "    (interrupted: the text so far is kept)"
                } else {
                    "    (cut off: the stream ended early)"
                };
                out.push(Line::from(Span::styled(why, t.style("ui.status.warn"))));
            }
            if let Some(e) = &call.error {
                out.push(Line::from(Span::styled(
                    truncate(&format!("    {}", e.message), width),
                    t.style("ui.error"),
                )));
            }
        }
        StepDetail::ToolCall(call) => {
            let tool = call
                .tool
                .map_or_else(|| call.name.clone(), |tool| tool.as_str().to_owned());
            let fold = if unfolded { "▾" } else { "▸" };
            let word = match step.status {
                StepStatus::AwaitingApproval => "waits for a decision",
                StepStatus::Done if call.is_error => "error",
                StepStatus::Done => "done",
                StepStatus::Running => "running",
                StepStatus::Failed => "failed",
                StepStatus::Rejected => "rejected",
                StepStatus::Cancelled => "cancelled",
            };
            out.push(Line::from(Span::styled(
                truncate(
                    &format!("{} {} tool {tool} {fold} {word} · {elapsed}", step.n, glyph),
                    width,
                ),
                t.style(status_style(status)),
            )));
            if unfolded {
                out.push(Line::from(Span::styled("    arguments:", muted)));
                for row in approval::pretty(&call.arguments).lines() {
                    out.push(Line::from(Span::styled(
                        truncate(&format!("      {row}"), width),
                        t.style("ui.text"),
                    )));
                }
                if let Some(result) = &call.result {
                    let style = if call.is_error {
                        t.style("ui.error")
                    } else {
                        muted
                    };
                    out.push(Line::from(Span::styled("    result:", muted)));
                    for row in rows(result.trim_end(), body.saturating_sub(2).max(1)) {
                        out.push(Line::from(Span::styled(format!("      {row}"), style)));
                    }
                }
            }
            if let Some(a) = &call.approval
                && let Some(decision) = a.decision
            {
                let who = a
                    .decided_by
                    .as_ref()
                    .map(|u| app.view().member_name(u))
                    .unwrap_or_default();
                let what = match decision {
                    Decision::ApproveOnce => "approved once",
                    Decision::ApproveAlways if a.grant_id.is_some() => "allowed always",
                    Decision::ApproveAlways => "approved always",
                    Decision::Reject => "rejected",
                };
                let reason = a
                    .reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                out.push(Line::from(Span::styled(
                    truncate(&format!("    {what} by {who}{reason}"), width),
                    muted,
                )));
            }
        }
    }
    out
}

pub(super) fn render_steps(app: &App, frame: &mut Frame<'_>, area: Rect, run: &Run, open: &OpenRun) {
    let t = &app.theme;
    let steps = app.view().agents.steps_of(&run.id);
    if steps.is_empty() {
        let text = if run.status.is_final() {
            "No steps recorded."
        } else {
            "No steps yet: the agent starts when a worker takes the run."
        };
        frame.render_widget(Span::styled(text, t.style("ui.muted")), area);
        return;
    }
    let ui = open.agent.clone().unwrap_or_default();
    let selected = ui.selected.min(steps.len() - 1);
    let width = area.width as usize;
    let mut lines = Vec::new();
    let (mut from, mut to) = (0, 0);
    for (i, step) in steps.iter().enumerate() {
        let mut block = step_lines(app, run, step, ui.unfolded.contains(&step.n), width);
        if i == selected {
            from = lines.len();
            to = from + block.len();
            if let Some(first) = block.first_mut() {
                *first = crate::tui::view::select::selected(
                    std::mem::take(first),
                    t,
                    "ui.selection",
                );
            }
        }
        lines.append(&mut block);
    }
    let height = area.height as usize;
    // The selected step in view, whole if it fits; a streaming run follows its last step.
    let mut offset = 0;
    if to > offset + height {
        offset = to - height;
    }
    if from < offset {
        offset = from;
    }
    let shown: Vec<Line<'static>> = lines.into_iter().skip(offset).take(height).collect();
    frame.render_widget(Paragraph::new(shown), area);
}
