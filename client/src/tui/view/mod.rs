//! Drawing the client. Rendering reads the [`App`] and draws; the only state it keeps are scroll
//! offsets and a cache of rendered messages, both memos that make the next frame stable and cheap.
//! This module draws the frame (tab bar, the screen in front, notices, status bar, windows) and
//! holds the shared pieces; each screen draws itself (`screens/*/draw.rs`).

pub(crate) mod connect;
pub(crate) mod overlay;
mod prompt;
pub(crate) mod scrolled;
pub(crate) mod select;
mod status;
pub mod text;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::markdown::MarkdownStyles;
use super::screens::Tab;

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
    let notice = status::notice_lines(app, area.width);
    let [tabs, body, notice_area, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(notice.len() as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, frame, tabs);
    if connect::shows(app) {
        connect::render(app, frame, body);
    } else {
        app.tab.screen().draw(app, frame, body);
    }
    frame.render_widget(Paragraph::new(notice), notice_area);
    status::render(app, frame, status);
    overlay::render(app, frame, area);
}

fn render_tabs(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(" warren ", t.style("ui.accent"))];
    for tab in Tab::ALL.into_iter().filter(|t| t.screen().listed(app)) {
        let title = format!(" {} ", tab.screen().label(app));
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

/// The styles markdown is drawn with (chat messages, card descriptions), from the theme.
pub fn markdown_styles(app: &App) -> MarkdownStyles {
    let t = &app.theme;
    MarkdownStyles {
        text: t.style("chat.body"),
        bold: t.style("md.bold"),
        italic: t.style("md.italic"),
        code: t.style("md.code"),
        code_block: t.style("md.code_block"),
        link: t.style("md.link"),
        heading: t.style("md.heading"),
        quote: t.style("md.quote"),
        list_marker: t.style("md.list_marker"),
        syntax: t.syntax(),
    }
}
