//! The line under a message that asked an agent (or is its answer): the run's status glyph,
//! number, tokens and cost. Enter on such a message opens the run.

use ratatui::text::{Line, Span};
use warren_protocol::Id;
use warren_protocol::agent::format_usd;
use warren_protocol::run::Run;

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::screens::runs::{status_label, status_style};

/// `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The run line of a message.
pub fn line(app: &App, run: &Run) -> Line<'static> {
    let t = &app.theme;
    let (glyph, word) = status_label(run.status);
    let muted = t.style("ui.muted");
    let mut spans = vec![
        Span::raw("  "),
        Span::styled(
            format!("{glyph} {} {word}", run.label()),
            t.style(status_style(run.status)),
        ),
    ];
    // Tokens are counted when a step is stored: a run still going with none counted yet says
    // nothing rather than "0 tokens".
    if let Some(agent) = &run.agent
        && (run.status.is_final() || agent.usage.input_tokens + agent.usage.output_tokens > 0)
    {
        let u = agent.usage;
        let counted = if u.counted { "~" } else { "" };
        spans.push(Span::styled(
            format!(
                " · {counted}{} tokens · {}",
                thousands(u.input_tokens + u.output_tokens),
                format_usd(agent.cost)
            ),
            muted,
        ));
    }
    if let Some(key) = app.keymap.keys_for(Context::Chat, Action::MessageOpen).first() {
        spans.push(Span::styled(format!(" · {key} opens"), muted));
    }
    Line::from(spans)
}

/// The agent run of the selected message, if it has one.
pub fn selected_run(app: &App) -> Option<Id> {
    let selected = app.chat.selected.as_ref()?;
    app.run_of_message(selected).map(|r| r.id.clone())
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(876), "876");
        assert_eq!(thousands(26_212), "26,212");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
