//! The log view's actions and how keys reach them. Every action is a keymap [`Action`]
//! (`log_…`) bound in the `[log]` context, so a user's keymap rebinds any of them; the defaults
//! (in `keymaps/default.toml`) follow less and lnav where they agree. The prompt's keys are text,
//! not actions: [`prompt_key`].

use std::sync::OnceLock;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::keymap::{Action, Context, Keymap};

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

/// Each action and the keymap [`Action`] that names it (`log_…`, bound in the `[log]` context of
/// the keymaps, with defaults in `keymaps/default.toml`).
const ACTIONS: &[(LogAction, Action)] = &[
    (LogAction::LineUp, Action::LogLineUp),
    (LogAction::LineDown, Action::LogLineDown),
    (LogAction::PageUp, Action::LogPageUp),
    (LogAction::PageDown, Action::LogPageDown),
    (LogAction::Top, Action::LogTop),
    (LogAction::Bottom, Action::LogBottom),
    (LogAction::Follow, Action::LogFollow),
    (LogAction::ToggleNumbers, Action::LogToggleNumbers),
    (LogAction::ToggleTimestamps, Action::LogToggleTimestamps),
    (LogAction::ToggleWrap, Action::LogToggleWrap),
    (LogAction::TogglePrettyJson, Action::LogTogglePrettyJson),
    (LogAction::ScrollLeft, Action::LogScrollLeft),
    (LogAction::ScrollRight, Action::LogScrollRight),
    (LogAction::Search, Action::LogSearch),
    (LogAction::Filter, Action::LogFilter),
    (LogAction::NextMatch, Action::LogNextMatch),
    (LogAction::PrevMatch, Action::LogPrevMatch),
    (LogAction::NextError, Action::LogNextError),
    (LogAction::PrevError, Action::LogPrevError),
    (LogAction::NextWarning, Action::LogNextWarning),
    (LogAction::PrevWarning, Action::LogPrevWarning),
    (LogAction::ToggleBookmark, Action::LogToggleBookmark),
    (LogAction::NextBookmark, Action::LogNextBookmark),
    (LogAction::PrevBookmark, Action::LogPrevBookmark),
    (LogAction::Clear, Action::LogClear),
];

impl LogAction {
    /// Every action of the log view.
    pub fn all() -> impl Iterator<Item = LogAction> {
        ACTIONS.iter().map(|(log, _)| *log)
    }

    /// The keymap action that names it.
    pub fn action(self) -> Action {
        ACTIONS
            .iter()
            .find(|(log, _)| *log == self)
            .map_or(Action::LogClear, |(_, action)| *action)
    }

    /// The log view's action a keymap action names, if it is one.
    pub fn from_action(action: Action) -> Option<LogAction> {
        ACTIONS
            .iter()
            .find(|(_, a)| *a == action)
            .map(|(log, _)| *log)
    }

    /// The action's name in keymap files (`log_…`).
    pub fn name(self) -> &'static str {
        self.action().name()
    }
}

/// The bundled default keymap, parsed once, for a view used without the client's own keymap.
pub fn default_keymap() -> &'static Keymap {
    static DEFAULT: OnceLock<Keymap> = OnceLock::new();
    DEFAULT.get_or_init(Keymap::default)
}

/// The action `event` runs in the log view (outside the prompt) under `keymap`'s `[log]` table.
pub fn action_for(keymap: &Keymap, event: &KeyEvent) -> Option<LogAction> {
    keymap
        .action(Context::Log, event)
        .and_then(LogAction::from_action)
}

/// The keys the view's own words name ("F follows", "N searches backwards"), as the keymap in
/// use binds them: a rebound key is named right, an unbound one by its action's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    /// Follow the live tail (`F`).
    pub follow: String,
    /// Start a search (`/`).
    pub search: String,
    /// The previous match (`N`).
    pub prev_match: String,
    /// Bookmark the top line (`m`).
    pub bookmark: String,
}

impl KeyNames {
    /// The first key `keymap` binds to each in the `[log]` context.
    pub fn from_keymap(keymap: &Keymap) -> Self {
        let name = |action: LogAction| {
            keymap
                .keys_for(Context::Log, action.action())
                .first()
                .map_or_else(|| action.name().to_owned(), ToString::to_string)
        };
        Self {
            follow: name(LogAction::Follow),
            search: name(LogAction::Search),
            prev_match: name(LogAction::PrevMatch),
            bookmark: name(LogAction::ToggleBookmark),
        }
    }
}

impl Default for KeyNames {
    /// The keys of the bundled default keymap.
    fn default() -> Self {
        Self::from_keymap(default_keymap())
    }
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
