//! Display-width helpers: CJK characters and emoji take two columns and are never cut in half.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The display width of a string.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts a string to at most `max` columns, ending in `…` when it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Pads a string with spaces to exactly `cols` columns (truncating if longer).
pub fn pad(s: &str, cols: usize) -> String {
    let t = truncate(s, cols);
    let w = width(&t);
    format!("{t}{}", " ".repeat(cols.saturating_sub(w)))
}

/// Wraps text at spaces into lines of at most `cols` columns, keeping its own line breaks; a
/// word longer than a line is cut.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(1);
    let mut out = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let sep = usize::from(!line.is_empty());
            if !line.is_empty() && width(&line) + sep + width(word) > cols {
                out.push(std::mem::take(&mut line));
            } else if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(truncate(&line, cols));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_by_display_width() {
        assert_eq!(truncate("hello", 10), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        // Each of these takes two columns; a half character is never left.
        assert_eq!(truncate("日本語の部屋", 6), "日本…");
        assert_eq!(width(&truncate("日本語の部屋", 5)), 5);
        assert_eq!(truncate("🦀🦀🦀", 4), "🦀…");
        assert_eq!(pad("日本", 6), "日本  ");
    }

    #[test]
    fn wraps_at_spaces_and_keeps_line_breaks() {
        assert_eq!(wrap("one two three\nfour", 8), ["one two", "three", "four"]);
        assert_eq!(wrap("abcdefghij", 4), ["abc…"]);
    }
}
