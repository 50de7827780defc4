//! The board screen: columns side by side (scrolling sideways when they do not fit), cards with
//! number, title, priority, labels and assignee, and the filter bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use warren_protocol::{Card, Priority};

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::view::text;

/// Narrowest a column gets before columns start scrolling sideways.
pub const MIN_COLUMN_WIDTH: u16 = 26;

/// Draws the board.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let view = app.view();
    let Some(board) = view.boards.get(app.board.board) else {
        let msg = if view.workspace.is_none() {
            "Loading the workspace…"
        } else {
            "This workspace has no boards yet."
        };
        frame.render_widget(Paragraph::new(msg).style(t.style("ui.muted")), area);
        return;
    };
    let [header_area, columns_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    render_header(app, frame, header_area, &board.name, view.boards.len());
    let columns = &board.columns;
    if columns.is_empty() {
        return;
    }
    let fit = (columns_area.width / MIN_COLUMN_WIDTH).max(1) as usize;
    let visible = fit.min(columns.len());
    let focus = app.board.column.min(columns.len() - 1);
    let mut first = app.board.first_column.get().min(columns.len() - visible);
    if focus < first {
        first = focus;
    } else if focus >= first + visible {
        first = focus + 1 - visible;
    }
    app.board.first_column.set(first);
    let areas =
        Layout::horizontal(vec![Constraint::Ratio(1, visible as u32); visible]).split(columns_area);
    for (slot, column) in columns.iter().enumerate().skip(first).take(visible) {
        let area = areas[slot - first];
        let focused = slot == focus;
        let cards = app.visible_cards(&column.id);
        let total = view.column_len(&column.id);
        let count = if cards.len() == total {
            format!(" {total} ")
        } else {
            format!(" {}/{total} ", cards.len())
        };
        let mut title = vec![
            Span::styled(
                format!(
                    " {} ",
                    text::truncate(&column.name, area.width.saturating_sub(8) as usize)
                ),
                t.style("column.title"),
            ),
            Span::styled(count, t.style("column.count")),
        ];
        if slot == first && first > 0 {
            title.insert(0, Span::styled("‹", t.style("ui.muted")));
        }
        let border = if focused {
            t.style("ui.border.focused")
        } else {
            t.style("ui.border")
        };
        let mut block = Block::bordered()
            .border_style(border)
            .title(Line::from(title));
        if slot == first + visible - 1 && first + visible < columns.len() {
            block =
                block.title_top(Line::from(Span::styled("›", t.style("ui.muted"))).right_aligned());
        }
        let inner = block.inner(area);
        frame.render_widget(block, area);
        render_cards(app, frame, inner, &column.id, &cards, focused);
    }
}

/// The board's name (and which of how many), then the filter: being typed, set, or a hint.
fn render_header(app: &App, frame: &mut Frame<'_>, area: Rect, name: &str, boards: usize) {
    let t = &app.theme;
    let mut title = vec![Span::styled(
        format!(" {} ", text::truncate(name, (area.width / 3) as usize)),
        t.style("ui.title"),
    )];
    if boards > 1 {
        let next = app
            .keymap
            .keys_for(Context::Board, Action::NextBoard)
            .first()
            .map(|k| format!(" · {k} next board"))
            .unwrap_or_default();
        title.push(Span::styled(
            format!("{}/{boards}{next} ", app.board.board + 1),
            t.style("ui.muted"),
        ));
    }
    let title_width = Line::from(title.clone()).width() as u16;
    let [title_area, filter_area] =
        Layout::horizontal([Constraint::Length(title_width), Constraint::Min(1)]).areas(area);
    frame.render_widget(Line::from(title), title_area);
    let filtering = app.board.filter_input.is_some() || !app.board.filter.is_empty();
    if !filtering {
        return;
    }
    let [label, field] =
        Layout::horizontal([Constraint::Length(9), Constraint::Min(1)]).areas(filter_area);
    frame.render_widget(Span::styled("  filter ", t.style("ui.accent")), label);
    let none = !app.filter_has_matches();
    match &app.board.filter_input {
        Some(input) if none => {
            let [input_area, note] = Layout::horizontal([
                Constraint::Length(text::width(&app.board.filter) as u16 + 2),
                Constraint::Min(1),
            ])
            .areas(field);
            frame.render_widget(input, input_area);
            frame.render_widget(Span::styled("no card matches", t.style("ui.error")), note);
        }
        Some(input) => frame.render_widget(input, field),
        None => {
            let note = if none {
                Span::styled("   no card matches (esc clears)", t.style("ui.error"))
            } else {
                Span::styled("   (esc clears)", t.style("ui.muted"))
            };
            frame.render_widget(
                Line::from(vec![
                    Span::styled(app.board.filter.clone(), t.style("ui.text")),
                    note,
                ]),
                field,
            );
        }
    }
}

fn card_lines(app: &App, card: &Card, width: usize, selected: bool) -> Vec<Line<'static>> {
    let t = &app.theme;
    let pending = app.outbox.touches(&card.id);
    let number = if card.number == 0 {
        "#…".to_owned()
    } else {
        format!("#{}", card.number)
    };
    let marker = priority_marker(card.priority);
    let pending_width = if pending && app.board.compact { 2 } else { 0 };
    let title_width = width.saturating_sub(
        text::width(&number) + 1 + if marker.is_empty() { 0 } else { 2 } + pending_width,
    );
    let mut first = vec![Span::styled(number, t.style("card.number")), Span::raw(" ")];
    if !marker.is_empty() {
        first.push(Span::styled(
            marker.to_owned(),
            t.style(&format!("card.priority.{}", card.priority.as_str())),
        ));
        first.push(Span::raw(" "));
    }
    first.push(Span::styled(
        text::truncate(&card.title, title_width),
        t.style("card.title"),
    ));
    let mut second: Vec<Span<'static>> = vec![Span::raw("  ")];
    let mut used = 2;
    for label in &card.labels {
        let s = format!("[{}]", text::truncate(label, 16));
        if used + text::width(&s) + 1 > width {
            break;
        }
        used += text::width(&s) + 1;
        second.push(Span::styled(s, t.style("card.label")));
        second.push(Span::raw(" "));
    }
    if let Some(assignee) = &card.assignee {
        let s = format!("@{}", app.view().member_name(assignee));
        let s = text::truncate(&s, width.saturating_sub(used));
        second.push(Span::styled(s, t.style("card.assignee")));
    }
    if pending {
        second.push(Span::styled(" ⟳", t.style("chat.pending")));
    }
    if pending && app.board.compact {
        first.push(Span::styled(" ⟳", t.style("chat.pending")));
    }
    let mut lines = vec![Line::from(first)];
    if second.len() > 1 && !app.board.compact {
        lines.push(Line::from(second));
    }
    if selected {
        lines = lines
            .into_iter()
            .map(|l| {
                let w = l.width();
                let mut l = crate::tui::view::select::selected(l, t, "card.selected");
                l.spans.push(Span::styled(
                    " ".repeat(width.saturating_sub(w)),
                    t.style("card.selected"),
                ));
                l
            })
            .collect();
    }
    lines
}

fn priority_marker(p: Priority) -> &'static str {
    match p {
        Priority::None => "",
        Priority::Low => "↓",
        Priority::Medium => "→",
        Priority::High => "↑",
        Priority::Urgent => "‼",
    }
}

/// Rows a card takes: its title, plus a row of labels and assignee when it has any and the
/// board is not compact.
fn card_height(app: &App, card: &Card) -> usize {
    let meta = !card.labels.is_empty() || card.assignee.is_some() || app.outbox.touches(&card.id);
    if meta && !app.board.compact { 2 } else { 1 }
}

/// The cards to draw in `height` rows: from `first` (moved as little as possible so the
/// selection shows) to the end index, and whether "more above" / "more below" rows are needed.
pub fn window(
    heights: &[usize],
    first: usize,
    selected: Option<usize>,
    height: usize,
) -> (usize, usize, bool, bool) {
    let n = heights.len();
    let mut first = first.min(n.saturating_sub(1));
    if let Some(sel) = selected {
        first = first.min(sel);
    }
    loop {
        let above = first > 0;
        let room = height.saturating_sub(usize::from(above));
        let rest: usize = heights[first..].iter().sum();
        let (end, below) = if rest <= room {
            (n, false)
        } else {
            let room = room.saturating_sub(1);
            let mut used = 0;
            let mut end = first;
            while end < n && used + heights[end] <= room {
                used += heights[end];
                end += 1;
            }
            (end.max(first + 1).min(n), true)
        };
        match selected {
            Some(sel) if sel >= end && first < sel => first += 1,
            _ => return (first, end, above, below),
        }
    }
}

fn render_cards(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    column: &warren_protocol::Id,
    cards: &[&Card],
    focused: bool,
) {
    let t = &app.theme;
    if cards.is_empty() {
        let hint = if !app.board.filter.trim().is_empty() {
            "no matches".to_owned()
        } else if focused {
            match app.keymap.keys_for(Context::Board, Action::CardNew).first() {
                Some(k) => format!("empty — {k} adds a card"),
                None => "empty".to_owned(),
            }
        } else {
            String::new()
        };
        frame.render_widget(Paragraph::new(hint).style(t.style("ui.muted")), area);
        return;
    }
    let width = area.width as usize;
    let selected = if focused {
        app.selected_row_in(column, cards)
    } else {
        None
    };
    let height = area.height as usize;
    let heights: Vec<usize> = cards.iter().map(|c| card_height(app, c)).collect();
    let remembered = app
        .board
        .first_row
        .borrow()
        .get(column)
        .copied()
        .unwrap_or(0);
    let (first, end, above, below) = window(&heights, remembered, selected, height);
    app.board
        .first_row
        .borrow_mut()
        .insert(column.clone(), first);
    let more = |arrow: &str, n: usize| {
        Line::from(Span::styled(
            format!("{:^width$}", format!("{arrow} {n} more")),
            t.style("ui.muted"),
        ))
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    if above {
        lines.push(more("▴", first));
    }
    for (i, card) in cards.iter().enumerate().take(end).skip(first) {
        lines.extend(card_lines(app, card, width, selected == Some(i)));
    }
    lines.truncate(height.saturating_sub(usize::from(below)));
    if below {
        lines.push(more("▾", cards.len() - end));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
