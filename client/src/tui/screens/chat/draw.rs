//! The chat screen: rooms with unread counts, the message history (markdown, highlighted code,
//! newest at the bottom, older pages on demand), who is typing, and the composer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::tui::app::App;
use crate::tui::view::text;

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
    // Agent replies being written, then an approval prompt, under the history.
    let mut streaming = super::stream::lines(app, &room.id, history.width);
    let keep = streaming.len().saturating_sub(usize::from(history.height / 2));
    streaming.drain(..keep);
    let prompt = app
        .shown_approval()
        .map(|(run, step)| (super::approval::height(app, &run, step, history.width), run, step));
    let prompt_height = prompt.as_ref().map_or(0, |p| p.0).min(history.height / 2);
    let [history, streaming_area, prompt_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(streaming.len() as u16),
        Constraint::Length(prompt_height),
    ])
    .areas(history);
    let filled = super::history::render(app, frame, history, &room.id);
    // Under a history that does not fill its area, the replies and the prompt follow the last
    // message instead of sitting at the bottom with blank rows above them.
    let gap = history.height.saturating_sub(filled);
    let (mut streaming_area, mut prompt_area) = (streaming_area, prompt_area);
    streaming_area.y -= gap;
    prompt_area.y -= gap;
    if !streaming.is_empty() {
        frame.render_widget(Paragraph::new(streaming), streaming_area);
    }
    if let Some((_, run, step)) = prompt {
        super::approval::render(app, frame, prompt_area, &run, step);
    }
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
    let mut block = Block::bordered()
        .border_style(border)
        .title(Span::styled(title, t.style("ui.title")));
    if app.chat.composing {
        block = block.title_bottom(compose_keys(app).right_aligned());
    }
    let inner = block.inner(compose);
    frame.render_widget(block, compose);
    if app.chat.composing || !app.chat.compose.is_empty() {
        frame.render_widget(&app.chat.compose, inner);
    } else {
        let keys = app
            .keymap
            .keys_for(crate::keymap::Context::Chat, crate::keymap::Action::Compose);
        let hint = keys
            .first()
            .map_or_else(String::new, |k| format!(" press {k} to write"));
        frame.render_widget(Span::styled(hint, t.style("ui.muted")), inner);
    }
}

/// The message box's keys, from the active keymap: " enter send · ctrl-j new line · esc leave ".
fn compose_keys(app: &App) -> Line<'static> {
    use crate::keymap::{Action, Context};
    let t = &app.theme;
    let mut spans = vec![Span::raw(" ")];
    let parts = [
        (Action::Send, "send"),
        (Action::Newline, "new line"),
        (Action::Cancel, "leave"),
    ];
    for (action, what) in parts {
        let Some(key) = app
            .keymap
            .keys_for(Context::Compose, action)
            .into_iter()
            .next()
        else {
            continue;
        };
        if spans.len() > 1 {
            spans.push(Span::styled(" · ", t.style("ui.muted")));
        }
        spans.push(Span::styled(key.to_string(), t.style("ui.key")));
        spans.push(Span::styled(format!(" {what}"), t.style("ui.muted")));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}
