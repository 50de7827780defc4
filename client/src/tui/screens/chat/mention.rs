//! Completing `@name` in the message box: the word after an `@` before the cursor becomes the
//! first member (person, bot or agent — agents are members) whose name starts with it.

use crate::tui::app::App;

/// Whether `c` may be part of a member name.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// The `@prefix` ending at the end of `before`, without the `@` (`None`: no mention there).
pub fn mention_prefix(before: &str) -> Option<&str> {
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| name_char(*c))
        .last()
        .map_or(before.len(), |(i, _)| i);
    let at = before[..start].strip_suffix('@')?;
    // `me@example` is not a mention: the `@` starts a word.
    if at.chars().last().is_some_and(name_char) {
        return None;
    }
    Some(&before[start..])
}

/// The names that complete `prefix` (ignoring case), shortest then alphabetical.
pub fn candidates<'a>(names: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<&'a str> {
    let lower = prefix.to_lowercase();
    let mut found: Vec<&str> = names
        .filter(|n| n.to_lowercase().starts_with(&lower))
        .collect();
    found.sort_by_key(|n| (n.chars().count(), n.to_lowercase()));
    found.dedup();
    found
}

impl App {
    /// Completes the `@name` before the cursor in the message box; says what else matched.
    pub(crate) fn complete_mention(&mut self) {
        let ratatui_textarea::DataCursor(row, col) = self.chat.compose.cursor();
        let Some(line) = self.chat.compose.lines().get(row) else {
            return;
        };
        let before: String = line.chars().take(col).collect();
        let Some(prefix) = mention_prefix(&before).map(str::to_owned) else {
            return;
        };
        let names: Vec<String> = self.view().members.iter().map(|m| m.name.clone()).collect();
        let found = candidates(names.iter().map(String::as_str), &prefix);
        let Some(first) = found.first() else {
            self.notify(format!("No member's name starts with “{prefix}”"), false);
            return;
        };
        for _ in 0..prefix.chars().count() {
            self.chat.compose.delete_char();
        }
        self.chat.compose.insert_str(format!("{first} "));
        if found.len() > 1 {
            let others = found[1..].join(", ");
            self.notify(format!("Also: {others}"), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mention_before_the_cursor_is_found() {
        assert_eq!(mention_prefix("hi @rev"), Some("rev"));
        assert_eq!(mention_prefix("@"), Some(""));
        assert_eq!(mention_prefix("mail me@exa"), None);
        assert_eq!(mention_prefix("no mention"), None);
        assert_eq!(
            candidates(["reviewer", "Rita", "mira", "re"].into_iter(), "R"),
            ["re", "Rita", "reviewer"]
        );
    }
}
