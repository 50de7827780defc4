//! The window that shows a new invite's code once: the code on a line of its own (easy to
//! select with the mouse in most terminals), the `warren join` line to pass on, what the invite
//! allows, and the keys to copy it or close it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::ShownInvite;
use crate::keymap::{Action, Context};
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::view::overlay::window;
use crate::tui::view::{centered, text};

/// Draws the invite window.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, shown: &ShownInvite) {
    let t = &app.theme;
    let rect = centered(area, 78, 12);
    frame.render_widget(Clear, rect);
    let block = window(app, "Invite — the code is shown once");
    let inner = block.inner(rect);
    let width = usize::from(inner.width.max(20));
    let code = sanitize::line(&shown.code);
    let (day, time) = app.day_and_time(shown.expires_at);
    let uses = if shown.uses == 1 {
        "one person".to_owned()
    } else {
        format!("up to {} people", shown.uses)
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "Lets in {uses} as {}, until {day} {time}.",
                shown.role.as_str()
            ),
            t.style("ui.text"),
        )),
        Line::from(""),
    ];
    for part in text::wrap(&code, width) {
        lines.push(Line::from(Span::styled(part, t.style("ui.title"))));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("They run:", t.style("ui.muted"))));
    for part in text::wrap(&sanitize::line(&app.join_line(&code)), width) {
        lines.push(Line::from(Span::styled(part, t.style("ui.text"))));
    }
    lines.push(Line::from(""));
    let key = |action| {
        app.keymap
            .keys_for(Context::Detail, action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    lines.push(Line::from(vec![
        Span::styled(key(Action::Copy), t.style("ui.key")),
        Span::styled(" copy the join line   ", t.style("ui.text")),
        Span::styled(key(Action::Cancel), t.style("ui.key")),
        Span::styled(" close (the code is not shown again)", t.style("ui.text")),
    ]));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
