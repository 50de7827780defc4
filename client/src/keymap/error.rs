//! Keymap errors. Each names the file, the line and the key path, and says what to do next, e.g.
//! `keymaps/vim.toml:12: [board] "ctrl-x": unknown action "card_nuke"; see 'warren keys' for the
//! action names`.

use std::fmt;

/// One problem found while loading a keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    /// The file, when the problem is in one (`keymaps/vim.toml` or the user's full path).
    pub file: Option<String>,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    pub kind: KeymapErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("invalid TOML: {0}")]
    Syntax(String),
    #[error("unknown keymap {0:?}; use default, vim or emacs")]
    UnknownKeymap(String),
    #[error("inherits = {0:?}: unknown keymap; use default, vim or emacs")]
    UnknownInherits(String),
    #[error("inherits = {0:?}: keymaps inherit in a loop")]
    InheritsLoop(String),
    #[error("inherits must be a string such as \"default\", found {0}")]
    InheritsNotString(&'static str),
    #[error(
        "unknown field {0:?}; a keymap has 'inherits' and the tables {contexts}",
        contexts = context_list()
    )]
    UnknownField(String),
    #[error(
        "unknown context [{0}]; the contexts are {contexts}",
        contexts = context_list()
    )]
    UnknownContext(String),
    #[error("[{0}] must be a table of \"key\" = \"action\" lines, found {1}")]
    NotATable(String, &'static str),
    #[error("[{context}] {key:?}: {reason}")]
    BadKey {
        context: String,
        key: String,
        reason: String,
    },
    #[error("[{context}] {key:?}: the action must be a string such as \"quit\", found {found}")]
    ActionNotString {
        context: String,
        key: String,
        found: &'static str,
    },
    #[error(
        "[{context}] {key:?}: unknown action {action:?}; see 'warren keys' for the action names"
    )]
    UnknownAction {
        context: String,
        key: String,
        action: String,
    },
    #[error(
        "[{context}] {key:?}: the same key as {other:?} on line {other_line}; keep only one of them"
    )]
    Duplicate {
        context: String,
        key: String,
        other: String,
        other_line: usize,
    },
    #[error(
        "[{context}] {key:?}: a plain character in a text field would stop you typing it; add a modifier such as ctrl- or alt-"
    )]
    StealsTyping { context: String, key: String },
}

fn context_list() -> String {
    let names: Vec<_> = super::Context::ALL
        .iter()
        .map(|c| format!("[{}]", c.name()))
        .collect();
    names.join(", ")
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keymap::source::write_location(f, self.file.as_deref(), self.line)?;
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for KeymapError {}
