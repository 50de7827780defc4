//! What a filter and a search match. Matching is a pure function of (pattern, line): the
//! printable text of the line (ANSI removed, [`super::ansi::plain`]) against a regular expression,
//! so the server can apply the same filter to the whole stored log and then to the live tail.
//!
//! Patterns are smart-case: all lower case matches either case, any capital makes it exact.

use regex::{Regex, RegexBuilder};
use thiserror::Error;

use super::ansi;
use super::level::{self, Level};
use super::line::LogLine;

/// How large a compiled pattern may grow (patterns are typed by users, and may be shared).
const SIZE_LIMIT: usize = 1 << 20;

/// A pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a valid pattern: {reason} (fix it, or press esc to keep the previous one)")]
pub struct PatternError {
    /// What the regex parser said, on one line.
    pub reason: String,
}

/// A compiled, smart-case regular expression with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Smart case: a pattern without upper-case letters ignores case.
fn ignores_case(source: &str) -> bool {
    !source.chars().any(char::is_uppercase)
}

impl Pattern {
    /// Compiles `source`; an empty pattern is refused (it would match everything).
    pub fn new(source: &str) -> Result<Self, PatternError> {
        if source.is_empty() {
            return Err(PatternError {
                reason: "the pattern is empty".to_owned(),
            });
        }
        let regex = RegexBuilder::new(source)
            .case_insensitive(ignores_case(source))
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| PatternError {
                reason: e.to_string().lines().last().unwrap_or("").trim().to_owned(),
            })?;
        Ok(Self {
            source: source.to_owned(),
            regex,
        })
    }

    /// The pattern with its smart case written out (`(?i)` when it ignores case), so that a
    /// plain regex engine, such as the server's, matches exactly what this pattern matches.
    pub fn explicit(&self) -> String {
        if ignores_case(&self.source) {
            format!("(?i){}", self.source)
        } else {
            self.source.clone()
        }
    }

    /// The pattern as typed.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the printable text matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// The byte ranges of the matches in `text` (for highlighting).
    pub fn find_ranges(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        self.regex
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .map(|m| m.range())
            .collect()
    }
}

/// A filter: the lines that match a pattern, or (written `!pattern`) the lines that do not.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The pattern.
    pub pattern: Pattern,
    /// Keep the lines that do *not* match.
    pub inverted: bool,
}

impl Filter {
    /// Parses what the user typed: `regex` keeps matching lines, `!regex` drops them.
    pub fn parse(input: &str) -> Result<Self, PatternError> {
        let (inverted, source) = match input.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        Ok(Self {
            pattern: Pattern::new(source)?,
            inverted,
        })
    }

    /// The filter as typed (`!` included), for showing and for sending to the server.
    pub fn source(&self) -> String {
        let bang = if self.inverted { "!" } else { "" };
        format!("{bang}{}", self.pattern.source())
    }

    /// Whether `line` passes.
    pub fn matches(&self, line: &LogLine) -> bool {
        self.matches_text(&ansi::plain(&line.bytes))
    }

    /// Whether a line with this printable text passes.
    pub fn matches_text(&self, text: &str) -> bool {
        self.pattern.is_match(text) != self.inverted
    }
}

/// What a jump looks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Lines the search pattern matches (`n`/`N`).
    Pattern(Pattern),
    /// Lines of this level (`e`/`E`, `w`/`W`).
    Level(Level),
}

impl Query {
    /// Whether `line` is one the jump stops at.
    pub fn matches(&self, line: &LogLine) -> bool {
        let text = ansi::plain(&line.bytes);
        match self {
            Self::Pattern(p) => p.is_match(&text),
            Self::Level(l) => level::detect(&text) == Some(*l),
        }
    }
}
