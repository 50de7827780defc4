//! The status bar: workspace and user, connection state, pending changes, and the last notice.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use tokio::time::Instant;

use super::text;
use crate::tui::action::{Action, Context};
use crate::tui::app::App;
use crate::tui::state::ConnState;

/// The connection as words: `● connected`, `◌ reconnecting in 3s`, `○ offline`.
pub fn connection_label(conn: &ConnState, now: Instant) -> String {
    match conn {
        ConnState::Connected => "● connected".to_owned(),
        ConnState::Connecting => "◌ connecting…".to_owned(),
        ConnState::Reconnecting { at, .. } => {
            let secs = at.saturating_duration_since(now).as_secs_f32().ceil() as u64;
            if secs == 0 {
                "◌ reconnecting…".to_owned()
            } else {
                format!("◌ reconnecting in {secs}s")
            }
        }
        ConnState::Offline { .. } => "○ offline".to_owned(),
        ConnState::Refused { .. } => "○ token refused".to_owned(),
    }
}

/// Draws the status bar.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let base = t.style("ui.statusbar");
    let mut left = String::new();
    if let Some(ws) = &app.view().workspace {
        left.push_str(&ws.name);
    }
    if let Some(me) = &app.me {
        left.push_str(" · ");
        left.push_str(&crate::sanitize::line(&me.name));
    }
    let conn = connection_label(&app.conn, Instant::now());
    let conn_style = match app.conn {
        ConnState::Connected => t.style("ui.status.ok"),
        ConnState::Connecting | ConnState::Reconnecting { .. } => t.style("ui.status.warn"),
        ConnState::Offline { .. } | ConnState::Refused { .. } => t.style("ui.error"),
    };
    let pending = match app.outbox.len() {
        0 => String::new(),
        1 => " · 1 change waiting to be sent".to_owned(),
        n => format!(" · {n} changes waiting to be sent"),
    };
    let help = app
        .keymap
        .keys_for(Context::Global, Action::Help)
        .first()
        .map(|k| format!("{k} help "))
        .unwrap_or_default();
    let mut spans = vec![
        Span::styled(format!(" {} ", text::truncate(&left, 30)), base),
        Span::styled(format!(" {conn}"), conn_style),
        Span::styled(pending, t.style("ui.status.warn")),
    ];
    // The connection screen already says why; the bar does not repeat it.
    let explained = super::connect::shows(app);
    let notice = app.notice.clone().or_else(|| match &app.conn {
        _ if explained => None,
        ConnState::Reconnecting { reason, .. } | ConnState::Offline { reason } => {
            Some(crate::tui::state::Notice {
                text: reason.clone(),
                error: true,
            })
        }
        _ => None,
    });
    let used: usize = spans.iter().map(Span::width).sum();
    let room = (area.width as usize).saturating_sub(used + text::width(&help) + 2);
    if let Some(n) = notice
        && room > 4
    {
        let style = if n.error {
            t.style("ui.error")
        } else {
            t.style("ui.muted")
        };
        spans.push(Span::styled(
            format!("  {}", text::truncate(&n.text, room - 2)),
            style,
        ));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    spans.push(Span::styled(
        " ".repeat((area.width as usize).saturating_sub(used + text::width(&help))),
        base,
    ));
    spans.push(Span::styled(help, t.style("ui.key")));
    frame.render_widget(Line::from(spans).style(base), area);
}
