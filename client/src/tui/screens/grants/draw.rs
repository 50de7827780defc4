//! Drawing the grants window: one row per grant (the agent, the tool, who gave it and when),
//! newest first, the selected row in the selection style, and the key that revokes one. Names
//! from the server are made safe for the terminal first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

use super::GrantsView;
use crate::keymap::{Action, Context};
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::view::overlay::window;
use crate::tui::view::{centered, scrolled, select, text};

/// Draws the grants window with row `selected` highlighted.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, view: &GrantsView, selected: usize) {
    let t = &app.theme;
    let rows = match view {
        GrantsView::Loaded(grants) => grants.len().max(1),
        _ => 1,
    };
    let height = u16::try_from(rows + 4)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2));
    let rect = centered(area, 76, height);
    frame.render_widget(Clear, rect);
    let block = window(app, "Tools agents may call without asking (esc closes)");
    let width = usize::from(block.inner(rect).width);
    let mut lines: Vec<Line<'static>> = Vec::new();
    match view {
        GrantsView::Loading(_) => {
            lines.push(Line::from(Span::styled("Loading…", t.style("ui.muted"))));
        }
        GrantsView::Failed(why) => lines.push(Line::from(Span::styled(
            format!("Cannot list the grants: {}", sanitize::line(why)),
            t.style("ui.error"),
        ))),
        GrantsView::Loaded(grants) if grants.is_empty() => lines.push(Line::from(Span::styled(
            "None: every tool call that needs approval asks. \"Always\" in an approval prompt adds one.",
            t.style("ui.muted"),
        ))),
        GrantsView::Loaded(grants) => {
            for (i, grant) in grants.iter().enumerate() {
                let (day, time) = app.day_and_time(grant.granted_at);
                let agent = sanitize::line(&app.grant_agent_name(&grant.agent_id));
                let by = sanitize::line(&app.view().member_name(&grant.granted_by));
                let when = format!("by {by}, {day} {time}");
                let left = width.saturating_sub(when.chars().count() + 1);
                let what = format!(" {agent} may {}", grant.tool.as_str());
                let line = Line::from(vec![
                    Span::styled(text::pad(&what, left), t.style("ui.text")),
                    Span::styled(when, t.style("ui.muted")),
                ]);
                lines.push(if i == selected {
                    select::selected(line, t, "ui.selection")
                } else {
                    line
                });
            }
        }
    }
    lines.push(Line::raw(""));
    let revoke = app
        .keymap
        .keys_for(Context::Grants, Action::GrantRevoke)
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    lines.push(Line::from(vec![
        Span::styled(format!(" {revoke}"), t.style("ui.key")),
        Span::styled(
            " revoke: the agent asks again next time",
            t.style("ui.text"),
        ),
    ]));
    let scroll = selected.saturating_sub(usize::from(height.saturating_sub(4)));
    scrolled::render(app, frame, rect, block, lines, scroll);
}
