//! Theme errors. Each names the file, the line and the key, like keymap errors:
//! `themes/mine.toml:7: "ui.error": unknown colour "rde"; use #rrggbb, …`.

use std::fmt;

/// One problem found while loading a theme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    /// The file, when the problem is in one (`themes/dark.toml` or the user's full path).
    pub file: Option<String>,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    pub kind: ThemeErrorKind,
}

/// The colour forms, for error messages.
const COLOURS: &str = "use #rrggbb, an ANSI name (black, red, green, yellow, blue, magenta, cyan, gray, dark-gray, light-red … light-cyan, white), reset, a palette name or 0-255";

/// What went wrong. `at` is the key path as shown to the user: `"ui.error"`, `[palette] "red"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("invalid TOML: {0}")]
    Syntax(String),
    #[error("unknown theme {0:?}; the bundled themes are {bundled}, or put NAME.toml in the themes directory of your config directory", bundled = super::bundled_names())]
    UnknownTheme(String),
    #[error("inherits = {0:?}: unknown theme; the bundled themes are {bundled}", bundled = super::bundled_names())]
    UnknownInherits(String),
    #[error("inherits = {0:?}: themes inherit in a loop")]
    InheritsLoop(String),
    #[error("inherits must be a string such as \"dark\", found {0}")]
    InheritsNotString(&'static str),
    #[error("syntax = {0:?}: unknown highlighting theme; use one of {names}", names = super::syntax::names())]
    UnknownSyntax(String),
    #[error("syntax must be a string such as \"base16-ocean.dark\", found {0}")]
    SyntaxNotString(&'static str),
    #[error("[palette] must be a table of name = colour lines, found {0}")]
    PaletteNotTable(&'static str),
    #[error("unknown theme key {0}; see docs/themes.md for the keys")]
    UnknownKey(String),
    #[error("{at}: unknown field {field:?}; a style has fg, bg and modifiers")]
    UnknownField { at: String, field: String },
    #[error("{at}: unknown colour {colour:?}; {COLOURS}")]
    UnknownColour { at: String, colour: String },
    #[error("{at}: a colour must be a string or a number 0-255, found {found}")]
    ColourType { at: String, found: String },
    #[error("{at}: unknown modifier {modifier:?}; use {modifiers}", modifiers = super::parse::MODIFIER_NAMES)]
    UnknownModifier { at: String, modifier: String },
    #[error("{at}: modifiers must be an array of strings such as [\"bold\"], found {found}")]
    ModifiersType { at: String, found: &'static str },
    #[error("{at}: a style must be a colour or a table {{ fg, bg, modifiers }}, found {found}")]
    StyleType { at: String, found: &'static str },
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keymap::source::write_location(f, self.file.as_deref(), self.line)?;
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ThemeError {}
