//! Drawing a selected row: the theme's selection style goes over every span of the row, so a
//! selection that names a foreground (or a background) shows it on every character, not only
//! where a span left its own colour unset.

use ratatui::style::Style;
use ratatui::text::Line;

/// `line` drawn as selected with `style`: each span keeps what the selection leaves unset and
/// takes what it sets.
pub fn selected(line: Line<'static>, style: Style) -> Line<'static> {
    let mut line = line.patch_style(style);
    for span in &mut line.spans {
        span.style = span.style.patch(style);
    }
    line
}
