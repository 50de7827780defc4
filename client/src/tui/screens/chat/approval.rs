//! The inline approval prompt, drawn in a room and in the agent run that waits: the tool, its
//! arguments, and the keys that answer it, with the scope of "always" in words
//! ("always allow @reviewer to card.create in this workspace"). The keys are read before the
//! screen's (see [`crate::tui::agents::app`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use warren_protocol::Id;
use warren_protocol::step::StepDetail;

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::view::text::truncate;

/// Most rows of arguments the prompt shows.
const ARG_ROWS: usize = 4;

/// The prompt's rows inside its border, for `width` columns.
pub fn lines(app: &App, run_id: &Id, step: u32, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let muted = t.style("ui.muted");
    let key = t.style("ui.key");
    let Some(s) = app
        .view()
        .agents
        .steps_of(run_id)
        .iter()
        .find(|s| s.n == step)
    else {
        return Vec::new();
    };
    let StepDetail::ToolCall(call) = &s.detail else {
        return Vec::new();
    };
    let agent = app
        .view()
        .runs
        .iter()
        .find(|r| &r.id == run_id)
        .map_or_else(|| "the agent".to_owned(), |r| app.agent_name(r));
    let tool = call
        .tool
        .map_or_else(|| call.name.clone(), |tool| tool.as_str().to_owned());
    let mut rows = Vec::new();
    let args = pretty(&call.arguments);
    let arg_lines: Vec<&str> = args.lines().collect();
    for (i, line) in arg_lines.iter().enumerate().take(ARG_ROWS) {
        let more = i + 1 == ARG_ROWS && arg_lines.len() > ARG_ROWS;
        let text = if more {
            format!("{} …", truncate(line, width.saturating_sub(2)))
        } else {
            truncate(line, width)
        };
        rows.push(Line::from(Span::styled(text, t.style("ui.text"))));
    }
    let first = |action: Action| {
        app.keymap
            .keys_for(Context::Approval, action)
            .first()
            .map_or_else(|| "?".to_owned(), ToString::to_string)
    };
    rows.push(Line::from(vec![
        Span::styled(first(Action::ApproveOnce), key),
        Span::styled(" approve once  ", muted),
        Span::styled(first(Action::ApproveReject), key),
        Span::styled(" reject (asks why)", muted),
    ]));
    rows.push(Line::from(vec![
        Span::styled(first(Action::ApproveAlways), key),
        Span::styled(
            truncate(
                &format!(" always allow @{agent} to {tool} in this workspace"),
                width.saturating_sub(2),
            ),
            muted,
        ),
    ]));
    rows
}

/// How many rows the prompt takes with its border (0 when there is nothing to ask).
pub fn height(app: &App, run_id: &Id, step: u32, width: u16) -> u16 {
    let n = lines(app, run_id, step, width.saturating_sub(2) as usize).len();
    if n == 0 { 0 } else { n as u16 + 2 }
}

/// Draws the prompt in `area`.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, run_id: &Id, step: u32) {
    let t = &app.theme;
    let agent = app
        .view()
        .runs
        .iter()
        .find(|r| &r.id == run_id)
        .map_or_else(|| "the agent".to_owned(), |r| app.agent_name(r));
    let tool = app
        .tool_of(run_id, step)
        .unwrap_or_else(|| "a tool".to_owned());
    let block = Block::bordered()
        .border_style(t.style("ui.status.warn"))
        .title(Span::styled(
            format!(" @{agent} asks to run {tool} "),
            t.style("ui.status.warn"),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = lines(app, run_id, step, inner.width as usize);
    frame.render_widget(Paragraph::new(rows).wrap(Wrap { trim: false }), inner);
}

/// Tool arguments laid out for reading: pretty JSON when they parse, else as the model wrote
/// them (already sanitised in the replica).
pub fn pretty(arguments: &str) -> String {
    serde_json::from_str::<serde_json::Value>(arguments)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .map_or_else(|| arguments.to_owned(), |s| crate::sanitize::block(&s))
}
