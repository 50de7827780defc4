//! Makes untrusted text (titles, names, message bodies written by other people) safe to print to a
//! terminal: escape sequences and control characters are removed so nobody can move the cursor,
//! recolour the screen, set the window title or hide text by writing a card title.

/// Sanitises a one-line value such as a title or name: every control character is removed, tabs
/// and line breaks become spaces.
pub fn line(text: &str) -> String {
    clean(text, false)
}

/// Sanitises a multi-line value such as a message body: like [`line`], but line breaks are kept,
/// each as `\n` (a CRLF or a lone CR becomes `\n`: a bare CR would send the cursor back to column
/// 0 and let the rest of the line overwrite what is already drawn).
pub fn block(text: &str) -> String {
    clean(text, true)
}

fn clean(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\r' if keep_newlines => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\t' | '\n' | '\r' => {
                if !(c == '\r' && chars.peek() == Some(&'\n')) {
                    out.push(' ');
                }
            }
            '\u{1b}' => skip_escape(&mut chars),
            // CSI as a single C1 character: skip its parameters too.
            '\u{9b}' => skip_csi(&mut chars),
            // OSC, DCS, SOS, PM, APC as single C1 characters: skip to the string terminator.
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional overrides and isolates can make text display in a different order than it is
/// stored; they are dropped from terminal output.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // Two-character sequences (ESC c, ESC 7, …) and character-set selections (ESC ( B).
        Some('(' | ')' | '*' | '+' | '#' | '%') => {
            chars.next();
        }
        _ => {}
    }
}

/// Skips CSI parameters and intermediates up to and including the final byte (`@` to `~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) || c.is_control() && c != '\u{1b}' {
            break;
        }
    }
}

/// Skips a control string up to BEL, ST (`ESC \`) or the C1 ST character.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences() {
        assert_eq!(line("\u{1b}[31mred\u{1b}[0m title"), "red title");
        assert_eq!(line("a\u{1b}]0;pwned\u{7}b"), "ab");
        assert_eq!(
            line("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(line("a\u{9b}2Jb"), "ab");
        assert_eq!(line("x\u{1b}cy"), "xy");
        assert_eq!(line("bell\u{7}\u{8}\u{7f}"), "bell");
    }

    #[test]
    fn line_flattens_and_block_keeps_newlines() {
        assert_eq!(line("one\ntwo\tthree\r\nfour"), "one two three four");
        assert_eq!(block("one\ntwo\r\nthree\u{1b}[2K"), "one\ntwo\nthree");
        assert_eq!(block("secret\rshown"), "secret\nshown");
        assert_eq!(block("a\r\rb\r"), "a\n\nb\n");
        assert_eq!(line("secret\rshown"), "secret shown");
    }

    #[test]
    fn keeps_ordinary_unicode_and_drops_bidi_overrides() {
        assert_eq!(line("Ünïcødé ✓ 日本"), "Ünïcødé ✓ 日本");
        assert_eq!(line("abc\u{202e}fed"), "abcfed");
    }
}
