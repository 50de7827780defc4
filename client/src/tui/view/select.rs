//! Drawing a selected row: the theme's selection style goes over every span of the row, so a
//! selection that names a foreground (or a background) shows it on every character, not only
//! where a span left its own colour unset.
//!
//! A span with a background of its own (inline code, a code block, a match highlighted on a
//! box) is drawn as a box on the row: it keeps its colours, which were chosen to be readable on
//! that background, and only gains the selection's modifiers. The screen's own background
//! (`ui.text`'s) is not a box.

use ratatui::text::Line;

use crate::theme::Theme;

/// `line` drawn as selected with the theme's style `key` (`ui.selection`, `card.selected`).
pub fn selected(line: Line<'static>, theme: &Theme, key: &str) -> Line<'static> {
    let style = theme.style(key);
    let screen = theme.style("ui.text").bg;
    let mut line = line.patch_style(style);
    for span in &mut line.spans {
        let boxed = span.style.bg.is_some() && span.style.bg != screen;
        span.style = if boxed {
            span.style
                .add_modifier(style.add_modifier)
                .remove_modifier(style.sub_modifier)
        } else {
            span.style.patch(style)
        };
    }
    line
}
