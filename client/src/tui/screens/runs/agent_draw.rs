//! How an agent run is drawn: a header (agent, status, providers, the question), the steps with
//! status glyphs and elapsed times (model calls with provider, model, tokens and cost; tool calls
//! folded, opened with a key; the text of the step in progress as it streams), an approval
//! prompt when a tool call waits, and a status line: tokens in/out, context used as a share of
//! the model's window, the run's cost and the budget left.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use warren_protocol::agent::format_usd;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::{Decision, RunStep, StepDetail, StepStatus};

use super::agent::streaming;
use super::draw::{duration, run_duration};
use super::{OpenRun, status_label, status_style};
use crate::keymap::{Action, Context};
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

/// Draws the open agent run.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, open: &OpenRun) {
    let t = &app.theme;
    let Some(run) = app.view().runs.iter().find(|r| r.id == open.run_id) else {
        frame.render_widget(
            Span::styled(
                "This run is not in the recent list any more.",
                t.style("ui.muted"),
            ),
            area,
        );
        return;
    };
    let width = area.width as usize;
    let header = header(app, run, width);
    let prompt = app
        .shown_approval()
        .filter(|(r, _)| r == &run.id)
        .map(|(r, step)| (approval::height(app, &r, step, area.width), r, step));
    let prompt_height = prompt.as_ref().map_or(0, |p| p.0);
    let status_lines = status_lines(app, run, width);
    let [top, steps_area, prompt_area, status, keys] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Min(1),
        Constraint::Length(prompt_height),
        Constraint::Length(status_lines.len() as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header), top);
    render_steps(app, frame, steps_area, run, open);
    if let Some((_, r, step)) = prompt {
        approval::render(app, frame, prompt_area, &r, step);
    }
    frame.render_widget(Paragraph::new(status_lines), status);
    frame.render_widget(Line::from(hints(app, run)), keys);
}

fn header(app: &App, run: &Run, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let muted = t.style("ui.muted");
    let model = app.view();
    let (glyph, word) = status_label(run.status);
    let mut first = vec![
        Span::styled(
            format!("{} @{}", run.label(), app.agent_name(run)),
            t.style("ui.title"),
        ),
        Span::raw("  "),
        Span::styled(format!("{glyph} {word}"), t.style(status_style(run.status))),
    ];
    if let Some(took) = run_duration(run, app.runs_now()) {
        first.push(Span::styled(format!(" · {took}"), muted));
    }
    if let Some(agent) = &run.agent {
        first.push(Span::styled(format!(" · {} steps", agent.steps), muted));
    }
    let mut lines = vec![Line::from(first)];
    if let Some(agent) = &run.agent {
        let asked = format!(
            "asked by {}: {}",
            model.member_name(&run.requested_by),
            agent.prompt.replace('\n', " ")
        );
        lines.push(Line::from(Span::styled(truncate(&asked, width), muted)));
        let chain: Vec<String> = model
            .agents
            .agent(&agent.agent_id)
            .map(|a| {
                a.providers
                    .iter()
                    .map(|p| {
                        model
                            .agents
                            .provider(p)
                            .map_or_else(|| "(removed)".to_owned(), |p| p.name.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !chain.is_empty() {
            lines.push(Line::from(Span::styled(
                truncate(&format!("providers: {}", chain.join(" → ")), width),
                muted,
            )));
        }
        if let Some(why) = &agent.paused_reason {
            lines.push(Line::from(Span::styled(
                truncate(why, width),
                t.style("ui.status.warn"),
            )));
        }
    }
    if let Some(reason) = &run.reason {
        let style = if run.status == RunStatus::Succeeded {
            muted
        } else {
            t.style(status_style(run.status))
        };
        lines.push(Line::from(Span::styled(truncate(reason, width), style)));
    }
    lines
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
                out.push(Line::from(Span::styled(
                    "    (cut off: the stream ended early)",
                    t.style("ui.status.warn"),
                )));
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

fn render_steps(app: &App, frame: &mut Frame<'_>, area: Rect, run: &Run, open: &OpenRun) {
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

/// Tokens in/out, context used, cost, budget left: as many rows as `width` needs.
fn status_lines(app: &App, run: &Run, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let model = app.view();
    let Some(agent) = &run.agent else {
        return Vec::new();
    };
    let counted = if agent.usage.counted { "~" } else { "" };
    let mut parts = vec![format!(
        "tokens {counted}{} in / {} out",
        thousands(agent.usage.input_tokens),
        thousands(agent.usage.output_tokens)
    )];
    // The window the last model call filled: its prompt and answer against its provider's size.
    let last_call = model
        .agents
        .steps_of(&run.id)
        .iter()
        .rev()
        .find_map(|s| match &s.detail {
            StepDetail::ModelCall(c) if c.usage.input_tokens > 0 => Some(c),
            _ => None,
        });
    if let Some(call) = last_call
        && let Some(window) = model
            .agents
            .provider(&call.provider_id)
            .and_then(|p| p.context_tokens)
            .filter(|w| *w > 0)
    {
        let used = call.usage.input_tokens + call.usage.output_tokens;
        let percent = used * 100 / u64::from(window);
        parts.push(format!("context {percent}% of {}", thousands(u64::from(window))));
    }
    parts.push(format!("cost {}", format_usd(agent.cost)));
    if model.agents.budgets.is_some() {
        let budgets = model.agents.budgets_of(run);
        match budgets.iter().min_by_key(|b| b.left()) {
            Some(b) => parts.push(format!(
                "budget left {} of {} ({})",
                format_usd(b.left()),
                format_usd(b.limit),
                b.period.as_str()
            )),
            None => parts.push("no budget".to_owned()),
        }
    }
    let mut rows: Vec<String> = Vec::new();
    for part in parts {
        match rows.last_mut() {
            Some(row) if row.chars().count() + 3 + part.chars().count() <= width => {
                row.push_str(" · ");
                row.push_str(&part);
            }
            _ => rows.push(part),
        }
    }
    rows.into_iter()
        .map(|row| Line::from(Span::styled(truncate(&row, width), t.style("ui.accent"))))
        .collect()
}

fn hints(app: &App, run: &Run) -> Vec<Span<'static>> {
    let t = &app.theme;
    let first = |action: Action| {
        app.keymap
            .keys_for(Context::Agent, action)
            .first()
            .map(ToString::to_string)
    };
    let mut hints: Vec<(Option<String>, &str)> = vec![(first(Action::StepToggle), "open/fold")];
    if streaming(run.status) {
        hints.push((first(Action::AgentInterrupt), "interrupt"));
    } else if !run.status.is_final() {
        hints.push((first(Action::RunCancel), "cancel"));
    } else {
        hints.push((first(Action::RunRetry), "retry"));
    }
    hints.push((first(Action::RunClose), "back"));
    hints
        .into_iter()
        .filter_map(|(k, what)| k.map(|k| (k, what)))
        .flat_map(|(k, what)| {
            [
                Span::styled(k, t.style("ui.key")),
                Span::styled(format!(" {what}  "), t.style("ui.muted")),
            ]
        })
        .collect()
}
