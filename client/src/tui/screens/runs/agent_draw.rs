//! How an agent run is drawn: a header (agent, status, providers, the question), its steps (in
//! [`super::agent_steps`]), an approval prompt when a tool call waits, and a status line: tokens
//! in/out, context used as a share of the model's window, the run's cost and the budget left.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use warren_protocol::agent::format_usd;
use warren_protocol::run::{Run, RunStatus};
use warren_protocol::step::StepDetail;

use super::agent::streaming;
use super::agent_steps::render_steps;
use super::draw::run_duration;
use super::{OpenRun, status_label, status_style};
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::screens::chat::approval;
use crate::tui::screens::chat::run_line::thousands;
use crate::tui::view::text::truncate;

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
        let unit = if agent.steps == 1 { "step" } else { "steps" };
        first.push(Span::styled(format!(" · {} {unit}", agent.steps), muted));
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
