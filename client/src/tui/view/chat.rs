//! The chat screen: rooms with unread counts, the message history (markdown, highlighted code,
//! newest at the bottom, older pages on demand), who is typing, and the composer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use warren_protocol::Message;

use super::text;
use crate::tui::app::App;
use crate::tui::markdown::{self, MarkdownStyles};

/// Draws the chat screen.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let rooms_width = (area.width / 4).clamp(14, 28);
    let [rooms, main] =
        Layout::horizontal([Constraint::Length(rooms_width), Constraint::Min(10)]).areas(area);
    render_rooms(app, frame, rooms);
    render_room(app, frame, main);
}

fn render_rooms(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let block = Block::bordered()
        .border_style(t.style("ui.border"))
        .title(Span::styled(" Rooms ", t.style("ui.title")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let lines: Vec<Line<'static>> = app
        .view()
        .rooms
        .iter()
        .enumerate()
        .map(|(i, room)| {
            let unread = app.chat.unread.get(&room.id).copied().unwrap_or(0);
            let badge = if unread > 0 {
                format!(" {unread}")
            } else {
                String::new()
            };
            let name = text::truncate(
                &format!("#{}", room.name),
                width.saturating_sub(text::width(&badge)),
            );
            let style = if i == app.chat.room {
                t.style("chat.room.active")
            } else {
                t.style("chat.room")
            };
            let pad = width.saturating_sub(text::width(&name) + text::width(&badge));
            Line::from(vec![
                Span::styled(format!("{name}{}", " ".repeat(pad)), style),
                Span::styled(badge, t.style("chat.unread")),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The styles markdown is drawn with, from the theme.
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

fn render_room(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let Some(room) = app.view().rooms.get(app.chat.room) else {
        frame.render_widget(
            Paragraph::new(" No rooms yet.").style(t.style("ui.muted")),
            area,
        );
        return;
    };
    let compose_lines = app.chat.compose.lines().len().clamp(1, 6) as u16;
    let compose_height = if app.chat.composing || !app.chat.compose.is_empty() {
        compose_lines + 2
    } else {
        3
    };
    let [header, history, typing, compose] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(compose_height),
    ])
    .areas(area);
    let mut head = vec![Span::styled(
        format!(" #{} ", room.name),
        t.style("ui.title"),
    )];
    if !room.topic.is_empty() {
        head.push(Span::styled(
            text::truncate(
                &room.topic,
                header
                    .width
                    .saturating_sub(text::width(&room.name) as u16 + 4) as usize,
            ),
            t.style("ui.muted"),
        ));
    }
    frame.render_widget(Line::from(head), header);
    render_history(app, frame, history, &room.id);
    let typing_names = app.typing_in(&room.id);
    if !typing_names.is_empty() {
        let who = typing_names.join(", ");
        let verb = if typing_names.len() == 1 { "is" } else { "are" };
        frame.render_widget(
            Span::styled(
                text::truncate(&format!(" {who} {verb} typing…"), typing.width as usize),
                t.style("ui.muted"),
            ),
            typing,
        );
    }
    let title = if app.chat.editing.is_some() {
        " Edit message "
    } else {
        " Message "
    };
    let border = if app.chat.composing {
        t.style("ui.border.focused")
    } else {
        t.style("ui.border")
    };
    let block = Block::bordered()
        .border_style(border)
        .title(Span::styled(title, t.style("ui.title")));
    let inner = block.inner(compose);
    frame.render_widget(block, compose);
    if app.chat.composing || !app.chat.compose.is_empty() {
        frame.render_widget(&app.chat.compose, inner);
    } else {
        let keys = app.keymap.keys_for(
            crate::tui::action::Context::Chat,
            crate::tui::action::Action::Compose,
        );
        let hint = keys
            .first()
            .map_or_else(String::new, |k| format!(" press {k} to write"));
        frame.render_widget(Span::styled(hint, t.style("ui.muted")), inner);
    }
}

fn header_line(app: &App, message: &Message, pending: bool, selected: bool) -> Line<'static> {
    let t = &app.theme;
    let me = app.me.as_ref().map(|m| &m.user_id);
    let author_style = if Some(&message.author) == me {
        t.style("chat.author.self")
    } else {
        t.style("chat.author")
    };
    let mut spans = vec![
        Span::styled(app.view().member_name(&message.author), author_style),
        Span::raw("  "),
    ];
    if pending {
        spans.push(Span::styled("sending…", t.style("chat.pending")));
    } else {
        let (_, time) = warren_protocol::time::day_and_time(message.created_at, app.utc_offset);
        spans.push(Span::styled(time, t.style("chat.time")));
        if message.edited_at.is_some() {
            spans.push(Span::styled(" (edited)", t.style("chat.edited")));
        }
    }
    let line = Line::from(spans);
    if selected {
        line.patch_style(t.style("ui.selection"))
    } else {
        line
    }
}

fn render_history(app: &App, frame: &mut Frame<'_>, area: Rect, room: &warren_protocol::Id) {
    let t = &app.theme;
    let width = area.width.saturating_sub(2);
    let history = app.view().history.get(room);
    let mut messages: Vec<(&Message, bool)> = history
        .map(|h| h.messages.iter().map(|m| (m, false)).collect())
        .unwrap_or_default();
    let me = app.me.as_ref().map(|m| m.user_id.clone());
    let pending = me
        .as_ref()
        .map(|me| {
            app.outbox
                .pending_messages(room, me, crate::tui::app::now_ms())
        })
        .unwrap_or_default();
    messages.extend(pending.iter().map(|m| (m, true)));
    if messages.is_empty() {
        let loading = history.is_none_or(|h| !h.loaded);
        let text = if loading {
            " Loading messages…"
        } else {
            " No messages yet. Say hello!"
        };
        frame.render_widget(Span::styled(text, t.style("ui.muted")), area);
        return;
    }
    let styles = markdown_styles(app);
    // The message to keep in view: the selected one, else the newest.
    let anchor = app
        .chat
        .selected
        .as_ref()
        .and_then(|id| messages.iter().position(|(m, _)| &m.id == id))
        .unwrap_or(messages.len() - 1);
    let height = area.height as usize;
    // Walk back from the anchor until the screen is full; only these messages are rendered.
    let mut blocks: Vec<Vec<Line<'static>>> = Vec::new();
    let mut used = 0;
    let mut index = anchor + 1;
    while index > 0 && used < height {
        index -= 1;
        let (message, is_pending) = messages[index];
        let selected = app.chat.selected.as_ref() == Some(&message.id);
        let mut lines = Vec::new();
        let day = warren_protocol::time::day_and_time(message.created_at, app.utc_offset).0;
        let previous_day = index.checked_sub(1).map(|i| {
            warren_protocol::time::day_and_time(messages[i].0.created_at, app.utc_offset).0
        });
        if !is_pending && previous_day.as_ref() != Some(&day) {
            lines.push(Line::from(Span::styled(
                format!("── {day} ──"),
                t.style("ui.muted"),
            )));
        }
        lines.push(header_line(app, message, is_pending, selected));
        for line in app.chat_cache_lines(message, width, &styles) {
            let mut padded = vec![Span::raw("  ")];
            padded.extend(line.spans);
            lines.push(Line::from(padded));
        }
        used += lines.len();
        blocks.push(lines);
    }
    let at_top = index == 0;
    blocks.reverse();
    let mut lines: Vec<Line<'static>> = blocks.into_iter().flatten().collect();
    if lines.len() > height {
        lines.drain(..lines.len() - height);
    } else if at_top && lines.len() < height {
        let has_more = history.is_some_and(|h| h.has_more);
        let note = if has_more {
            "↑ older messages: move up to load"
        } else {
            "— start of the room —"
        };
        lines.insert(
            0,
            Line::from(Span::styled(format!("  {note}"), t.style("ui.muted"))),
        );
    }
    frame.render_widget(Paragraph::new(lines), area);
}

impl App {
    /// A message body rendered as markdown for a width, cached by message id, edit time and width.
    fn chat_cache_lines(
        &self,
        message: &Message,
        width: u16,
        styles: &MarkdownStyles,
    ) -> Vec<Line<'static>> {
        let key = (message.id.clone(), width, message.edited_at);
        if let Some(lines) = self.chat_render_cache.borrow().get(&key) {
            return lines.clone();
        }
        let lines = markdown::render(&message.body, width, styles);
        let mut cache = self.chat_render_cache.borrow_mut();
        if cache.len() > 5_000 {
            cache.clear();
        }
        cache.insert(key, lines.clone());
        lines
    }
}
