//! The audit log window: one line per entry (time, who, what, on what, from where) and its
//! details on a muted line under it, newest first; every text from the server is made safe for
//! the terminal first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

use super::AuditView;
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::view::overlay::window;
use crate::tui::view::{centered, scrolled};
use warren_protocol::audit::{AuditActor, AuditEntry};

/// Draws the audit window.
pub fn render(app: &App, frame: &mut Frame<'_>, area: Rect, view: &AuditView, scroll: usize) {
    let t = &app.theme;
    let rect = centered(area, 100, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = window(app, "Audit log, newest first (esc closes)");
    let mut lines: Vec<Line<'static>> = Vec::new();
    match view {
        AuditView::Loading => lines.push(Line::from(Span::styled("Loading…", t.style("ui.muted")))),
        AuditView::Failed(why) => lines.push(Line::from(Span::styled(
            format!("Cannot show the audit log: {}", sanitize::line(why)),
            t.style("ui.error"),
        ))),
        AuditView::Loaded { entries, .. } if entries.is_empty() => lines.push(Line::from(
            Span::styled("Nothing recorded yet.", t.style("ui.muted")),
        )),
        AuditView::Loaded { entries, more } => {
            for entry in entries {
                entry_lines(app, entry, &mut lines);
            }
            if *more {
                lines.push(Line::from(Span::styled(
                    "Older entries: warren audit --limit 500 (or --since, --action, --actor)",
                    t.style("ui.muted"),
                )));
            }
        }
    }
    scrolled::render(app, frame, rect, block, lines, scroll);
}

fn entry_lines(app: &App, entry: &AuditEntry, lines: &mut Vec<Line<'static>>) {
    let t = &app.theme;
    let (day, time) = app.day_and_time(entry.at);
    let actor = match &entry.actor {
        AuditActor::User { name, .. } => sanitize::line(name),
        AuditActor::Operator => "operator".to_owned(),
        AuditActor::Anonymous => "anonymous".to_owned(),
    };
    let target = entry.target.as_ref().map_or_else(String::new, |target| {
        if target.name.is_empty() {
            format!("{} {}", target.kind, target.id)
        } else {
            format!("{} {}", target.kind, target.name)
        }
    });
    lines.push(Line::from(vec![
        Span::styled(format!("{day} {time}  "), t.style("ui.muted")),
        Span::styled(format!("{actor:<12} "), t.style("ui.text")),
        Span::styled(
            format!("{:<15} ", sanitize::line(&entry.action)),
            t.style("ui.title"),
        ),
        Span::styled(sanitize::line(&target), t.style("ui.text")),
        Span::styled(
            format!("  from {}", sanitize::line(&entry.from)),
            t.style("ui.muted"),
        ),
    ]));
    if !entry.details.is_empty() {
        let details: Vec<String> = entry
            .details
            .iter()
            .map(|(k, v)| format!("{}={}", sanitize::line(k), sanitize::line(v)))
            .collect();
        lines.push(Line::from(Span::styled(
            format!("                  {}", details.join(" ")),
            t.style("ui.muted"),
        )));
    }
}
