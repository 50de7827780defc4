//! The semantic theme keys: what the UI styles, named by meaning rather than by widget. The UI
//! asks for exactly these; a theme file may set any of them and nothing else.

use ratatui::style::Modifier;

/// One theme key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeKey {
    /// The key as written in theme files, such as `ui.error`.
    pub name: &'static str,
    /// What the UI uses it for.
    pub doc: &'static str,
    /// Modifiers added when the terminal shows no colour, so the meaning survives (a selection
    /// is reversed, an error bold).
    pub mono: Modifier,
}

impl ThemeKey {
    /// The least contrast this key's foreground needs against its background: muted keys (those
    /// dimmed without colour) and borders need [`super::contrast::MUTED`], the rest is text and
    /// needs [`super::contrast::TEXT`].
    pub fn min_contrast(&self) -> f64 {
        if self.mono.contains(DIM) || self.name.starts_with("ui.border") {
            super::contrast::MUTED
        } else {
            super::contrast::TEXT
        }
    }
}

const NONE: Modifier = Modifier::empty();
const BOLD: Modifier = Modifier::BOLD;
const REV: Modifier = Modifier::REVERSED;
const DIM: Modifier = Modifier::DIM;
const UNDER: Modifier = Modifier::UNDERLINED;

macro_rules! keys {
    ($($name:literal, $mono:expr, $doc:literal;)*) => {
        /// Every theme key, with a one-line description each.
        pub const KEYS: &[ThemeKey] = &[$(ThemeKey { name: $name, doc: $doc, mono: $mono },)*];
    };
}

keys! {
    "ui.text", NONE, "Body text; its background is the screen's background";
    "ui.muted", DIM, "Secondary text: hints, placeholders, empty states";
    "ui.border", NONE, "Borders of panes and columns";
    "ui.border.focused", BOLD, "The border of the focused pane or column";
    "ui.title", BOLD, "Pane and overlay titles";
    "ui.selection", REV, "The selected row in lists (palette, rooms, messages); what it sets wins over the row's own colours";
    "ui.tab", NONE, "An inactive tab in the tab bar";
    "ui.tab.active", REV, "The active tab";
    "ui.statusbar", REV, "The status bar at the bottom";
    "ui.status.ok", NONE, "Good news in the status bar (connected, saved)";
    "ui.status.warn", BOLD, "Warnings in the status bar (reconnecting, offline)";
    "ui.error", BOLD, "Error messages";
    "ui.accent", BOLD, "Emphasis that is not an error: counts, highlights, the cursor line";
    "ui.overlay", NONE, "Popups (help, palette, confirm); its background fills them";
    "ui.key", BOLD, "Key names in help and hints";
    "ui.match", UNDER, "The characters matching a filter or palette search";
    "card.title", NONE, "A card's title on the board";
    "card.number", DIM, "A card's number (#12)";
    "card.label", NONE, "A card's labels";
    "card.assignee", NONE, "A card's assignee (@name)";
    "card.selected", REV, "The selected card; what it sets wins over the card's own colours";
    "card.priority.none", NONE, "The priority marker of a card without priority";
    "card.priority.low", NONE, "Low priority";
    "card.priority.medium", NONE, "Medium priority";
    "card.priority.high", BOLD, "High priority";
    "card.priority.urgent", BOLD, "Urgent priority";
    "column.title", BOLD, "A column's name";
    "column.count", DIM, "The number of cards in a column";
    "chat.room", NONE, "A room in the room list";
    "chat.room.active", REV, "The current room";
    "chat.unread", BOLD, "Unread counts and rooms with unread messages";
    "chat.author", BOLD, "A message's author";
    "chat.author.self", BOLD, "Your own name on your messages";
    "chat.time", DIM, "Message timestamps";
    "chat.body", NONE, "Message text";
    "chat.edited", DIM, "The (edited) marker";
    "chat.pending", DIM, "A message sent but not yet acknowledged by the server";
    "md.bold", BOLD, "Markdown **bold**";
    "md.italic", NONE, "Markdown *italic*";
    "md.code", NONE, "Markdown `inline code`";
    "md.code_block", NONE, "Markdown fenced code blocks";
    "md.link", UNDER, "Markdown links";
    "md.heading", BOLD, "Markdown headings";
    "md.quote", NONE, "Markdown block quotes";
    "md.list_marker", NONE, "Markdown list bullets and numbers";
}

/// The key named `name`, if it is one.
pub fn find(name: &str) -> Option<&'static ThemeKey> {
    KEYS.iter().find(|key| key.name == name)
}

/// Whether `path` is a key or the start of one (`ui`, `card.priority`), for dotted TOML tables.
pub(crate) fn is_prefix(path: &str) -> bool {
    KEYS.iter().any(|key| {
        key.name == path
            || key
                .name
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The nearest set ancestor's name of `name` (`ui.border.focused` → `ui.border`).
pub(crate) fn parent(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_documented_and_prefixes_work() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
        assert!(KEYS.iter().all(|k| !k.doc.is_empty()));
        assert!(is_prefix("ui"));
        assert!(is_prefix("card.priority"));
        assert!(is_prefix("ui.border"));
        assert!(!is_prefix("ui.bord"));
        assert_eq!(parent("ui.border.focused"), Some("ui.border"));
    }
}
