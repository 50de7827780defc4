//! Drawing the board's windows: the card editor and a card in full (its details).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::editor::{CardEditor, Field};
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::markdown;
use crate::tui::view::overlay::{keys, window};
use crate::tui::view::{self, centered, scrolled, text};

/// Draws the card editor.
pub fn card_editor(app: &App, frame: &mut Frame<'_>, area: Rect, editor: &CardEditor) {
    let t = &app.theme;
    let rect = centered(area, 76, area.height.saturating_sub(2).min(26));
    frame.render_widget(Clear, rect);
    let title = if editor.card.is_some() {
        "Edit card"
    } else {
        "New card"
    };
    let block = window(app, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let mut constraints: Vec<Constraint> = Vec::new();
    for field in Field::ALL {
        constraints.push(Constraint::Length(1));
        constraints.push(if field == Field::Description {
            Constraint::Min(2)
        } else {
            Constraint::Length(1)
        });
    }
    // Why the last save was refused, in full (a few lines at most) above the keys.
    let refused: Vec<String> = editor
        .refused
        .as_deref()
        .map(|why| {
            let mut lines = text::wrap(
                &format!("Not saved: {why}"),
                inner.width.saturating_sub(2).max(10) as usize,
            );
            lines.truncate(3);
            lines
        })
        .unwrap_or_default();
    constraints.push(Constraint::Length(refused.len() as u16));
    constraints.push(Constraint::Length(1));
    let rows = Layout::vertical(constraints).split(inner);
    frame.render_widget(
        Paragraph::new(
            refused
                .into_iter()
                .map(|l| Line::from(Span::styled(format!("  {l}"), t.style("ui.error"))))
                .collect::<Vec<_>>(),
        ),
        rows[rows.len() - 2],
    );
    for (i, field) in Field::ALL.iter().enumerate() {
        let focused = editor.focused() == *field;
        let style = if focused {
            t.style("ui.accent")
        } else {
            t.style("ui.muted")
        };
        let marker = if focused { "▸ " } else { "  " };
        frame.render_widget(
            Span::styled(format!("{marker}{}", field.label()), style),
            rows[i * 2],
        );
        let area = rows[i * 2 + 1];
        let field_area = Rect {
            x: area.x + 2,
            width: area.width.saturating_sub(2),
            ..area
        };
        let mut textarea = editor.area(*field).clone();
        if !focused {
            textarea.set_cursor_style(ratatui::style::Style::default());
            textarea.set_cursor_line_style(ratatui::style::Style::default());
        }
        frame.render_widget(&textarea, field_area);
    }
    let save = keys(app, Context::Editor, Action::Save);
    let next = keys(app, Context::Editor, Action::NextField);
    let cancel = keys(app, Context::Editor, Action::Cancel);
    frame.render_widget(
        Span::styled(
            format!("{save} save · {next} next field · {cancel} cancel"),
            t.style("ui.muted"),
        ),
        rows[rows.len() - 1],
    );
}

/// Draws a card in full: title, column, priority, assignee, labels, who made it, description.
pub fn detail(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    card_id: &warren_protocol::Id,
    scroll: usize,
) {
    let t = &app.theme;
    let view = app.view();
    let Some(card) = view.card(card_id) else {
        return;
    };
    let rect = centered(area, 80, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let title = format!("#{}", card.number);
    let block = window(app, &title);
    let inner = block.inner(rect);
    let column = view
        .boards
        .iter()
        .flat_map(|b| b.columns.iter())
        .find(|c| c.id == card.column_id)
        .map_or_else(String::new, |c| c.name.clone());
    let mut lines: Vec<Line<'static>> = text::wrap(&card.title, inner.width as usize)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, t.style("md.heading"))))
        .collect();
    lines.extend([
        Line::from(vec![
            Span::styled("column ", t.style("ui.muted")),
            Span::styled(column, t.style("ui.text")),
            Span::styled("  priority ", t.style("ui.muted")),
            Span::styled(
                card.priority.as_str(),
                t.style(&format!("card.priority.{}", card.priority.as_str())),
            ),
            Span::styled("  assignee ", t.style("ui.muted")),
            Span::styled(
                card.assignee
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), |a| view.member_name(a)),
                t.style("card.assignee"),
            ),
        ]),
        Line::from(
            card.labels
                .iter()
                .flat_map(|l| {
                    [
                        Span::styled(format!("[{l}]"), t.style("card.label")),
                        Span::raw(" "),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
        Line::from(Span::styled(
            format!(
                "created by {} · {} · updated {}",
                view.member_name(&card.created_by),
                app.local_minutes(card.created_at),
                app.local_minutes(card.updated_at)
            ),
            t.style("ui.muted"),
        )),
        Line::raw(""),
    ]);
    if card.description.trim().is_empty() {
        lines.push(Line::from(Span::styled(
            "No description.",
            t.style("ui.muted"),
        )));
    } else {
        lines.extend(markdown::render(
            &card.description,
            inner.width,
            &view::markdown_styles(app),
        ));
    }
    scrolled::render(app, frame, rect, block, lines, scroll);
}
