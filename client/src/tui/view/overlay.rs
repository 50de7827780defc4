//! Windows over the screen: help (generated from the active keymap), the command palette, the
//! card editor, card details, confirmations, and configuration problems.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{centered, text};
use crate::tui::action::{Action, Context};
use crate::tui::app::App;
use crate::tui::markdown;
use crate::tui::state::{CardEditor, Field, Overlay};

/// Draws the open overlay, if any.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(app, frame, area, *scroll),
        Some(Overlay::Palette { input, selected }) => palette(app, frame, area, input, *selected),
        Some(Overlay::Confirm { prompt, .. }) => confirm(app, frame, area, prompt),
        Some(Overlay::Editor(editor)) => card_editor(app, frame, area, editor),
        Some(Overlay::Detail { card, scroll }) => detail(app, frame, area, card, *scroll),
        Some(Overlay::Problems { lines, scroll }) => problems(app, frame, area, lines, *scroll),
        Some(Overlay::Prompt {
            kind,
            input,
            selected,
        }) => super::prompt::render(app, frame, area, *kind, input, *selected),
    }
}

pub(super) fn window<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::bordered()
        .border_style(app.theme.style("ui.border.focused"))
        .style(app.theme.style("ui.overlay"))
        .title(Span::styled(
            format!(" {title} "),
            app.theme.style("ui.title"),
        ))
}

fn keys(app: &App, context: Context, action: Action) -> String {
    app.keymap
        .keys_for(context, action)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn help(app: &App, frame: &mut Frame<'_>, area: Rect, scroll: usize) {
    let t = &app.theme;
    let rect = centered(area, 76, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = window(app, "Keys (esc closes)");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    // The screen under the overlay first, then the global keys, then everything else.
    let current = app.screen_context();
    let mut order = vec![current, Context::Global];
    order.extend(
        Context::ALL
            .into_iter()
            .filter(|c| *c != current && *c != Context::Global),
    );
    let mut lines = Vec::new();
    for context in order {
        let mut by_action: Vec<(Action, Vec<String>)> = Vec::new();
        for (key, action) in app.keymap.bindings(context) {
            match by_action.iter_mut().find(|(a, _)| *a == action) {
                Some((_, keys)) => keys.push(key.to_string()),
                None => by_action.push((action, vec![key.to_string()])),
            }
        }
        if by_action.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(Span::styled(
            context.name().to_owned(),
            t.style("ui.accent"),
        )));
        for (action, keys) in by_action {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<20}", text::truncate(&keys.join(" "), 19)),
                    t.style("ui.key"),
                ),
                Span::styled(action.description().to_owned(), t.style("ui.text")),
            ]));
        }
    }
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
}

fn palette(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    input: &ratatui_textarea::TextArea<'static>,
    selected: usize,
) {
    let t = &app.theme;
    let rect = centered(area, 70, area.height.saturating_sub(4).min(20));
    frame.render_widget(Clear, rect);
    let block = window(app, "Command palette");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [field, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let [prompt, field] =
        Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(field);
    frame.render_widget(Span::styled("› ", t.style("ui.accent")), prompt);
    frame.render_widget(input, field);
    let matches = app.palette_matches();
    let height = list.height as usize;
    let first = selected.saturating_sub(height.saturating_sub(1));
    let width = list.width as usize;
    let lines: Vec<Line<'static>> = matches
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, action)| {
            let k = palette_keys(app, *action);
            let name = format!(" {:<18}", action.name());
            let desc_width = width.saturating_sub(text::width(&name) + text::width(&k) + 2);
            let line = Line::from(vec![
                Span::styled(name, t.style("ui.match")),
                Span::styled(
                    text::pad(action.description(), desc_width),
                    t.style("ui.text"),
                ),
                Span::styled(format!(" {k}"), t.style("ui.key")),
            ]);
            if i == selected {
                line.patch_style(t.style("ui.selection"))
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Span::styled(" no action matches", t.style("ui.muted")),
            list,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), list);
    }
}

/// The keys of an action as the palette shows them: as bound on the screen under the palette,
/// else in the first context that binds it.
fn palette_keys(app: &App, action: Action) -> String {
    std::iter::once(app.screen_context())
        .chain(Context::ALL)
        .map(|context| keys(app, context, action))
        .find(|k| !k.is_empty())
        .unwrap_or_default()
}

fn confirm(app: &App, frame: &mut Frame<'_>, area: Rect, prompt: &str) {
    let t = &app.theme;
    // The prompt wraps (a message being deleted keeps its line breaks), up to the screen.
    let wrapped = text::wrap(prompt, 56);
    let height = u16::try_from(wrapped.len() + 4).unwrap_or(u16::MAX);
    let rect = centered(area, 60, height);
    frame.render_widget(Clear, rect);
    let block = window(app, "Confirm");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let yes = keys(app, Context::Confirm, Action::Confirm);
    let no = keys(app, Context::Confirm, Action::Cancel);
    let room = usize::from(inner.height.saturating_sub(2)).max(1);
    let mut lines: Vec<Line<'_>> = wrapped
        .iter()
        .take(room)
        .map(|l| {
            Line::from(Span::styled(
                text::truncate(l, inner.width as usize),
                t.style("ui.text"),
            ))
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(format!("{yes} "), t.style("ui.key")),
        Span::styled("yes   ", t.style("ui.text")),
        Span::styled(format!("{no} "), t.style("ui.key")),
        Span::styled("no", t.style("ui.text")),
    ]));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn card_editor(app: &App, frame: &mut Frame<'_>, area: Rect, editor: &CardEditor) {
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
    constraints.push(Constraint::Length(1));
    let rows = Layout::vertical(constraints).split(inner);
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

fn detail(
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
    frame.render_widget(block, rect);
    let column = view
        .boards
        .iter()
        .flat_map(|b| b.columns.iter())
        .find(|c| c.id == card.column_id)
        .map_or_else(String::new, |c| c.name.clone());
    let mut lines = vec![
        Line::from(Span::styled(card.title.clone(), t.style("md.heading"))),
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
                warren_protocol::time::format_utc_minutes(card.created_at),
                warren_protocol::time::format_utc_minutes(card.updated_at)
            ),
            t.style("ui.muted"),
        )),
        Line::raw(""),
    ];
    if card.description.trim().is_empty() {
        lines.push(Line::from(Span::styled(
            "No description.",
            t.style("ui.muted"),
        )));
    } else {
        lines.extend(markdown::render(
            &card.description,
            inner.width,
            &super::chat::markdown_styles(app),
        ));
    }
    let scroll = scroll.min(lines.len().saturating_sub(inner.height as usize));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
}

fn problems(app: &App, frame: &mut Frame<'_>, area: Rect, lines: &[String], scroll: usize) {
    let t = &app.theme;
    let rect = centered(
        area,
        90,
        area.height.saturating_sub(4).min(lines.len() as u16 + 4),
    );
    frame.render_widget(Clear, rect);
    let block = window(
        app,
        "Configuration problems (running on defaults; esc closes)",
    );
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let body: Vec<Line<'static>> = lines
        .iter()
        .map(|l| Line::from(Span::styled(l.clone(), t.style("ui.error"))))
        .collect();
    frame.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        inner,
    );
}
