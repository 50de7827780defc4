//! Drawing a one-line prompt: the question as the title, the field, why the last answer was
//! refused (if it was), and the keys that submit and leave.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{centered, text};
use crate::tui::action::{Action, Context};
use crate::tui::app::App;
use crate::tui::prompt::Prompt;

/// Draws `prompt` centred over `area`.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, prompt: &Prompt) {
    let t = &app.theme;
    let rect = centered(area, 60, 6);
    frame.render_widget(Clear, rect);
    let title = text::truncate(&prompt.title, rect.width.saturating_sub(4) as usize);
    let block = Block::bordered()
        .border_style(t.style("ui.border.focused"))
        .style(t.style("ui.overlay"))
        .title(Span::styled(format!(" {title} "), t.style("ui.title")));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [field, message, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    let mut input = prompt.input.clone();
    input.set_style(t.style("ui.text"));
    input.set_cursor_line_style(t.style("ui.text"));
    frame.render_widget(&input, field);
    if let Some(error) = &prompt.error {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                text::truncate(error, message.width as usize),
                t.style("ui.error"),
            ))),
            message,
        );
    }
    let key = |action| {
        app.keymap
            .keys_for(Context::Prompt, action)
            .first()
            .map_or_else(String::new, ToString::to_string)
    };
    let hint = Line::from(vec![
        Span::styled(key(Action::Confirm), t.style("ui.key")),
        Span::styled(" save   ", t.style("ui.muted")),
        Span::styled(key(Action::Cancel), t.style("ui.key")),
        Span::styled(" leave", t.style("ui.muted")),
    ]);
    frame.render_widget(Paragraph::new(hint), keys);
}
