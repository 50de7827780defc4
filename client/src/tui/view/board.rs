//! The board screen: columns side by side (scrolling sideways when they do not fit), cards with
//! number, title, priority, labels and assignee, and the filter bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use warren_protocol::{Card, Priority};

use super::text;
use crate::tui::app::App;

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
    let show_filter = app.board.filter_input.is_some() || !app.board.filter.is_empty();
    let [filter_area, columns_area] = Layout::vertical([
        Constraint::Length(u16::from(show_filter)),
        Constraint::Min(1),
    ])
    .areas(area);
    if show_filter {
        render_filter(app, frame, filter_area);
    }
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

fn render_filter(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let [label, field] =
        Layout::horizontal([Constraint::Length(8), Constraint::Min(1)]).areas(area);
    frame.render_widget(Span::styled(" filter ", t.style("ui.accent")), label);
    match &app.board.filter_input {
        Some(input) => frame.render_widget(input, field),
        None => frame.render_widget(
            Line::from(vec![
                Span::styled(app.board.filter.clone(), t.style("ui.text")),
                Span::styled("   (esc clears)", t.style("ui.muted")),
            ]),
            field,
        ),
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
    let title_width =
        width.saturating_sub(text::width(&number) + 1 + if marker.is_empty() { 0 } else { 2 });
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
    let mut second: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
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
    let mut lines = vec![Line::from(first)];
    if !second.is_empty() {
        lines.push(Line::from(second));
    }
    if selected {
        lines = lines
            .into_iter()
            .map(|l| {
                let w = l.width();
                let mut l = l.patch_style(t.style("card.selected"));
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
        let hint = if focused && app.board.filter.is_empty() {
            "empty — n adds a card"
        } else {
            ""
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
    // Each card is its lines plus one blank separator line.
    let heights: Vec<usize> = cards
        .iter()
        .map(|c| {
            if c.labels.is_empty() && c.assignee.is_none() {
                2
            } else {
                3
            }
        })
        .collect();
    let mut first = app
        .board
        .first_row
        .borrow()
        .get(column)
        .copied()
        .unwrap_or(0)
        .min(cards.len() - 1);
    if let Some(sel) = selected {
        if sel < first {
            first = sel;
        }
        while first < sel && heights[first..=sel].iter().sum::<usize>() > height {
            first += 1;
        }
    }
    app.board
        .first_row
        .borrow_mut()
        .insert(column.clone(), first);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, card) in cards.iter().enumerate().skip(first) {
        if lines.len() >= height {
            break;
        }
        lines.extend(card_lines(app, card, width, selected == Some(i)));
        lines.push(Line::raw(""));
    }
    let more_below = lines.len() > height;
    lines.truncate(height);
    if more_below && let Some(last) = lines.last_mut() {
        *last = Line::from(Span::styled(
            format!("{:^width$}", "▾ more"),
            t.style("ui.muted"),
        ));
    }
    if first > 0
        && let Some(top) = lines.first_mut()
    {
        top.spans.push(Span::styled(" ▴", t.style("ui.muted")));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
