//! The log viewer of the Runs screen: a window onto a run's log that may hold a million lines.
//!
//! - [`line`]: [`LogLine`] and the [`LineSource`] the viewer reads through (the integration
//!   implements it over the server; [`MemorySource`] holds a log in memory).
//! - [`ansi`]: job output made safe for the terminal, keeping only SGR colour and style.
//! - [`matcher`], [`level`]: filters and searches (pure functions of pattern and line, so the
//!   server can run them over the whole stored log), and log levels.
//! - [`state`]: [`LogView`], its state, [`LogView::handle`] and the incremental search; [`keys`]:
//!   its actions, each a keymap action of the `[log]` context; [`widget`]: the drawing, of the
//!   visible lines only.
//!
//! It does not depend on `tui::app`: the integration registers the screen, feeds the source,
//! forwards keys and draws [`LogViewWidget`].

pub mod ansi;
pub mod keys;
pub mod level;
pub mod line;
pub mod matcher;
pub mod state;
pub mod widget;

#[cfg(test)]
mod tests;

pub use keys::{KeyNames, LogAction, PromptKey};
pub use level::Level;
pub use line::{Direction, LineSource, LogLine, MatchCount, MemorySource, Stream};
pub use matcher::{Filter, Pattern, PatternError, Query};
pub use state::{
    COUNT_BUDGET, FIND_BUDGET, Incremental, LogView, Notice, Options, Prompt, PromptKind,
};
pub use widget::LogViewWidget;
