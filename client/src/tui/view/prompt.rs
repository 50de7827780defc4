//! Drawing a one-line prompt: the question as the title, the field, then what helps answer it
//! (the rooms matching a jump, the rule for room names, or why the last answer was refused),
//! and the keys that answer and leave.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::overlay::{highlighted, window};
use super::{centered, text};
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::fuzzy::Fuzzy;
use crate::tui::prompt::{Prompt, PromptFor};

/// Rooms listed under the jump prompt at most.
const MAX_CHOICES: usize = 8;

/// Draws `prompt` centred over `area`.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, prompt: &Prompt) {
    let t = &app.theme;
    let jump = prompt.purpose == PromptFor::JumpToRoom;
    let choices = app.room_choices();
    let list_rows = if jump {
        choices.len().clamp(1, MAX_CHOICES)
    } else {
        1
    } + usize::from(prompt.error.is_some());
    let height = u16::try_from(list_rows + 4).unwrap_or(u16::MAX);
    let rect = centered(area, 56, height);
    frame.render_widget(Clear, rect);
    let title = text::truncate(&prompt.title, rect.width.saturating_sub(4) as usize);
    let block = window(app, &title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [field, list, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let room = matches!(prompt.purpose, PromptFor::NewRoom | PromptFor::JumpToRoom);
    let field = if room {
        let [marker, rest] =
            Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(field);
        frame.render_widget(Span::styled("# ", t.style("ui.accent")), marker);
        rest
    } else {
        field
    };
    let mut input = prompt.input.clone();
    input.set_style(t.style("ui.text"));
    input.set_cursor_line_style(t.style("ui.text"));
    frame.render_widget(&input, field);
    let width = list.width as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some(error) = &prompt.error {
        lines.push(Line::from(Span::styled(
            text::truncate(error, width),
            t.style("ui.error"),
        )));
    }
    match prompt.purpose {
        PromptFor::NewRoom => lines.push(Line::from(Span::styled(
            text::truncate("lowercase letters, digits, - and _", width),
            t.style("ui.muted"),
        ))),
        PromptFor::JumpToRoom if choices.is_empty() => lines.push(Line::from(Span::styled(
            " no room matches",
            t.style("ui.muted"),
        ))),
        PromptFor::JumpToRoom => {
            let query = prompt.answer();
            let mut fuzzy = Fuzzy::new(query.trim().trim_start_matches('#'));
            let rows = (list.height as usize).saturating_sub(lines.len());
            let first = prompt.selected.saturating_sub(rows.saturating_sub(1));
            lines.extend(
                choices
                    .iter()
                    .enumerate()
                    .skip(first)
                    .take(rows)
                    .map(|(i, room)| {
                        // The characters the query matched, as the palette shows them.
                        let matched = fuzzy.find(&room.name).map(|h| h.matched);
                        let mut spans = vec![Span::styled(" #", t.style("ui.muted"))];
                        spans.extend(highlighted(
                            app,
                            &room.name,
                            matched.as_deref().unwrap_or_default(),
                            width.saturating_sub(2),
                        ));
                        let line = Line::from(spans);
                        if i == prompt.selected {
                            super::select::selected(line, t, "ui.selection")
                        } else {
                            line
                        }
                    }),
            );
        }
        _ => {}
    }
    frame.render_widget(Paragraph::new(lines), list);
    let key = |action| {
        app.keymap
            .keys_for(Context::Prompt, action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let verb = match prompt.purpose {
        PromptFor::NewRoom | PromptFor::NewBoard | PromptFor::NewColumn { .. } => "create",
        PromptFor::JumpToRoom => "go",
        PromptFor::RenameBoard { .. } | PromptFor::RenameColumn { .. } => "rename",
        PromptFor::MemberRole { .. } => "change",
        PromptFor::InviteRole => "invite",
        PromptFor::NewWorkspace | PromptFor::BotName | PromptFor::TokenName => "create",
        PromptFor::RenameWorkspace => "rename",
        PromptFor::DeleteWorkspace => "delete",
        PromptFor::RejectRun { .. } | PromptFor::RejectTool { .. } => "reject",
        PromptFor::StartRun { .. } => "start",
    };
    frame.render_widget(
        Line::from(vec![
            Span::styled(key(Action::Confirm), t.style("ui.key")),
            Span::styled(format!(" {verb}   "), t.style("ui.text")),
            Span::styled(key(Action::Cancel), t.style("ui.key")),
            Span::styled(" leave", t.style("ui.text")),
        ]),
        keys,
    );
}
