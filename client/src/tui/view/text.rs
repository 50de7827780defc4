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

/// Wraps text at spaces to lines of at most `max` columns; a word longer than a line is cut
/// between characters. Line breaks in the text are kept.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in paragraph.split(' ') {
            let w = width(word);
            let gap = usize::from(!line.is_empty());
            if used + gap + w <= max {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += gap + w;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > max {
                    out.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push(c);
                used += cw;
            }
        }
        out.push(line);
    }
    out
}

/// Cuts one line (no line breaks) into rows of at most `max` columns, between characters: a
/// wide character that would not fit starts the next row (one wider than `max` gets a row of
/// its own). An empty line is one empty row.
pub fn cut_rows(line: &str, max: usize) -> Vec<&str> {
    let max = max.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, c) in line.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > max && i > start {
            out.push(&line[start..i]);
            start = i;
            used = 0;
        }
        used += w;
    }
    out.push(&line[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cut_by_display_width() {
        assert_eq!(cut_rows("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(cut_rows("", 3), [""]);
        // Two columns each: three fit in 7 columns, and the fourth starts the next row.
        assert_eq!(cut_rows("漢字漢字漢", 7), ["漢字漢", "字漢"]);
        assert_eq!(cut_rows("a漢字", 2), ["a", "漢", "字"]);
        // Wider than the row: alone on its row, never an endless loop.
        assert_eq!(cut_rows("漢x", 1), ["漢", "x"]);
        for row in cut_rows("🦀 crabs 🦀🦀 and 日本語の部屋", 5) {
            assert!(width(row) <= 5, "{row:?}");
        }
    }

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
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap("日本語の部屋", 5), ["日本", "語の", "部屋"]);
        assert_eq!(wrap("", 5), [""]);
    }
}
