//! Drawing the members window: one row per member with whether they are online (● or ○) and
//! their role, the selected row in the selection style, and the keys that change a role or
//! remove a member.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::view::overlay::window;
use crate::tui::view::{centered, scrolled, select, text};

/// Draws the members window with row `selected` highlighted.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, selected: usize) {
    let t = &app.theme;
    let members = app.members_listed();
    let height = u16::try_from(members.len() + 4)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2));
    let rect = centered(area, 60, height);
    frame.render_widget(Clear, rect);
    let online = app.online_count();
    let title = match app.my_role() {
        Some(role) => format!(
            "Members — {online} online — you are {} (esc closes)",
            role.as_str()
        ),
        None => format!("Members — {online} online (esc closes)"),
    };
    let block = window(app, &title);
    let width = block.inner(rect).width as usize;
    let me = app.me.as_ref().map(|m| m.user_id.clone());
    let mut lines: Vec<Line<'static>> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let you = if Some(&m.user_id) == me.as_ref() {
                " (you)"
            } else {
                ""
            };
            // A filled dot for online, a hollow one for offline: the shape carries the meaning,
            // so it reads without colour too.
            let (dot, dot_style) = if app.is_online(&m.user_id) {
                ("●", t.style("ui.status.ok"))
            } else {
                ("○", t.style("ui.muted"))
            };
            let line = Line::from(vec![
                Span::styled(format!(" {dot}"), dot_style),
                Span::styled(
                    text::pad(&format!(" {}{you}", m.name), width.saturating_sub(12)),
                    t.style("ui.text"),
                ),
                Span::styled(format!("{:<9}", m.role.as_str()), t.style("ui.muted")),
            ]);
            if i == selected {
                select::selected(line, t, "ui.selection")
            } else {
                line
            }
        })
        .collect();
    let key = |action| {
        app.keymap
            .keys_for(Context::Members, action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(key(Action::MemberRole), t.style("ui.key")),
        Span::styled(" change role   ", t.style("ui.text")),
        Span::styled(key(Action::MemberRemove), t.style("ui.key")),
        Span::styled(" remove   ", t.style("ui.text")),
        Span::styled(key(Action::Invite), t.style("ui.key")),
        Span::styled(" invite someone", t.style("ui.text")),
    ]));
    let scroll = selected.saturating_sub(height.saturating_sub(5) as usize);
    scrolled::render(app, frame, rect, block, lines, scroll);
}
