//! A window with more lines than fit: the scroll offset is clamped, lines wider than the window
//! end in an ellipsis, and the border says "more above" / "more below" when there is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use unicode_width::UnicodeWidthChar;

use crate::tui::app::App;

/// Draws `block` at `rect` with `lines` inside, from line `scroll` on. Lines must already be
/// wrapped where wrapping is wanted; anything still too wide is cut with `…`.
pub fn render(
    app: &App,
    frame: &mut Frame<'_>,
    rect: Rect,
    block: Block<'_>,
    lines: Vec<Line<'static>>,
    scroll: usize,
) {
    let inner = block.inner(rect);
    let height = inner.height as usize;
    let max = lines.len().saturating_sub(height);
    app.overlay_max_scroll.set(Some(max));
    let scroll = scroll.min(max);
    let above = scroll > 0;
    let below = scroll + height < lines.len();
    let muted = app.theme.style("ui.muted");
    let mut block = block;
    if above {
        block = block.title_top(Line::from(Span::styled(" ▴ more above ", muted)).right_aligned());
    }
    if below {
        block =
            block.title_bottom(Line::from(Span::styled(" ▾ more below ", muted)).right_aligned());
    }
    frame.render_widget(block, rect);
    let width = inner.width as usize;
    let shown: Vec<Line<'static>> = lines
        .into_iter()
        .skip(scroll)
        .take(height)
        .map(|line| cut(line, width))
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Cuts a styled line to `width` columns, ending in `…` when it was cut.
pub fn cut(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let budget = width.saturating_sub(1);
    let style = line.style;
    let mut used = 0;
    let mut spans: Vec<Span<'static>> = Vec::new();
    'spans: for span in line.spans {
        let mut content = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > budget {
                spans.push(Span::styled(content, span.style));
                break 'spans;
            }
            content.push(c);
            used += w;
        }
        spans.push(Span::styled(content, span.style));
    }
    if width > 0 {
        let last = spans.last().map(|s| s.style).unwrap_or_default();
        spans.push(Span::styled("…", last));
    }
    Line::from(spans).style(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_with_an_ellipsis() {
        let line = Line::from(vec![Span::raw("abc "), Span::raw("defgh")]);
        assert_eq!(cut(line.clone(), 20).width(), 9);
        let cut6 = cut(line, 6);
        assert_eq!(cut6.width(), 6);
        assert!(cut6.to_string().ends_with("ab…") || cut6.to_string() == "abc d…");
        assert_eq!(cut(Line::raw("日本語"), 4).to_string(), "日…");
    }
}
