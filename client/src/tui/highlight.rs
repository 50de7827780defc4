//! Syntax highlighting for fenced code blocks in chat messages, using syntect's bundled syntaxes and
//! the bundled highlighting theme the warren theme names ([`SyntaxStyle`]).
//!
//! The syntax set and themes are loaded once, lazily, on the first call, and shared for the life of
//! the process. The first call takes about 40 ms (measured in the dev profile, whose dependencies are
//! built at opt-level 1); each language's first use then compiles its regexes for a few more ms.
//! That is far too slow for every frame: callers cache the rendered lines per message.
//!
//! Token colours go through [`SyntaxStyle::color`]: made readable on the code block's background
//! and reduced to the terminal's colours like every theme colour (none at all under `NO_COLOR`).
//! Syntect's background colours are dropped so the code block style supplies the background.

use std::collections::HashMap;
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use crate::theme::SyntaxStyle;

/// One highlighted line: runs of text with their style, without the line break.
pub type HighlightedLine = Vec<(Style, String)>;

struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        themes: ThemeSet::load_defaults(),
    })
}

/// The bundled highlighting theme called `name` (one of [`crate::theme::SYNTAX_THEMES`]).
pub fn syntect_theme(name: &str) -> Option<&'static syntect::highlighting::Theme> {
    assets().themes.themes.get(name)
}

/// Highlights `code` as the language named by a code fence (`rust`, `rs`, `py`, `sh`, …) in the
/// colours of `style`, one entry per line of `code`, without line breaks.
///
/// Returns `None` when the language is unknown (the caller renders the block plainly), when syntect
/// fails on the input, or when `code` is empty. `code` is expected to be free of control characters;
/// the markdown renderer cleans it first.
pub fn highlight(code: &str, lang: &str, style: &SyntaxStyle) -> Option<Vec<HighlightedLine>> {
    if code.is_empty() {
        return None;
    }
    let assets = assets();
    let theme = assets.themes.themes.get(style.theme)?;
    let syntax = find_syntax(&assets.syntaxes, lang)?;
    let mut highlighter = HighlightLines::new(syntax, theme);
    // A highlighting theme has a few dozen colours; fitting one to the terminal is not free.
    let mut colours: HashMap<(u8, u8, u8), Option<Color>> = HashMap::new();
    let mut lines = Vec::new();
    for line in LinesWithEndings::from(code) {
        let regions = highlighter.highlight_line(line, &assets.syntaxes).ok()?;
        let mut out: HighlightedLine = Vec::with_capacity(regions.len());
        for (region_style, text) in regions {
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                continue;
            }
            let converted = convert(region_style, |rgb| {
                *colours.entry(rgb).or_insert_with(|| style.color(rgb))
            });
            match out.last_mut() {
                Some((last, run)) if *last == converted => run.push_str(text),
                _ => out.push((converted, text.to_owned())),
            }
        }
        lines.push(out);
    }
    Some(lines)
}

/// Finds the syntax for a fence's language, accepting the usual short names. Plain text counts as
/// no syntax at all.
fn find_syntax<'a>(syntaxes: &'a SyntaxSet, lang: &str) -> Option<&'a SyntaxReference> {
    let lang = lang.trim().to_ascii_lowercase();
    if lang.is_empty() {
        return None;
    }
    // Extensions tried in order; TypeScript is not among syntect's defaults, JavaScript is close.
    let extensions: &[&str] = match lang.as_str() {
        "rs" | "rust" => &["rs"],
        "py" | "python" | "python3" => &["py"],
        "js" | "javascript" | "jsx" | "mjs" => &["js"],
        "ts" | "typescript" | "tsx" => &["ts", "js"],
        "sh" | "bash" | "shell" | "zsh" | "console" | "shellsession" => &["sh"],
        "json" => &["json"],
        "toml" => &["toml"],
        "yaml" | "yml" => &["yaml"],
        "sql" => &["sql"],
        "go" | "golang" => &["go"],
        "c" | "h" => &["c"],
        "cpp" | "c++" | "cxx" | "cc" | "hpp" => &["cpp"],
        "diff" | "patch" => &["diff"],
        _ => &[],
    };
    let syntax = extensions
        .iter()
        .find_map(|ext| syntaxes.find_syntax_by_extension(ext))
        .or_else(|| syntaxes.find_syntax_by_token(&lang))?;
    (syntax.name != "Plain Text").then_some(syntax)
}

/// A token's style as drawn: its colour through `colour` ([`SyntaxStyle::color`]), its font
/// style as modifiers.
fn convert(
    style: syntect::highlighting::Style,
    mut colour: impl FnMut((u8, u8, u8)) -> Option<Color>,
) -> Style {
    let fg = style.foreground;
    let mut out = Style::default();
    if fg.a > 0 {
        out.fg = colour((fg.r, fg.g, fg.b));
    }
    for (font, modifier) in [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ] {
        if style.font_style.contains(font) {
            out = out.add_modifier(modifier);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::{ColorSupport, SYNTAX_THEMES, contrast};

    fn dark() -> SyntaxStyle {
        SyntaxStyle::default()
    }

    fn text(lines: &[HighlightedLine]) -> Vec<String> {
        lines
            .iter()
            .map(|line| line.iter().map(|(_, t)| t.as_str()).collect())
            .collect()
    }

    #[test]
    fn rust_gets_several_styles_and_keeps_the_text() {
        let code = "fn main() {\n    let x = \"hi\"; // note\n}";
        let lines = highlight(code, "rust", &dark()).expect("rust is bundled");
        assert_eq!(text(&lines), code.lines().collect::<Vec<_>>());
        let styles: std::collections::HashSet<Style> =
            lines.iter().flatten().map(|(s, _)| *s).collect();
        assert!(styles.len() > 2, "{styles:?}");
        assert!(
            styles.iter().all(|s| s.bg.is_none()),
            "backgrounds are dropped"
        );
        assert!(styles.iter().all(|s| matches!(s.fg, Some(Color::Rgb(..)))));
    }

    #[test]
    fn aliases_resolve() {
        for lang in [
            "rs", "RUST", "py", "js", "ts", "sh", "bash", "shell", "json", "yaml", "sql", "go",
            "c", "cpp", "diff",
        ] {
            assert!(highlight("x = 1\n", lang, &dark()).is_some(), "{lang}");
        }
    }

    #[test]
    fn unknown_or_absent_language_is_none() {
        assert!(highlight("x", "no-such-language", &dark()).is_none());
        assert!(highlight("x", "", &dark()).is_none());
        assert!(highlight("x", "text", &dark()).is_none());
        assert!(highlight("", "rust", &dark()).is_none());
    }

    #[test]
    fn one_entry_per_line_including_blank_lines() {
        let lines = highlight("a\n\nb\n", "py", &dark()).expect("python is bundled");
        assert_eq!(text(&lines), ["a", "", "b"]);
    }

    #[test]
    fn every_named_highlighting_theme_is_bundled_with_syntect() {
        let mut bundled: Vec<&str> = assets().themes.themes.keys().map(String::as_str).collect();
        let mut named = SYNTAX_THEMES.to_vec();
        bundled.sort_unstable();
        named.sort_unstable();
        assert_eq!(bundled, named);
    }

    /// The colours of every token of a Rust snippet.
    fn colours(style: &SyntaxStyle) -> Vec<Option<Color>> {
        let code = "fn main() {\n    let x = \"hi\"; // note\n}";
        let lines = highlight(code, "rust", style).expect("rust is bundled");
        lines.iter().flatten().map(|(s, _)| s.fg).collect()
    }

    #[test]
    fn token_colours_are_reduced_like_theme_colours() {
        let at = |support| SyntaxStyle::new("base16-ocean.dark", support, None);
        let truecolor = colours(&at(ColorSupport::TrueColor));
        assert!(truecolor.iter().all(|c| matches!(c, Some(Color::Rgb(..)))));
        let indexed = colours(&at(ColorSupport::Ansi256));
        assert!(
            indexed
                .iter()
                .all(|c| matches!(c, Some(Color::Indexed(16..)))),
            "{indexed:?}"
        );
        let ansi = colours(&at(ColorSupport::Ansi16));
        assert!(
            ansi.iter()
                .all(|c| c.is_some_and(|c| !matches!(c, Color::Rgb(..) | Color::Indexed(_)))),
            "{ansi:?}"
        );
        assert!(colours(&at(ColorSupport::None)).iter().all(Option::is_none));
    }

    #[test]
    fn token_colours_are_readable_on_the_code_background() {
        // A dark highlighting theme on a near-white background: every token is darkened.
        let light_bg = Color::Rgb(0xea, 0xea, 0xeb);
        for support in [
            ColorSupport::TrueColor,
            ColorSupport::Ansi256,
            ColorSupport::Ansi16,
        ] {
            let style = SyntaxStyle::new("base16-ocean.dark", support, Some(light_bg));
            for colour in colours(&style).into_iter().flatten() {
                let shown = crate::theme::rgb(colour).unwrap_or_default();
                let ratio = contrast::ratio(shown, style.background);
                assert!(
                    ratio >= contrast::TEXT,
                    "{support:?}: {colour:?} is {ratio:.2}:1"
                );
            }
        }
    }
}
