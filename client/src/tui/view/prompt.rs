//! The one-line prompts: a new room's name, and jumping to a room (the matches listed under the
//! field, best first, the highlighted one taken by enter).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::overlay::window;
use super::{centered, text};
use crate::tui::action::{Action, Context};
use crate::tui::app::App;
use crate::tui::state::PromptKind;

/// Rooms listed under the jump prompt at most.
const MAX_CHOICES: usize = 8;

/// Draws the prompt of `kind`.
pub fn render(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    kind: PromptKind,
    input: &TextArea<'static>,
    selected: usize,
) {
    let t = &app.theme;
    let choices = app.room_choices();
    let (title, list_rows) = match kind {
        PromptKind::NewRoom => ("New room", 1),
        PromptKind::JumpToRoom => ("Jump to a room", choices.len().clamp(1, MAX_CHOICES)),
    };
    let height = u16::try_from(list_rows + 4).unwrap_or(u16::MAX);
    let rect = centered(area, 50, height);
    frame.render_widget(Clear, rect);
    let block = window(app, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [field, list, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let [marker, field] =
        Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(field);
    frame.render_widget(Span::styled("# ", t.style("ui.accent")), marker);
    frame.render_widget(input, field);
    let width = list.width as usize;
    let lines: Vec<Line<'static>> = match kind {
        PromptKind::NewRoom => vec![Line::from(Span::styled(
            text::truncate("lowercase letters, digits, - and _", width),
            t.style("ui.muted"),
        ))],
        PromptKind::JumpToRoom if choices.is_empty() => vec![Line::from(Span::styled(
            " no room matches",
            t.style("ui.muted"),
        ))],
        PromptKind::JumpToRoom => {
            let rows = list.height as usize;
            let first = selected.saturating_sub(rows.saturating_sub(1));
            choices
                .iter()
                .enumerate()
                .skip(first)
                .take(rows)
                .map(|(i, room)| {
                    let line = Line::from(Span::styled(
                        text::pad(&format!(" #{}", room.name), width),
                        t.style("ui.match"),
                    ));
                    if i == selected {
                        line.patch_style(t.style("ui.selection"))
                    } else {
                        line
                    }
                })
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines), list);
    let key = |action| {
        app.keymap
            .keys_for(Context::Prompt, action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let verb = match kind {
        PromptKind::NewRoom => "create",
        PromptKind::JumpToRoom => "go",
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
