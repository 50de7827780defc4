//! The Logs screen's actions and their default keys, as one self-contained table the
//! integration copies into the keymaps (`[logs]`). Keys follow less and lnav where they agree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::keymap::KeyBinding;

/// Everything the log view does in answer to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogAction {
    /// Scroll one line towards the start (stops following).
    LineUp,
    /// Scroll one line towards the end.
    LineDown,
    /// Scroll one screen towards the start (stops following).
    PageUp,
    /// Scroll one screen towards the end.
    PageDown,
    /// Go to the first line (stops following).
    Top,
    /// Go to the last line and follow the live tail.
    Bottom,
    /// Follow the live tail again.
    Follow,
    /// Show or hide line numbers.
    ToggleNumbers,
    /// Show or hide timestamps.
    ToggleTimestamps,
    /// Wrap long lines or cut them at the edge.
    ToggleWrap,
    /// Lay JSON lines out over several lines.
    TogglePrettyJson,
    /// Show the text further left (when lines are cut, not wrapped).
    ScrollLeft,
    /// Show the text further right (when lines are cut, not wrapped).
    ScrollRight,
    /// Type a search pattern (`/`).
    Search,
    /// Type a filter: a pattern keeps matching lines, `!pattern` drops them; empty clears it.
    Filter,
    /// Next line the search matches.
    NextMatch,
    /// Previous line the search matches.
    PrevMatch,
    /// Next error line.
    NextError,
    /// Previous error line.
    PrevError,
    /// Next warning line.
    NextWarning,
    /// Previous warning line.
    PrevWarning,
    /// Bookmark the top line, or remove its bookmark.
    ToggleBookmark,
    /// Next bookmarked line.
    NextBookmark,
    /// Previous bookmarked line.
    PrevBookmark,
    /// Clear the search highlight and any message.
    Clear,
}

/// The default keys: key string (the keymap syntax), action, action name for keymap files.
pub const KEYS: &[(&str, LogAction, &str)] = &[
    ("k", LogAction::LineUp, "log_line_up"),
    ("up", LogAction::LineUp, "log_line_up"),
    ("j", LogAction::LineDown, "log_line_down"),
    ("down", LogAction::LineDown, "log_line_down"),
    ("enter", LogAction::LineDown, "log_line_down"),
    ("b", LogAction::PageUp, "log_page_up"),
    ("pageup", LogAction::PageUp, "log_page_up"),
    ("ctrl-b", LogAction::PageUp, "log_page_up"),
    ("space", LogAction::PageDown, "log_page_down"),
    ("pagedown", LogAction::PageDown, "log_page_down"),
    ("ctrl-f", LogAction::PageDown, "log_page_down"),
    ("g", LogAction::Top, "log_top"),
    ("home", LogAction::Top, "log_top"),
    ("G", LogAction::Bottom, "log_bottom"),
    ("end", LogAction::Bottom, "log_bottom"),
    ("F", LogAction::Follow, "log_follow"),
    ("#", LogAction::ToggleNumbers, "log_toggle_numbers"),
    ("t", LogAction::ToggleTimestamps, "log_toggle_timestamps"),
    ("s", LogAction::ToggleWrap, "log_toggle_wrap"),
    ("p", LogAction::TogglePrettyJson, "log_toggle_pretty_json"),
    ("left", LogAction::ScrollLeft, "log_scroll_left"),
    ("right", LogAction::ScrollRight, "log_scroll_right"),
    ("/", LogAction::Search, "log_search"),
    ("&", LogAction::Filter, "log_filter"),
    ("n", LogAction::NextMatch, "log_next_match"),
    ("N", LogAction::PrevMatch, "log_prev_match"),
    ("e", LogAction::NextError, "log_next_error"),
    ("E", LogAction::PrevError, "log_prev_error"),
    ("w", LogAction::NextWarning, "log_next_warning"),
    ("W", LogAction::PrevWarning, "log_prev_warning"),
    ("m", LogAction::ToggleBookmark, "log_toggle_bookmark"),
    ("u", LogAction::NextBookmark, "log_next_bookmark"),
    ("'", LogAction::NextBookmark, "log_next_bookmark"),
    ("U", LogAction::PrevBookmark, "log_prev_bookmark"),
    ("\"", LogAction::PrevBookmark, "log_prev_bookmark"),
    ("esc", LogAction::Clear, "log_clear"),
];

impl LogAction {
    /// The action's name in keymap files (`log_…`), from [`KEYS`].
    pub fn name(self) -> &'static str {
        KEYS.iter()
            .find(|(_, a, _)| *a == self)
            .map_or("", |(_, _, name)| name)
    }
}

/// The action a key runs in the log view (outside the prompt), from [`KEYS`].
pub fn action_for(event: &KeyEvent) -> Option<LogAction> {
    let pressed = KeyBinding::from_event(event);
    KEYS.iter().find_map(|(key, action, _)| {
        let binding: KeyBinding = key.parse().ok()?;
        (binding == pressed).then_some(*action)
    })
}

/// What a key does while the search or filter prompt is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKey {
    /// Insert a character.
    Insert(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Apply what was typed.
    Submit,
    /// Close the prompt, changing nothing.
    Cancel,
}

/// A key event as a prompt key, if it is one.
pub fn prompt_key(event: &KeyEvent) -> Option<PromptKey> {
    let plain = !event
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    match event.code {
        KeyCode::Enter => Some(PromptKey::Submit),
        KeyCode::Esc => Some(PromptKey::Cancel),
        KeyCode::Char('c') if !plain => Some(PromptKey::Cancel),
        KeyCode::Backspace => Some(PromptKey::Backspace),
        KeyCode::Char(c) if plain => Some(PromptKey::Insert(c)),
        _ => None,
    }
}
