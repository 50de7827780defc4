//! The status bar: workspace and user, connection state, who is online, pending changes, and
//! the last notice.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tokio::time::Instant;

use super::text;
use crate::keymap::{Action, Context};
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

/// Most lines a status message takes above the status bar; the messages window shows the rest.
pub const MAX_NOTICE_LINES: usize = 3;

/// The current status message wrapped to `width`, at most [`MAX_NOTICE_LINES`] lines; a longer
/// one ends with the key that shows it in full.
pub fn notice_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some(notice) = &app.notice else {
        return Vec::new();
    };
    let t = &app.theme;
    let style = if notice.error {
        t.style("ui.error")
    } else {
        t.style("ui.text")
    };
    let width = (width as usize).saturating_sub(2).max(10);
    let mut lines = text::wrap(&notice.text, width);
    if lines.len() > MAX_NOTICE_LINES {
        lines.truncate(MAX_NOTICE_LINES);
        let more = match app
            .keymap
            .keys_for(Context::Global, Action::Messages)
            .first()
        {
            Some(k) => format!(" ({k} shows all)"),
            None => " (:messages shows all)".to_owned(),
        };
        if let Some(last) = lines.last_mut() {
            let keep = width.saturating_sub(text::width(&more));
            *last = format!("{}{more}", text::truncate(&format!("{last}  "), keep));
        }
    }
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(format!(" {l}"), style)))
        .collect()
}

/// One part of the status bar, in the order it is drawn.
struct Part {
    text: String,
    style: Style,
}

/// Draws the status bar: workspace and user, connection, pending changes and the reason for
/// being offline on the left, the help key on the right. Parts never run into each other: when
/// the bar is too narrow the least useful part gives way first.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let base = t.style("ui.statusbar");
    let width = area.width as usize;
    let mut who = String::new();
    if let Some(ws) = &app.view().workspace {
        who.push_str(&ws.name);
    }
    if let Some(me) = &app.me {
        if !who.is_empty() {
            who.push_str(" · ");
        }
        who.push_str(&crate::sanitize::line(&me.name));
    }
    let conn_style = match app.conn {
        ConnState::Connected => t.style("ui.status.ok"),
        ConnState::Connecting | ConnState::Reconnecting { .. } => t.style("ui.status.warn"),
        ConnState::Offline { .. } | ConnState::Refused { .. } => t.style("ui.error"),
    };
    let n = app.outbox.len();
    let pending_long = match n {
        0 => String::new(),
        1 => "1 change waiting to be sent".to_owned(),
        n => format!("{n} changes waiting to be sent"),
    };
    let pending_short = if n == 0 {
        String::new()
    } else {
        format!("{n} unsent")
    };
    // The connection screen already says why; the bar does not repeat it.
    let reason = match &app.conn {
        _ if super::connect::shows(app) => String::new(),
        ConnState::Reconnecting { reason, .. } | ConnState::Offline { reason } => {
            crate::sanitize::line(reason)
        }
        _ => String::new(),
    };
    let help = app
        .keymap
        .keys_for(Context::Global, Action::Help)
        .first()
        .map(|k| format!("{k} help"))
        .unwrap_or_default();
    let conn = connection_label(&app.conn, Instant::now());
    // Who is online here (people and bots), while connected.
    let online = match (app.conn == ConnState::Connected, app.online_count()) {
        (true, n) if n > 0 => format!("{n} online"),
        _ => String::new(),
    };
    // Try the full bar, then give way: the reason, the long pending text, the help key, the
    // online count, and finally the workspace and user are cut to what is left.
    let attempts = [
        (true, true, true, true),
        (false, true, true, true),
        (false, false, true, true),
        (false, false, false, true),
        (false, false, false, false),
    ];
    let mut parts: Vec<Part> = Vec::new();
    let mut right = String::new();
    for (with_reason, long_pending, with_help, with_online) in attempts {
        parts.clear();
        let pending = if long_pending {
            &pending_long
        } else {
            &pending_short
        };
        parts.push(Part {
            text: who.clone(),
            style: base,
        });
        parts.push(Part {
            text: conn.clone(),
            style: conn_style,
        });
        if with_online {
            parts.push(Part {
                text: online.clone(),
                style: t.style("ui.muted"),
            });
        }
        parts.push(Part {
            text: pending.clone(),
            style: t.style("ui.status.warn"),
        });
        if with_reason {
            parts.push(Part {
                text: reason.clone(),
                style: t.style("ui.error"),
            });
        }
        parts.retain(|p| !p.text.is_empty());
        right = if with_help {
            help.clone()
        } else {
            String::new()
        };
        if bar_width(&parts, &right) <= width {
            break;
        }
    }
    // The reason, when it did not fit whole, gets what room is left (if that is enough to read).
    let shown_reason = parts.iter().any(|p| p.text == reason);
    if !reason.is_empty() && !shown_reason {
        let room = width.saturating_sub(bar_width(&parts, &right) + GAP.len());
        if room >= 12 {
            parts.push(Part {
                text: text::truncate(&reason, room),
                style: t.style("ui.error"),
            });
        }
    }
    // Still too wide: cut the workspace and user to what is left.
    let over = bar_width(&parts, &right).saturating_sub(width);
    if over > 0
        && let Some(first) = parts.first_mut()
    {
        let keep = text::width(&first.text).saturating_sub(over);
        first.text = text::truncate(&first.text, keep);
    }
    let mut spans = vec![Span::styled(" ", base)];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(GAP, base));
        }
        spans.push(Span::styled(part.text.clone(), part.style));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let fill = width.saturating_sub(used + text::width(&right) + 1);
    spans.push(Span::styled(" ".repeat(fill), base));
    if !right.is_empty() {
        spans.push(Span::styled(right, t.style("ui.key")));
        spans.push(Span::styled(" ", base));
    }
    frame.render_widget(Line::from(spans).style(base), area);
}

/// The space between two parts of the bar.
const GAP: &str = "  ";

/// The columns the bar takes: a space at each end, the parts with gaps, and the right part with
/// at least a gap before it.
fn bar_width(parts: &[Part], right: &str) -> usize {
    let left: usize = parts.iter().map(|p| text::width(&p.text)).sum::<usize>()
        + GAP.len() * parts.len().saturating_sub(1);
    let right = if right.is_empty() {
        0
    } else {
        GAP.len() + text::width(right)
    };
    1 + left + right + 1
}
