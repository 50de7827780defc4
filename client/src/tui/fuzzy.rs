//! The one fuzzy matcher behind every "type to find" list (the command palette, the room jump):
//! `nucleo-matcher`'s ranking, ignoring case, with words typed apart matched separately (`rel
//! notes` finds `release-notes`) and the positions that matched, for highlighting.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// A match: how good it is (higher is better) and which characters of the text matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub score: u32,
    /// Char positions in the text, ascending, without repeats.
    pub matched: Vec<usize>,
}

/// A query, ready to be matched against many texts.
pub struct Fuzzy {
    pattern: Pattern,
    matcher: Matcher,
}

impl Fuzzy {
    /// A matcher for `query` (surrounding blanks ignored).
    pub fn new(query: &str) -> Self {
        Self {
            pattern: Pattern::new(
                query.trim(),
                CaseMatching::Ignore,
                Normalization::Smart,
                AtomKind::Fuzzy,
            ),
            matcher: Matcher::new(Config::DEFAULT),
        }
    }

    /// How `text` matches the query, if it does.
    pub fn find(&mut self, text: &str) -> Option<Hit> {
        let chars: Vec<char> = text.chars().collect();
        let haystack = if text.is_ascii() {
            Utf32Str::Ascii(text.as_bytes())
        } else {
            Utf32Str::Unicode(&chars)
        };
        let mut indices = Vec::new();
        let score = self
            .pattern
            .indices(haystack, &mut self.matcher, &mut indices)?;
        indices.sort_unstable();
        indices.dedup();
        Some(Hit {
            score,
            matched: indices.into_iter().map(|i| i as usize).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_typed_apart_each_match() {
        let hit = Fuzzy::new("rel notes").find("release-notes");
        assert!(hit.is_some());
        assert_eq!(Fuzzy::new("xyz").find("release-notes"), None);
    }

    #[test]
    fn positions_are_chars_not_bytes() {
        let hit = Fuzzy::new("ré").find("café résumé").expect("matches");
        assert!(
            hit.matched
                .iter()
                .all(|&i| i < "café résumé".chars().count())
        );
    }
}
