//! A room's message history: newest at the bottom, a day line where the day changes, one header
//! for a run of messages one author wrote within a few minutes, and a scroll window that keeps
//! the selected message in view with the messages below it drawn (never blank rows under it).
//!
//! The window is anchored by the first fully visible message, kept between frames in
//! [`ChatUi::top`](super::ChatUi), so moving the selection scrolls only when it
//! leaves the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use warren_protocol::{Id, Message};

use crate::tui::app::App;
use crate::tui::markdown::{self, MarkdownStyles};

/// Messages from one author closer together than this share one header.
pub const GROUP_WITHIN_MS: i64 = 5 * 60 * 1000;

/// One message in the history, confirmed or still being sent.
#[derive(Clone, Copy)]
struct Entry<'a> {
    message: &'a Message,
    pending: bool,
}

/// Draws the history of `room` into `area`, from its top; returns how many rows it filled (fewer
/// than the area's when the room's messages do not fill it).
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, room: &Id) -> u16 {
    let t = &app.theme;
    let history = app.view().history.get(room);
    let mut entries: Vec<Entry<'_>> = history
        .map(|h| {
            h.messages
                .iter()
                .map(|message| Entry {
                    message,
                    pending: false,
                })
                .collect()
        })
        .unwrap_or_default();
    let pending = app
        .me
        .as_ref()
        .map(|me| {
            app.outbox
                .pending_messages(room, &me.user_id, crate::tui::app::now_ms())
        })
        .unwrap_or_default();
    entries.extend(pending.iter().map(|message| Entry {
        message,
        pending: true,
    }));
    if entries.is_empty() {
        app.chat.top.replace(None);
        let loading = history.is_none_or(|h| !h.loaded);
        let text = if loading {
            " Loading messages…"
        } else {
            " No messages yet. Say hello!"
        };
        frame.render_widget(Span::styled(text, t.style("ui.muted")), area);
        return area.height.min(1);
    }
    let has_more = history.is_some_and(|h| h.has_more);
    // Before the first page, the messages that arrived live are not the start of the room.
    let loaded = history.is_some_and(|h| h.loaded);
    let mut blocks = Blocks {
        app,
        entries: &entries,
        width: area.width.saturating_sub(2),
        styles: crate::tui::view::markdown_styles(app),
        has_more,
        loaded,
        built: vec![None; entries.len()],
    };
    let anchor = app
        .chat
        .selected
        .as_ref()
        .and_then(|id| entries.iter().position(|e| &e.message.id == id));
    let remembered = app
        .chat
        .top
        .borrow()
        .as_ref()
        .and_then(|id| entries.iter().position(|e| &e.message.id == id));
    let height = area.height as usize;
    let window = place(
        &mut |i| blocks.height(i),
        entries.len(),
        height,
        anchor,
        remembered,
    );
    let lines = match window {
        Window::Bottom { first_full } => {
            app.chat
                .top
                .replace(Some(entries[first_full].message.id.clone()));
            let mut lines = Vec::new();
            let mut index = entries.len();
            while index > 0 && lines.len() < height {
                index -= 1;
                let mut block = blocks.lines(index);
                block.append(&mut lines);
                lines = block;
            }
            let extra = lines.len().saturating_sub(height);
            lines.drain(..extra);
            lines
        }
        Window::Top { top } => {
            app.chat.top.replace(Some(entries[top].message.id.clone()));
            let mut lines = Vec::new();
            let mut index = top;
            while index < entries.len() && lines.len() < height {
                lines.append(&mut blocks.lines(index));
                index += 1;
            }
            lines.truncate(height);
            lines
        }
    };
    let filled = u16::try_from(lines.len()).unwrap_or(u16::MAX).min(area.height);
    frame.render_widget(Paragraph::new(lines), area);
    filled
}

/// Where the window sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The newest messages fill the screen from the bottom; `first_full` is the first message
    /// drawn in full.
    Bottom { first_full: usize },
    /// Drawn from message `top` down, filling the screen.
    Top { top: usize },
}

/// Places the window over `n` messages whose heights `height_of` gives, on a screen `height`
/// rows tall. With no selection (`anchor` `None`) the newest messages show. Otherwise the window
/// starts where it was (`remembered`), moves up to the selected message if it is above, down
/// until the selected message fits if it is below, and is pulled to the bottom when the
/// messages after its top would not fill the screen.
pub fn place(
    height_of: &mut dyn FnMut(usize) -> usize,
    n: usize,
    height: usize,
    anchor: Option<usize>,
    remembered: Option<usize>,
) -> Window {
    let bottom = |height_of: &mut dyn FnMut(usize) -> usize| {
        let mut used = 0;
        let mut first_full = n;
        while first_full > 0 {
            let h = height_of(first_full - 1);
            if used + h > height && first_full < n {
                break;
            }
            used += h;
            first_full -= 1;
        }
        Window::Bottom {
            first_full: first_full.min(n.saturating_sub(1)),
        }
    };
    let Some(anchor) = anchor else {
        return bottom(height_of);
    };
    let mut top = match remembered {
        Some(top) => top,
        None => match bottom(height_of) {
            Window::Bottom { first_full } | Window::Top { top: first_full } => first_full,
        },
    };
    if anchor < top {
        top = anchor;
    }
    // The selected message is below the screen: scroll down until it fits (or is at the top).
    while top < anchor && (top..=anchor).map(&mut *height_of).sum::<usize>() > height {
        top += 1;
    }
    // Would the messages from `top` down leave blank rows? Then show the newest instead; the
    // selected message is among them.
    let mut below = 0;
    for i in top..n {
        below += height_of(i);
        if below >= height {
            return Window::Top { top };
        }
    }
    bottom(height_of)
}

/// The rendered blocks of a history, built on first use.
struct Blocks<'a> {
    app: &'a App,
    entries: &'a [Entry<'a>],
    width: u16,
    styles: MarkdownStyles,
    has_more: bool,
    loaded: bool,
    built: Vec<Option<Vec<Line<'static>>>>,
}

impl Blocks<'_> {
    fn height(&mut self, index: usize) -> usize {
        self.block(index).len()
    }

    fn lines(&mut self, index: usize) -> Vec<Line<'static>> {
        self.block(index).clone()
    }

    fn block(&mut self, index: usize) -> &Vec<Line<'static>> {
        if self.built[index].is_none() {
            let lines = self.build(index);
            self.built[index] = Some(lines);
        }
        self.built[index].get_or_insert_with(Vec::new)
    }

    /// A message's rows: the room's start (for the first), a day line, the header unless it
    /// continues the previous message's run, and the body.
    fn build(&self, index: usize) -> Vec<Line<'static>> {
        let app = self.app;
        let t = &app.theme;
        let Entry { message, pending } = self.entries[index];
        let previous = index.checked_sub(1).map(|i| self.entries[i]);
        let mut lines = Vec::new();
        if index == 0 {
            let note = if !self.loaded {
                "loading earlier messages…"
            } else if self.has_more {
                "↑ older messages: move up to load"
            } else {
                "— start of the room —"
            };
            lines.push(Line::from(Span::styled(
                format!("  {note}"),
                t.style("ui.muted"),
            )));
        }
        let day = |m: &Message| app.day_and_time(m.created_at).0;
        let new_day = !pending && previous.is_none_or(|p| day(p.message) != day(message));
        if new_day {
            lines.push(Line::from(Span::styled(
                format!("── {} ──", day(message)),
                t.style("ui.muted"),
            )));
        }
        let continues = !new_day
            && previous.is_some_and(|p| {
                !pending
                    && !p.pending
                    && p.message.author == message.author
                    && message.created_at - p.message.created_at < GROUP_WITHIN_MS
            });
        let selected = app.chat.selected.as_ref() == Some(&message.id);
        if !continues {
            lines.push(header_line(app, message, pending));
        }
        for line in app.chat_cache_lines(message, self.width, &self.styles) {
            let mut padded = vec![Span::raw("  ")];
            padded.extend(line.spans);
            lines.push(Line::from(padded));
        }
        if !pending && let Some(run) = app.run_of_message(&message.id) {
            lines.push(super::run_line::line(app, run));
        }
        if continues && message.edited_at.is_some() {
            lines.push(Line::from(Span::styled(
                "  (edited)",
                t.style("chat.edited"),
            )));
        }
        if selected {
            let skip = usize::from(index == 0) + usize::from(new_day);
            for line in lines.iter_mut().skip(skip) {
                *line = crate::tui::view::select::selected(std::mem::take(line), t, "ui.selection");
            }
        }
        lines
    }
}

fn header_line(app: &App, message: &Message, pending: bool) -> Line<'static> {
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
        let (_, time) = app.day_and_time(message.created_at);
        spans.push(Span::styled(time, t.style("chat.time")));
        if message.edited_at.is_some() {
            spans.push(Span::styled(" (edited)", t.style("chat.edited")));
        }
    }
    Line::from(spans)
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
