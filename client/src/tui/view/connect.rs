//! The connection screen: what the client is doing while it has no workspace to show — where it
//! is connecting, why that failed in plain words, and when it tries again — and the final screen
//! for a refused token, with the command that fixes it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tokio::time::Instant;

use super::text;
use crate::keymap::{Action, Context};
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::state::ConnState;

/// Whether the connection screen replaces the board and chat: always for a refused token, and
/// whenever there is no workspace to show yet.
pub fn shows(app: &App) -> bool {
    matches!(app.conn, ConnState::Refused { .. }) || app.view().workspace.is_none()
}

/// Draws the connection screen into the body area.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let inner = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(1),
    };
    let lines = lines(app, Instant::now(), inner.width as usize);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Width of the labels (`Where`, `Why`, `Next`).
const LABEL: usize = 7;

fn quit_keys(app: &App) -> String {
    app.keymap
        .keys_for(Context::Global, Action::Quit)
        .first()
        .map_or_else(|| "quit".to_owned(), |k| format!("{k} quits"))
}

/// The screen's text at `now` (the retry countdown depends on it), `width` columns wide.
pub fn lines(app: &App, now: Instant, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let heading = |s: &str| Line::from(Span::styled(s.to_owned(), t.style("ui.title")));
    // A labelled value, wrapped with a hanging indent under the value.
    let field = |name: &str, value: String, style: &str| -> Vec<Line<'static>> {
        text::wrap(&value, width.saturating_sub(LABEL).max(10))
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let label = if i == 0 { name } else { "" };
                Line::from(vec![
                    Span::styled(format!("{label:<LABEL$}"), t.style("ui.muted")),
                    Span::styled(part, t.style(style)),
                ])
            })
            .collect()
    };
    let server = app.server.clone();
    let quit = quit_keys(app);
    match &app.conn {
        ConnState::Refused { message } => [
            vec![
                Line::from(Span::styled(
                    "The server refused your token".to_owned(),
                    t.style("ui.error"),
                )),
                Line::raw(""),
            ],
            field("Where", server.clone(), "ui.text"),
            field(
                "Why",
                format!(
                    "HTTP 401 — {}. The token was revoked, expired, mistyped, or belongs to another server.",
                    sanitize::line(message).trim_end_matches('.')
                ),
                "ui.text",
            ),
            vec![
            Line::raw(""),
            Line::from(Span::styled(
                "Get a new token from an admin of the workspace ('warren token create --user NAME'), then run:"
                    .to_owned(),
                t.style("ui.text"),
            )),
            Line::raw(""),
            Line::from(Span::styled(
                format!("    warren login --server {server} --token <new token>"),
                t.style("ui.accent"),
            )),
            Line::raw(""),
            Line::from(Span::styled(
                format!("and start warren again. ({quit})"),
                t.style("ui.muted"),
            )),
            ],
        ]
        .concat(),
        ConnState::Connecting => [
            vec![heading("Connecting…"), Line::raw("")],
            field("Where", server, "ui.text"),
            field(
                "Next",
                format!("waiting for the server to answer ({quit})"),
                "ui.muted",
            ),
        ]
        .concat(),
        ConnState::Reconnecting { at, reason } => {
            let secs = at.saturating_duration_since(now).as_secs_f32().ceil() as u64;
            let next = if secs == 0 {
                "trying again now".to_owned()
            } else {
                format!("trying again in {secs}s")
            };
            let title = if reason.starts_with(crate::tui::trouble::RATE_LIMITED) {
                "The server is not letting this address sign in yet"
            } else {
                "Cannot reach the warren server"
            };
            [
                vec![heading(title), Line::raw("")],
                field("Where", server, "ui.text"),
                field("Why", sanitize::line(reason), "ui.error"),
                field("Next", format!("{next} ({quit})"), "ui.muted"),
            ]
            .concat()
        }
        ConnState::Offline { reason } => [
            vec![heading("Cannot open the workspace"), Line::raw("")],
            field("Where", server, "ui.text"),
            field("Why", sanitize::line(reason), "ui.error"),
            field(
                "Next",
                format!("fix that and start warren again ({quit})"),
                "ui.muted",
            ),
        ]
        .concat(),
        ConnState::Connected => [
            vec![heading("Loading the workspace…"), Line::raw("")],
            field("Where", server, "ui.text"),
        ]
        .concat(),
    }
}
