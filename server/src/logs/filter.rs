//! Log filters: a `LogFilter` compiled once per query or subscription, matched against a line's
//! text with its ANSI escape sequences removed (so `error` finds `\e[31merror\e[0m`, and a
//! pattern never matches the inside of a colour code).

use regex::{Regex, RegexBuilder};
use warren_protocol::run::LogFilter;

/// Most memory a compiled filter may take (a pattern that needs more is refused).
const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// A compiled filter.
#[derive(Debug, Clone)]
pub struct LineFilter {
    regex: Regex,
    invert: bool,
}

impl LineFilter {
    /// Compiles `filter`; the error quotes the regex error and says what to do.
    pub fn compile(filter: &LogFilter) -> Result<LineFilter, String> {
        let regex = RegexBuilder::new(&filter.pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                format!(
                    "the filter {:?} is not a valid regular expression (Rust regex syntax): {e}; fix the pattern, or escape special characters with \\",
                    filter.pattern
                )
            })?;
        Ok(LineFilter {
            regex,
            invert: filter.invert,
        })
    }

    /// Whether a line with this text passes the filter.
    pub fn matches(&self, text: &str) -> bool {
        let found = if text.contains('\u{1b}') {
            self.regex.is_match(&strip_ansi(text))
        } else {
            self.regex.is_match(text)
        };
        found != self.invert
    }
}

/// Whether a line passes an optional filter.
pub fn passes(filter: Option<&LineFilter>, text: &str) -> bool {
    filter.is_none_or(|f| f.matches(text))
}

/// `text` without escape sequences: CSI (`ESC [ … final`), OSC/DCS/APC/PM/SOS strings (ended by
/// BEL or `ESC \`), `ESC` + intermediates + final (`ESC ( B`), and two-byte `ESC x` sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']' | 'P' | '_' | '^' | 'X') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // `ESC (` B and the like: intermediates, then one final byte.
            Some(' '..='/') => {
                for c in chars.by_ref() {
                    if !(' '..='/').contains(&c) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pattern: &str, invert: bool) -> LineFilter {
        LineFilter::compile(&LogFilter {
            pattern: pattern.into(),
            invert,
        })
        .expect("compiles")
    }

    #[test]
    fn colour_codes_are_invisible_to_the_pattern() {
        let f = filter("^error: disk", false);
        assert!(f.matches("\u{1b}[1;31merror\u{1b}[0m: disk full"));
        assert!(!filter("31m", false).matches("\u{1b}[31mred"));
        assert!(filter("31m", true).matches("\u{1b}[31mred"));
        assert_eq!(
            strip_ansi("a\u{1b}]0;title\u{7}b\u{1b}]2;t\u{1b}\\c\u{1b}(Bd"),
            "abcd"
        );
    }

    #[test]
    fn an_invalid_pattern_says_what_is_wrong() {
        let e = LineFilter::compile(&LogFilter {
            pattern: "(unclosed".into(),
            invert: false,
        })
        .expect_err("invalid");
        assert!(
            e.contains("(unclosed") && e.contains("unclosed group"),
            "{e}"
        );
    }
}
