//! Syntax highlighting for fenced code blocks in chat messages, using syntect's bundled syntaxes and
//! one bundled theme.
//!
//! The syntax set and theme are loaded once, lazily, on the first call, and shared for the life of
//! the process. The first call takes about 40 ms (measured in the dev profile, whose dependencies are
//! built at opt-level 1); each language's first use then compiles its regexes for a few more ms.
//! That is far too slow for every frame: callers cache the rendered lines per message.
//!
//! Colours come out as [`Color::Rgb`]; the theme layer degrades them for 256- and 16-colour
//! terminals. Syntect's background colours are dropped so the code block style supplies the
//! background.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// The bundled syntect theme used for every code block.
const THEME: &str = "base16-ocean.dark";

/// One highlighted line: runs of text with their style, without the line break.
pub type HighlightedLine = Vec<(Style, String)>;

struct Assets {
    syntaxes: SyntaxSet,
    theme: Option<Theme>,
}

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        theme: ThemeSet::load_defaults().themes.remove(THEME),
    })
}

/// Highlights `code` as the language named by a code fence (`rust`, `rs`, `py`, `sh`, …), one entry
/// per line of `code`, without line breaks.
///
/// Returns `None` when the language is unknown (the caller renders the block plainly), when syntect
/// fails on the input, or when `code` is empty. `code` is expected to be free of control characters;
/// the markdown renderer cleans it first.
pub fn highlight(code: &str, lang: &str) -> Option<Vec<HighlightedLine>> {
    if code.is_empty() {
        return None;
    }
    let assets = assets();
    let theme = assets.theme.as_ref()?;
    let syntax = find_syntax(&assets.syntaxes, lang)?;
    let mut highlighter = HighlightLines::new(syntax, theme);
    let mut lines = Vec::new();
    for line in LinesWithEndings::from(code) {
        let regions = highlighter.highlight_line(line, &assets.syntaxes).ok()?;
        let mut out: HighlightedLine = Vec::with_capacity(regions.len());
        for (style, text) in regions {
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                continue;
            }
            let style = convert(style);
            match out.last_mut() {
                Some((last, run)) if *last == style => run.push_str(text),
                _ => out.push((style, text.to_owned())),
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

fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default();
    if fg.a > 0 {
        out = out.fg(Color::Rgb(fg.r, fg.g, fg.b));
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

    fn text(lines: &[HighlightedLine]) -> Vec<String> {
        lines
            .iter()
            .map(|line| line.iter().map(|(_, t)| t.as_str()).collect())
            .collect()
    }

    #[test]
    fn rust_gets_several_styles_and_keeps_the_text() {
        let code = "fn main() {\n    let x = \"hi\"; // note\n}";
        let lines = highlight(code, "rust").expect("rust is bundled");
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
            assert!(highlight("x = 1\n", lang).is_some(), "{lang}");
        }
    }

    #[test]
    fn unknown_or_absent_language_is_none() {
        assert!(highlight("x", "no-such-language").is_none());
        assert!(highlight("x", "").is_none());
        assert!(highlight("x", "text").is_none());
        assert!(highlight("", "rust").is_none());
    }

    #[test]
    fn one_entry_per_line_including_blank_lines() {
        let lines = highlight("a\n\nb\n", "py").expect("python is bundled");
        assert_eq!(text(&lines), ["a", "", "b"]);
    }
}
