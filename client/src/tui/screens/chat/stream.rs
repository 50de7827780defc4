//! Agent replies in progress in a room: for each agent run answering there that has not ended,
//! the agent's message being written (marked, with a spinner) with the text streamed so far,
//! committed per line or per full row (see [`crate::tui::agents::stream::committed`]). When the
//! run ends, its stored reply (an ordinary message) takes the place of this entry.

use ratatui::text::{Line, Span};
use warren_protocol::Id;
use warren_protocol::run::{Run, RunStatus};

use crate::tui::agents::stream::visible;

/// Rows of a reply in progress shown at most (the newest; the room's half is the other bound).
pub const MAX_ROWS: usize = 12;
use crate::tui::app::App;
use crate::tui::state::ConnState;
use crate::tui::view::text::{cut_rows, truncate};

/// The spinner's frames, one per 100 ms.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner frame at `now_ms`.
pub fn spinner(now_ms: i64) -> &'static str {
    SPINNER[(now_ms.rem_euclid(1000) / 100) as usize]
}

/// What the entry says of a run in progress.
fn doing(run: &Run) -> String {
    match run.status {
        RunStatus::Queued | RunStatus::Assigned => "waiting for a worker…".to_owned(),
        RunStatus::AwaitingApproval => "waits for a decision".to_owned(),
        RunStatus::Paused => {
            let why = run
                .agent
                .as_ref()
                .and_then(|a| a.paused_reason.clone())
                .unwrap_or_else(|| "paused".to_owned());
            format!("paused: {why}")
        }
        _ => "writing…".to_owned(),
    }
}

/// `text` cut into rows of at most `width` columns (display width: a wide character takes two
/// and is never split), line by line.
pub fn rows(text: &str, width: usize) -> Vec<String> {
    text.split('\n')
        .flat_map(|line| cut_rows(line, width))
        .map(str::to_owned)
        .collect()
}

/// The rows of the replies in progress in `room`, oldest run first, for `width` columns.
pub fn lines(app: &App, room: &Id, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let body_width = usize::from(width.saturating_sub(2)).max(1);
    let mut runs: Vec<&Run> = app
        .agent_runs_in(room)
        .into_iter()
        .filter(|r| !r.status.is_final())
        .collect();
    runs.reverse();
    let mut out = Vec::new();
    for run in runs {
        let name = app.agent_name(run);
        let mut head = vec![
            Span::styled(name, t.style("chat.author")),
            Span::raw("  "),
        ];
        // Out of touch with the server, nothing is known to be moving: no spinner, and the
        // entry says so (the run goes on on the server; the text catches up on reconnect).
        let connected = app.conn == ConnState::Connected;
        if run.status == RunStatus::Running && connected {
            head.push(Span::styled(
                format!("{} ", spinner(app.runs_now())),
                t.style("ui.accent"),
            ));
        }
        let mut what = doing(run);
        if !connected {
            what.push_str(" (not connected)");
        }
        head.push(Span::styled(
            truncate(&what, usize::from(width).saturating_sub(12)),
            t.style("chat.pending"),
        ));
        head.push(Span::styled(format!("  {}", run.label()), t.style("ui.muted")));
        out.push(Line::from(head));
        if let Some((_, raw)) = app.streams.latest(&run.id) {
            for row in visible(raw, body_width, MAX_ROWS) {
                out.push(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(row, t.style("ui.text")),
                ]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_full_width_pieces_line_by_line() {
        assert_eq!(rows("abcdef", 3), ["abc", "def"]);
        assert_eq!(rows("ab\n\ncdefg", 3), ["ab", "", "cde", "fg"]);
        // Wide characters take two columns: three fit in six.
        assert_eq!(rows("漢字漢字\nab", 6), ["漢字漢", "字", "ab"]);
        assert_eq!(spinner(0), "⠋");
        assert_eq!(spinner(1_150), "⠙");
    }
}
