//! The secret window (a bot's or a new token, shown once) and the tokens window (name, scope,
//! created, expires, last used; which one this window uses).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{ShownSecret, TokensView};
use crate::keymap::{Action, Context};
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::view::overlay::window;
use crate::tui::view::{centered, scrolled, select, text};

fn key(app: &App, context: Context, action: Action) -> String {
    app.keymap
        .keys_for(context, action)
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Draws the secret window.
pub fn secret(app: &App, frame: &mut Frame<'_>, area: Rect, shown: &ShownSecret) {
    let t = &app.theme;
    let rect = centered(area, 78, 12);
    frame.render_widget(Clear, rect);
    let title = sanitize::line(&shown.title);
    let block = window(app, &title);
    let width = usize::from(block.inner(rect).width.max(20));
    let mut lines = Vec::new();
    for part in text::wrap(&sanitize::line(&shown.about), width) {
        lines.push(Line::from(Span::styled(part, t.style("ui.text"))));
    }
    lines.push(Line::from(""));
    for part in text::wrap(&sanitize::line(&shown.secret), width) {
        lines.push(Line::from(Span::styled(part, t.style("ui.title"))));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(key(app, Context::Detail, Action::Copy), t.style("ui.key")),
        Span::styled(" copy   ", t.style("ui.text")),
        Span::styled(key(app, Context::Detail, Action::Cancel), t.style("ui.key")),
        Span::styled(" close (it is not shown again)", t.style("ui.text")),
    ]));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// Draws the tokens window.
pub fn tokens(app: &App, frame: &mut Frame<'_>, area: Rect, view: &TokensView, selected: usize) {
    let t = &app.theme;
    let rect = centered(area, 90, area.height.saturating_sub(4).max(8));
    frame.render_widget(Clear, rect);
    let block = window(app, "My tokens (esc closes)");
    let mut lines: Vec<Line<'static>> = Vec::new();
    match view {
        TokensView::Loading => {
            lines.push(Line::from(Span::styled("Loading…", t.style("ui.muted"))))
        }
        TokensView::Failed(why) => lines.push(Line::from(Span::styled(
            format!("Cannot list tokens: {}", sanitize::line(why)),
            t.style("ui.error"),
        ))),
        TokensView::Loaded(tokens) => {
            for (i, token) in tokens.iter().enumerate() {
                let (day, _) = app.day_and_time(token.created_at);
                let used = token.last_used_at.map_or_else(
                    || "never used".to_owned(),
                    |at| {
                        let (d, time) = app.day_and_time(at);
                        format!("used {d} {time}")
                    },
                );
                let expires = match token.expires_at {
                    None => String::new(),
                    Some(at) => {
                        let (d, time) = app.day_and_time(at);
                        format!(" · until {d} {time}")
                    }
                };
                let mark = if token.current { " · this window" } else { "" };
                let line = Line::from(vec![
                    Span::styled(
                        format!("{:<16} ", sanitize::line(&token.name)),
                        t.style("ui.text"),
                    ),
                    Span::styled(
                        format!(
                            "{:<5} made {day} · {used}{expires}{mark}",
                            token.scope.as_str()
                        ),
                        t.style("ui.muted"),
                    ),
                ]);
                lines.push(if i == selected {
                    select::selected(line, t, "ui.selection")
                } else {
                    line
                });
            }
        }
    }
    lines.push(Line::from(""));
    let k = |action| key(app, Context::Tokens, action);
    lines.push(Line::from(vec![
        Span::styled(k(Action::TokenNew), t.style("ui.key")),
        Span::styled(" new   ", t.style("ui.text")),
        Span::styled(k(Action::TokenRevoke), t.style("ui.key")),
        Span::styled(" revoke   ", t.style("ui.text")),
        Span::styled(k(Action::TokenRotate), t.style("ui.key")),
        Span::styled(" rotate   ", t.style("ui.text")),
        Span::styled(k(Action::TokenRevokeOthers), t.style("ui.key")),
        Span::styled(" sign out everywhere else", t.style("ui.text")),
    ]));
    let scroll = selected.saturating_sub(usize::from(rect.height.saturating_sub(5)));
    scrolled::render(app, frame, rect, block, lines, scroll);
}
