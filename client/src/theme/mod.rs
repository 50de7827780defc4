//! Themes: the style of every semantic key the UI draws with ([`KEYS`]).
//!
//! Themes are helix-like TOML files: an optional `inherits`, styles such as
//! `"ui.error" = { fg = "red", modifiers = ["bold"] }`, and a `[palette]` of named colours.
//! Four are bundled from `themes/` (`dark`, `light`, `high-contrast`, `base16`); users add
//! `themes/NAME.toml` in the config directory, which may inherit a bundled one. Every problem
//! is a [`ThemeError`] naming file, line and key, and loading falls back to the bundled default
//! theme. A theme also names the highlighting theme for code (`syntax = "…"`, [`SYNTAX_THEMES`]).
//! [`Theme::resolve`] fits the colours to what the terminal shows ([`ColorSupport`]) without
//! losing contrast ([`contrast`]), and [`Theme::syntax`] tells the highlighter how to colour code
//! the same way. See `docs/themes.md`.

mod color;
pub mod contrast;
mod error;
mod keys;
mod parse;
mod syntax;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Style};

pub use color::{ColorSupport, parse_color, rgb};
pub use error::{ThemeError, ThemeErrorKind};
pub use keys::{KEYS, ThemeKey};
pub use syntax::{DEFAULT_SYNTAX, SYNTAX_THEMES, SyntaxStyle};

use crate::keymap::source::Source;
use parse::{ColorRef, Layer};

/// The theme used when none is chosen.
pub const DEFAULT: &str = "dark";

/// The directory inside the config directory that holds user themes.
pub const USER_DIR: &str = "themes";

/// The bundled themes: name, path shown in errors, contents.
pub const BUNDLED: &[(&str, &str, &str)] = &[
    (
        "dark",
        "themes/dark.toml",
        include_str!("../../../themes/dark.toml"),
    ),
    (
        "light",
        "themes/light.toml",
        include_str!("../../../themes/light.toml"),
    ),
    (
        "high-contrast",
        "themes/high-contrast.toml",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "base16",
        "themes/base16.toml",
        include_str!("../../../themes/base16.toml"),
    ),
];

/// How deep `inherits` may chain before it is treated as a loop.
const MAX_INHERITS: usize = 8;

pub(crate) fn bundled_names() -> String {
    let names: Vec<_> = BUNDLED.iter().map(|(name, ..)| *name).collect();
    names.join(", ")
}

/// A loaded theme: a style for every key in [`KEYS`], and the highlighting theme for code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    name: String,
    styles: HashMap<&'static str, Style>,
    /// One of [`SYNTAX_THEMES`].
    syntax: &'static str,
    /// The colours the theme has been fitted to (true colour until [`Theme::resolve`]).
    support: ColorSupport,
}

impl Default for Theme {
    /// The bundled default theme, in true colour.
    fn default() -> Self {
        let mut errors = Vec::new();
        build(DEFAULT, None, &mut errors).unwrap_or_else(|| Theme {
            name: DEFAULT.to_owned(),
            styles: HashMap::new(),
            syntax: DEFAULT_SYNTAX,
            support: ColorSupport::TrueColor,
        })
    }
}

impl Theme {
    /// Loads theme `name`: `config_dir/themes/NAME.toml` if it exists, else the bundled theme
    /// of that name. On any error the bundled default theme is returned along with the errors.
    /// Colours are as written; call [`Theme::resolve`] for the terminal at hand.
    pub fn load(name: &str, config_dir: Option<&Path>) -> (Theme, Vec<ThemeError>) {
        let mut errors = Vec::new();
        let user_dir = config_dir.map(|dir| dir.join(USER_DIR));
        match build(name, user_dir.as_deref(), &mut errors) {
            Some(theme) if errors.is_empty() => (theme, errors),
            _ => (Theme::default(), errors),
        }
    }

    /// The theme's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The style of a key from [`KEYS`], such as `ui.error`. Unknown keys get the plain style.
    pub fn style(&self, key: &str) -> Style {
        self.styles.get(key).copied().unwrap_or_default()
    }

    /// The name of the highlighting theme code blocks are coloured with.
    pub fn syntax_theme(&self) -> &'static str {
        self.syntax
    }

    /// The colours this theme has been fitted to.
    pub fn support(&self) -> ColorSupport {
        self.support
    }

    /// The background the screen is drawn on, as shown: `ui.text`'s, or the terminal's default
    /// ([`contrast::DEFAULT_BG`]) where the theme leaves it to the terminal.
    pub fn background(&self) -> (u8, u8, u8) {
        self.style("ui.text")
            .bg
            .and_then(rgb)
            .unwrap_or(contrast::DEFAULT_BG)
    }

    /// The foreground of body text, as shown: `ui.text`'s, or the terminal's default
    /// ([`contrast::DEFAULT_FG`]).
    pub fn foreground(&self) -> (u8, u8, u8) {
        self.style("ui.text")
            .fg
            .and_then(rgb)
            .unwrap_or(contrast::DEFAULT_FG)
    }

    /// How code blocks are coloured: the highlighting theme, fitted to this theme's colours and
    /// drawn on `md.code_block`'s background. A theme written only in ANSI names (such as
    /// `base16`) gets code in ANSI colours too, so all of it follows the terminal's palette.
    pub fn syntax(&self) -> SyntaxStyle {
        let ansi_only = self.styles.values().all(|style| {
            [style.fg, style.bg]
                .into_iter()
                .flatten()
                .all(|c| !matches!(c, Color::Rgb(..) | Color::Indexed(_)))
        });
        let support = match self.support {
            ColorSupport::TrueColor | ColorSupport::Ansi256 if ansi_only => ColorSupport::Ansi16,
            support => support,
        };
        let background = self
            .style("md.code_block")
            .bg
            .or(self.style("ui.text").bg)
            .filter(|c| *c != Color::Reset);
        SyntaxStyle::new(self.syntax, support, background)
    }

    /// This theme as a terminal with `support` can show it: true colour is mapped to the
    /// nearest 256 or 16 colours, and without colour only modifiers remain, plus each key's
    /// fallback modifier ([`ThemeKey::mono`]) so that selections and errors stay visible.
    ///
    /// A reduced foreground keeps the contrast it had with its background (the key's own, else
    /// `ui.text`'s), up to what the key needs ([`ThemeKey::min_contrast`]): where the nearest
    /// colour would lose it, the nearest colour that keeps it is taken ([`contrast::fit`]).
    ///
    /// On 16 colours a subtle background tint (under [`TINT`]:1 against the screen's background,
    /// such as a selection or a panel) has no equivalent: it becomes the screen's background and
    /// the key gains its fallback modifier, as without colour (a selection is reversed).
    pub fn resolve(&self, support: ColorSupport) -> Theme {
        let screen = self.style("ui.text").bg.filter(|c| *c != Color::Reset);
        let styles = KEYS
            .iter()
            .map(|key| {
                let mut style = self.style(key.name);
                let tint = support == ColorSupport::Ansi16
                    && style.bg.is_some_and(|bg| is_tint(bg, screen));
                if tint {
                    style.bg = screen;
                    style = style.add_modifier(key.mono);
                }
                let bg = style.bg.or(screen).filter(|c| *c != Color::Reset);
                let written_bg = bg.and_then(rgb).unwrap_or(contrast::DEFAULT_BG);
                let shown_bg = bg
                    .and_then(|c| support.degrade(c))
                    .and_then(rgb)
                    .unwrap_or(contrast::DEFAULT_BG);
                style.fg = style.fg.and_then(|fg| {
                    let had = rgb(fg).map_or(0.0, |fg| contrast::ratio(fg, written_bg));
                    contrast::fit(fg, shown_bg, had.min(key.min_contrast()), support)
                });
                style.bg = style.bg.and_then(|c| support.degrade(c));
                if support == ColorSupport::None {
                    style = style.add_modifier(key.mono);
                }
                (key.name, style)
            })
            .collect();
        Theme {
            name: self.name.clone(),
            styles,
            syntax: self.syntax,
            support,
        }
    }
}

/// Backgrounds closer than this to the screen's background are tints (see [`Theme::resolve`]).
pub const TINT: f64 = 1.5;

/// Whether `bg` is a tint of the screen's background `screen`: a different colour, but under
/// [`TINT`]:1 from it.
fn is_tint(bg: Color, screen: Option<Color>) -> bool {
    match (rgb(bg), screen.and_then(rgb)) {
        (Some(bg), Some(screen)) => bg != screen && contrast::ratio(bg, screen) < TINT,
        _ => false,
    }
}

/// Where a theme file comes from.
enum Origin {
    User(PathBuf),
    Bundled(&'static str, &'static str),
}

/// Finds `name`, preferring the user's file unless it is already in the chain and a bundled
/// theme of that name exists (so a user's `dark.toml` can inherit the bundled `dark`).
fn find(name: &str, user_dir: Option<&Path>, chain: &[String]) -> Option<(String, Origin)> {
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !safe {
        return None;
    }
    let user = user_dir
        .map(|dir| dir.join(format!("{name}.toml")))
        .filter(|path| path.is_file())
        .map(|path| (format!("user:{name}"), Origin::User(path)));
    let bundled = BUNDLED
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, path, text)| (format!("bundled:{name}"), Origin::Bundled(path, text)));
    match (user, bundled) {
        (Some(user), bundled) if !chain.contains(&user.0) || bundled.is_none() => Some(user),
        (_, bundled) => bundled,
    }
}

/// Reads the chain of layers for `name`, base first. `None` when `name` itself is unknown.
fn layers(name: &str, user_dir: Option<&Path>, errors: &mut Vec<ThemeError>) -> Option<Vec<Layer>> {
    let mut chain = Vec::new();
    let mut layers = Vec::new();
    let (mut id, mut origin) = find(name, user_dir, &chain)?;
    loop {
        chain.push(id);
        let (file, text) = match origin {
            Origin::Bundled(path, text) => (path.to_owned(), text.to_owned()),
            Origin::User(path) => {
                let file = path.display().to_string();
                match std::fs::read_to_string(&path) {
                    Ok(text) => (file, text),
                    Err(e) => {
                        errors.push(ThemeError {
                            file: Some(file),
                            line: None,
                            kind: ThemeErrorKind::Io(e.to_string()),
                        });
                        break;
                    }
                }
            }
        };
        let (layer, layer_errors) = parse::parse(&Source::new(file.clone(), &text));
        errors.extend(layer_errors);
        let parent = layer.inherits.clone();
        layers.push(layer);
        let Some((parent, line)) = parent else { break };
        let error = |kind| ThemeError {
            file: Some(file.clone()),
            line: Some(line),
            kind,
        };
        match find(&parent, user_dir, &chain) {
            Some((next_id, _)) if chain.contains(&next_id) || chain.len() > MAX_INHERITS => {
                errors.push(error(ThemeErrorKind::InheritsLoop(parent)));
                break;
            }
            Some(next) => (id, origin) = next,
            None => {
                errors.push(error(ThemeErrorKind::UnknownInherits(parent)));
                break;
            }
        }
    }
    layers.reverse();
    Some(layers)
}

/// Loads and merges the chain for `name` and resolves its palette names.
fn build(name: &str, user_dir: Option<&Path>, errors: &mut Vec<ThemeError>) -> Option<Theme> {
    let Some(layers) = layers(name, user_dir, errors) else {
        errors.push(ThemeError {
            file: None,
            line: None,
            kind: ThemeErrorKind::UnknownTheme(name.to_owned()),
        });
        return None;
    };
    let palette: HashMap<&str, Color> = layers
        .iter()
        .flat_map(|layer| layer.palette.iter().map(|(n, c)| (n.as_str(), *c)))
        .collect();
    let mut set: HashMap<&'static str, Style> = HashMap::new();
    for layer in &layers {
        for (key, spec, line) in &layer.styles {
            let mut resolve = |color: &Option<ColorRef>| match color {
                None => None,
                Some(ColorRef::Color(color)) => Some(*color),
                Some(ColorRef::Name(colour)) => {
                    let found = palette
                        .get(colour.as_str())
                        .copied()
                        .or_else(|| parse_color(colour));
                    if found.is_none() {
                        errors.push(ThemeError {
                            file: Some(layer.file.clone()),
                            line: Some(*line),
                            kind: ThemeErrorKind::UnknownColour {
                                at: format!("{key:?}"),
                                colour: colour.clone(),
                            },
                        });
                    }
                    found
                }
            };
            let mut style = Style::default().add_modifier(spec.modifiers);
            style.fg = resolve(&spec.fg);
            style.bg = resolve(&spec.bg);
            set.insert(key, style);
        }
    }
    // A key the theme leaves unset takes its nearest set parent's style.
    let styles = KEYS
        .iter()
        .map(|key| {
            let mut name = Some(key.name);
            while let Some(n) = name {
                if let Some(style) = set.get(n) {
                    return (key.name, *style);
                }
                name = keys::parent(n);
            }
            (key.name, Style::default())
        })
        .collect();
    let syntax = layers
        .iter()
        .rev()
        .find_map(|layer| layer.syntax)
        .unwrap_or(DEFAULT_SYNTAX);
    Some(Theme {
        name: name.to_owned(),
        styles,
        syntax,
        support: ColorSupport::TrueColor,
    })
}

#[cfg(test)]
mod tests;
