//! Windows over the screen: help (generated from the active keymap), the command palette,
//! confirmations, recent messages and configuration problems, and where each screen's own windows
//! are drawn (the card editor and details by the board, members, tokens, invite and audit by their
//! folders under `screens/`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{centered, scrolled, text};
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::palette::Target;
use crate::tui::screens::board;
use crate::tui::state::Overlay;

/// Draws the open overlay, if any.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(app, frame, area, *scroll),
        Some(Overlay::Palette { input, selected }) => palette(app, frame, area, input, *selected),
        Some(Overlay::Confirm { prompt, .. }) => confirm(app, frame, area, prompt),
        Some(Overlay::Editor(editor)) => board::windows::card_editor(app, frame, area, editor),
        Some(Overlay::Prompt(prompt)) => super::prompt::render(app, frame, area, prompt),
        Some(Overlay::Detail { card, scroll }) => {
            board::windows::detail(app, frame, area, card, *scroll)
        }
        Some(Overlay::Problems { lines, scroll }) => problems(app, frame, area, lines, *scroll),
        Some(Overlay::Messages { scroll }) => messages(app, frame, area, *scroll),
        Some(Overlay::Members { selected }) => {
            crate::tui::screens::members::draw::render(app, frame, area, *selected)
        }
        Some(Overlay::Invite(shown)) => {
            crate::tui::screens::invite::draw::render(app, frame, area, shown)
        }
        Some(Overlay::Secret(shown)) => {
            crate::tui::screens::account::draw::secret(app, frame, area, shown)
        }
        Some(Overlay::Tokens { view, selected }) => {
            crate::tui::screens::account::draw::tokens(app, frame, area, view, *selected)
        }
        Some(Overlay::Audit { view, scroll }) => {
            crate::tui::screens::audit::draw::render(app, frame, area, view, *scroll)
        }
        Some(Overlay::Grants { view, selected }) => {
            crate::tui::screens::grants::draw::render(app, frame, area, view, *selected)
        }
    }
}

pub(crate) fn window<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::bordered()
        .border_style(app.theme.style("ui.border.focused"))
        .style(app.theme.style("ui.overlay"))
        .title(Span::styled(
            format!(" {title} "),
            app.theme.style("ui.title"),
        ))
}

/// The keys bound to `action` in `context`, joined with " / " (or the unbound marker).
pub(crate) fn keys(app: &App, context: Context, action: Action) -> String {
    app.keymap
        .keys_for(context, action)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every form a board filter term can take.
const FILTER_FORMS: &[(&str, &str)] = &[
    ("word", "the title or description contains it"),
    ("#label", "a label contains it (#bug)"),
    ("@name", "the assignee's name contains it (@ada)"),
    ("!priority", "the priority starts with it (!high, !urg)"),
    ("#12", "card number 12"),
];

fn help(app: &App, frame: &mut Frame<'_>, area: Rect, scroll: usize) {
    let t = &app.theme;
    let rect = centered(area, 76, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = window(app, "Keys (esc closes)");
    // The screen under the overlay first, then the global keys, then everything else.
    let current = app.screen_context();
    let mut order = vec![current, Context::Global];
    order.extend(
        Context::ALL
            .into_iter()
            .filter(|c| *c != current && *c != Context::Global),
    );
    let filter_first = matches!(current, Context::Board | Context::Filter);
    let mut lines = Vec::new();
    let filter_forms = |lines: &mut Vec<Line<'static>>| {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            "Board filter terms (all must match; case is ignored)",
            t.style("ui.accent"),
        )));
        for (form, meaning) in FILTER_FORMS {
            lines.push(Line::from(vec![
                Span::styled(format!("  {form:<20}"), t.style("ui.key")),
                Span::styled((*meaning).to_owned(), t.style("ui.text")),
            ]));
        }
    };
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
            context.title(),
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
        if filter_first && context == current {
            filter_forms(&mut lines);
        }
    }
    if !filter_first {
        filter_forms(&mut lines);
    }
    scrolled::render(app, frame, rect, block, lines, scroll);
}

/// The recent status messages, newest first, in full.
fn messages(app: &App, frame: &mut Frame<'_>, area: Rect, scroll: usize) {
    let t = &app.theme;
    let rect = centered(area, 90, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = window(app, "Recent messages (esc closes)");
    let width = block.inner(rect).width as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for logged in app.notices.recent.iter().rev() {
        let (_, time) = app.day_and_time(logged.at_ms);
        let style = if logged.error {
            t.style("ui.error")
        } else {
            t.style("ui.text")
        };
        for (i, part) in text::wrap(&logged.text, width.saturating_sub(7).max(10))
            .into_iter()
            .enumerate()
        {
            let stamp = if i == 0 { time.clone() } else { String::new() };
            lines.push(Line::from(vec![
                Span::styled(format!("{stamp:<7}"), t.style("ui.muted")),
                Span::styled(part, style),
            ]));
        }
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "No messages yet.",
            t.style("ui.muted"),
        )));
    }
    scrolled::render(app, frame, rect, block, lines, scroll);
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
    let entries = app.palette_entries();
    let height = list.height as usize;
    let first = selected.saturating_sub(height.saturating_sub(1));
    let width = list.width as usize;
    let label_width = entries
        .iter()
        .skip(first)
        .take(height)
        .map(|e| text::width(&e.label))
        .max()
        .unwrap_or(0)
        .clamp(12, width / 2);
    let lines: Vec<Line<'static>> = entries
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, entry)| {
            let k = match entry.target {
                Target::Action(action) => palette_keys(app, action),
                _ => String::new(),
            };
            let mut spans = vec![Span::raw(" ")];
            spans.extend(highlighted(app, &entry.label, &entry.matched, label_width));
            let used = 1 + label_width + 2 + 1 + text::width(&k) + 1;
            let detail = text::pad(&entry.detail, width.saturating_sub(used));
            spans.push(Span::raw("  "));
            spans.push(Span::styled(detail, t.style("ui.muted")));
            spans.push(Span::styled(format!(" {k} "), t.style("ui.key")));
            let line = Line::from(spans);
            if i == selected {
                super::select::selected(line, t, "ui.selection")
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(Span::styled(" nothing matches", t.style("ui.muted")), list);
    } else {
        frame.render_widget(Paragraph::new(lines), list);
    }
}

/// `label` cut or padded to `cols` columns, with the matched characters in the match style.
pub(crate) fn highlighted(
    app: &App,
    label: &str,
    matched: &[usize],
    cols: usize,
) -> Vec<Span<'static>> {
    let t = &app.theme;
    let shown = text::truncate(label, cols);
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (i, c) in shown.chars().enumerate() {
        let style = if matched.contains(&i) && c != '…' {
            t.style("ui.match")
        } else {
            t.style("ui.text")
        };
        match spans.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), style)),
        }
    }
    let pad = cols.saturating_sub(text::width(&shown));
    spans.push(Span::raw(" ".repeat(pad)));
    spans
}

/// The key of an action as the palette shows it: the first one bound on the screen under the
/// palette (or everywhere); else the first key of the first context that binds it, named with
/// that context (`] (board)` on the chat screen, where `]` goes to the next room).
fn palette_keys(app: &App, action: Action) -> String {
    let first = |context| app.keymap.keys_for(context, action).first().cloned();
    if let Some(key) = first(app.screen_context()).or_else(|| first(Context::Global)) {
        return key.to_string();
    }
    Context::ALL
        .into_iter()
        .find_map(|context| first(context).map(|key| format!("{key} ({})", context.name())))
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

fn problems(app: &App, frame: &mut Frame<'_>, area: Rect, lines: &[String], scroll: usize) {
    let t = &app.theme;
    let width = area.width.min(90);
    let inner_width = width.saturating_sub(2) as usize;
    let body: Vec<Line<'static>> = lines
        .iter()
        .flat_map(|l| text::wrap(l, inner_width))
        .map(|l| Line::from(Span::styled(l, t.style("ui.error"))))
        .collect();
    let height = (body.len() as u16).saturating_add(2);
    let rect = centered(area, width, area.height.saturating_sub(4).min(height));
    frame.render_widget(Clear, rect);
    let block = window(
        app,
        "Configuration problems (running on defaults; esc closes)",
    );
    scrolled::render(app, frame, rect, block, body, scroll);
}
