//! The code-highlighting side of a theme: which of syntect's bundled highlighting themes colours
//! fenced code blocks (`syntax = "base16-ocean.dark"` in a theme file), and how its token colours
//! are fitted to the code block's background and to the terminal, like every other colour.

use ratatui::style::Color;

use super::color::{ColorSupport, rgb};
use super::contrast::{self, DEFAULT_BG};

/// The highlighting themes bundled with syntect, which a theme's `syntax` key may name.
pub const SYNTAX_THEMES: &[&str] = &[
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];

/// The highlighting theme of a theme that names none.
pub const DEFAULT_SYNTAX: &str = "base16-ocean.dark";

/// The highlighting theme called `name`, as the `'static` name in [`SYNTAX_THEMES`].
pub fn find(name: &str) -> Option<&'static str> {
    SYNTAX_THEMES.iter().copied().find(|known| *known == name)
}

/// The names in [`SYNTAX_THEMES`], quoted and comma-separated, for error messages.
pub(crate) fn names() -> String {
    let quoted: Vec<String> = SYNTAX_THEMES.iter().map(|n| format!("{n:?}")).collect();
    quoted.join(", ")
}

/// How code is coloured: the highlighting theme, the terminal's colours and the background code
/// is drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxStyle {
    /// One of [`SYNTAX_THEMES`].
    pub theme: &'static str,
    /// The colours token colours are reduced to.
    pub support: ColorSupport,
    /// The code block's background as the terminal shows it.
    pub background: (u8, u8, u8),
}

impl Default for SyntaxStyle {
    fn default() -> Self {
        Self {
            theme: DEFAULT_SYNTAX,
            support: ColorSupport::TrueColor,
            background: DEFAULT_BG,
        }
    }
}

impl SyntaxStyle {
    /// The colours of code drawn on `background` (`None` or `reset` is the terminal's default)
    /// on a terminal with `support`.
    pub fn new(theme: &'static str, support: ColorSupport, background: Option<Color>) -> Self {
        let shown = background.and_then(|c| support.degrade(c));
        Self {
            theme,
            support,
            background: shown.and_then(rgb).unwrap_or(DEFAULT_BG),
        }
    }

    /// A token colour as it is drawn: lightened or darkened until it is readable on the code
    /// block's background, then reduced to the terminal's colours keeping that contrast. `None`
    /// when the terminal shows no colour.
    pub fn color(&self, (r, g, b): (u8, u8, u8)) -> Option<Color> {
        let (r, g, b) = contrast::ensure((r, g, b), self.background, contrast::TEXT);
        contrast::fit(
            Color::Rgb(r, g, b),
            self.background,
            contrast::TEXT,
            self.support,
        )
    }
}
