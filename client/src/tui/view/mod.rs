//! Drawing the client. Rendering reads the [`App`] and draws; the only state it keeps are scroll
//! offsets and a cache of rendered messages, both memos that make the next frame stable and cheap.

mod board;
mod chat;
mod history;
mod overlay;
mod prompt;
mod status;
pub mod text;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::state::Tab;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    frame.render_widget(
        ratatui::widgets::Block::default().style(app.theme.style("ui.text")),
        area,
    );
    if area.width < 20 || area.height < 6 {
        frame.render_widget(
            Paragraph::new("warren needs at least 20x6; enlarge the terminal")
                .style(app.theme.style("ui.error"))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, frame, tabs);
    match app.tab {
        Tab::Board => board::render(app, frame, body),
        Tab::Chat => chat::render(app, frame, body),
    }
    status::render(app, frame, status);
    overlay::render(app, frame, area);
}

fn render_tabs(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(" warren ", t.style("ui.accent"))];
    let unread: usize = app.chat.unread.values().sum();
    for tab in Tab::ALL {
        let mut title = format!(" {} ", tab.title());
        if tab == Tab::Chat && unread > 0 {
            title = format!(" {} ({unread}) ", tab.title());
        }
        let style = if tab == app.tab {
            t.style("ui.tab.active")
        } else {
            t.style("ui.tab")
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(title, style));
    }
    if let Some(ws) = &app.view().workspace {
        let right = text::truncate(&ws.name, (area.width / 3) as usize);
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let pad = (area.width as usize).saturating_sub(used + text::width(&right) + 1);
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(right, t.style("ui.muted")));
    }
    frame.render_widget(Line::from(spans), area);
}

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
