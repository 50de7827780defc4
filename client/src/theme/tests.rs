//! Theme loading tests: bundled themes, inherits, degrade, no colour and every error kind.

use ratatui::style::{Modifier, Style};

use super::*;

/// A temporary config directory with these user themes in its `themes/`.
fn user_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let themes = dir.path().join(USER_DIR);
    std::fs::create_dir(&themes).unwrap_or_else(|e| panic!("mkdir: {e}"));
    for (name, text) in files {
        std::fs::write(themes.join(format!("{name}.toml")), text)
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    dir
}

/// The single error of loading `text` as the user theme `mine`.
fn single_error(text: &str) -> ThemeError {
    let dir = user_dir(&[("mine", text)]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        theme,
        Theme::default(),
        "errors must leave the default theme"
    );
    errors.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn every_bundled_theme_loads_without_errors_and_sets_every_key() {
    for (name, path, _) in BUNDLED {
        let (theme, errors) = Theme::load(name, None);
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        assert_eq!(theme.name(), *name);
        for key in KEYS {
            let layers = layers(name, None, &mut Vec::new()).unwrap_or_default();
            let set = layers
                .iter()
                .any(|l| l.styles.iter().any(|(k, ..)| *k == key.name));
            assert!(set, "{path}: {} is not set", key.name);
        }
    }
}

#[test]
fn every_bundled_theme_names_its_highlighting_theme() {
    for (name, path, text) in BUNDLED {
        assert!(
            text.contains("\nsyntax = \""),
            "{path} names no syntax theme"
        );
        let (theme, _) = Theme::load(name, None);
        assert!(SYNTAX_THEMES.contains(&theme.syntax_theme()), "{path}");
    }
    let (light, _) = Theme::load("light", None);
    assert_eq!(light.syntax_theme(), "InspiredGitHub");
}

#[test]
fn syntax_is_inherited_and_an_unknown_one_lists_the_known_ones() {
    let dir = user_dir(&[("mine", "inherits = \"light\"\n")]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(theme.syntax_theme(), "InspiredGitHub");
    let error = single_error("syntax = \"Monokai\"\n");
    let shown = error.to_string();
    assert!(
        shown.contains(
            "syntax = \"Monokai\": unknown highlighting theme; use one of \"base16-ocean.dark\""
        ) && shown.contains("\"Solarized (light)\""),
        "{shown}"
    );
}

#[test]
fn code_colours_follow_the_theme_and_the_terminal() {
    let theme = Theme::default();
    let syntax = theme.resolve(ColorSupport::Ansi256).syntax();
    assert_eq!(syntax.support, ColorSupport::Ansi256);
    assert_eq!(
        syntax.background,
        (0x30, 0x30, 0x30),
        "md.code_block's background, reduced"
    );
    assert_eq!(Theme::default().syntax().background, (0x28, 0x2c, 0x34));
    // base16 is written in ANSI names, so its code is in ANSI colours even at true colour.
    let (base16, _) = Theme::load("base16", None);
    assert_eq!(base16.syntax().support, ColorSupport::Ansi16);
    let none = theme.resolve(ColorSupport::None).syntax();
    assert_eq!(none.color((0xff, 0x80, 0x00)), None);
}

#[test]
fn base16_uses_only_ansi_names() {
    let (theme, _) = Theme::load("base16", None);
    for key in KEYS {
        let style = theme.style(key.name);
        for color in [style.fg, style.bg].into_iter().flatten() {
            assert!(
                !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                "{}: {color:?}",
                key.name
            );
        }
    }
}

#[test]
fn styles_come_from_the_palette() {
    let theme = Theme::default();
    assert_eq!(theme.name(), DEFAULT);
    assert_eq!(
        theme.style("ui.error"),
        Style::new()
            .fg(Color::Rgb(0xe6, 0x86, 0x8e))
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(theme.style("no.such.key"), Style::default());
}

#[test]
fn inherits_merges_palette_and_styles() {
    let dir = user_dir(&[(
        "mine",
        "inherits = \"dark\"\n\"ui.border\" = \"#010203\"\n[palette]\nred = \"#ff0000\"\n",
    )]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(theme.style("ui.border").fg, Some(Color::Rgb(1, 2, 3)));
    // The parent's style now uses the child's palette colour.
    assert_eq!(theme.style("ui.error").fg, Some(Color::Rgb(255, 0, 0)));
    assert_eq!(theme.style("ui.key"), Theme::default().style("ui.key"));
    // The light theme is the dark theme's styles over its own palette.
    let (light, _) = Theme::load("light", None);
    assert_eq!(
        light.style("ui.text").bg,
        Some(Color::Rgb(0xfa, 0xfa, 0xfa))
    );
}

#[test]
fn a_user_theme_can_shadow_and_inherit_the_bundled_one_of_the_same_name() {
    let dir = user_dir(&[("dark", "inherits = \"dark\"\n\"ui.muted\" = \"red\"\n")]);
    let (theme, errors) = Theme::load("dark", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    // `red` here is the bundled palette's red, which wins over the ANSI name.
    assert_eq!(
        theme.style("ui.muted").fg,
        Some(Color::Rgb(0xe6, 0x86, 0x8e))
    );
}

#[test]
fn unset_keys_fall_back_to_their_parent() {
    let dir = user_dir(&[("mine", "[ui]\nborder = \"green\"\ntext = 7\n")]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(theme.style("ui.border.focused").fg, Some(Color::Green));
    assert_eq!(theme.style("ui.text").fg, Some(Color::Indexed(7)));
    assert_eq!(theme.style("ui.error"), Style::default());
}

#[test]
fn resolve_degrades_colours() {
    let theme = Theme::default();
    let rgb = theme.style("ui.error").fg;
    assert_eq!(rgb, Some(Color::Rgb(0xe6, 0x86, 0x8e)));
    let s256 = theme.resolve(ColorSupport::Ansi256);
    assert_eq!(s256.style("ui.error").fg, Some(Color::Indexed(174)));
    let s16 = theme.resolve(ColorSupport::Ansi16);
    assert_eq!(s16.style("ui.error").fg, Some(Color::LightRed));
    assert_eq!(theme.resolve(ColorSupport::TrueColor), theme);
    for key in KEYS {
        for color in [s16.style(key.name).fg, s16.style(key.name).bg]
            .into_iter()
            .flatten()
        {
            assert!(
                !matches!(color, Color::Rgb(..) | Color::Indexed(_)),
                "{}",
                key.name
            );
        }
    }
}

#[test]
fn muted_text_stays_darker_than_text_on_16_colours() {
    let (dark, _) = Theme::load("dark", None);
    let s16 = dark.resolve(ColorSupport::Ansi16);
    assert_eq!(s16.style("ui.text").fg, Some(Color::Gray));
    assert_eq!(s16.style("ui.muted").fg, Some(Color::DarkGray));
    assert_eq!(s16.style("card.number").fg, Some(Color::DarkGray));
}

#[test]
fn reducing_keeps_the_contrast_a_colour_had() {
    let dir = user_dir(&[(
        "mine",
        "\"ui.text\" = { fg = \"#d7dae0\", bg = \"#1e2127\" }\n\"ui.error\" = \"#e06c75\"\n\"column.title\" = \"#61afef\"\n",
    )]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    let shown = |c: Option<Color>| c.and_then(super::rgb).unwrap_or_default();
    // 256 colours: the nearest index, 168, is under 4.5:1 on the reduced background; 174 is
    // the nearest that is not.
    let s256 = theme.resolve(ColorSupport::Ansi256);
    let on = shown(s256.style("ui.text").bg);
    assert!(contrast::ratio(shown(Some(Color::Indexed(168))), on) < contrast::TEXT);
    assert_eq!(s256.style("ui.error").fg, Some(Color::Indexed(174)));
    // 16 colours: light blue is just under 4.5:1 on black; cyan is the nearest readable one.
    let s16 = theme.resolve(ColorSupport::Ansi16);
    assert_eq!(s16.style("ui.text").bg, Some(Color::Black));
    assert_eq!(s16.style("column.title").fg, Some(Color::Cyan));
}

#[test]
fn background_tints_become_modifiers_on_16_colours() {
    let dir = user_dir(&[(
        "mine",
        "\"ui.text\" = { bg = \"#1e2127\" }\n\"card.selected\" = { bg = \"#2c313c\" }\n\"chat.room.active\" = { bg = \"#61afef\" }\n",
    )]);
    let (theme, errors) = Theme::load("mine", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:#?}");
    let s16 = theme.resolve(ColorSupport::Ansi16);
    let selected = s16.style("card.selected");
    assert_eq!(selected.bg, Some(Color::Black), "the screen's background");
    assert!(selected.add_modifier.contains(Modifier::REVERSED));
    let active = s16.style("chat.room.active");
    assert_eq!(
        active.bg,
        Some(Color::LightBlue),
        "not a tint: reduced as usual"
    );
    assert!(!active.add_modifier.contains(Modifier::REVERSED));
    // With more colours the tint is kept.
    let s256 = theme.resolve(ColorSupport::Ansi256);
    assert!(
        !s256
            .style("card.selected")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn no_colour_keeps_modifiers_and_marks_selections() {
    let theme = Theme::default().resolve(ColorSupport::None);
    for key in KEYS {
        let style = theme.style(key.name);
        assert_eq!((style.fg, style.bg), (None, None), "{}", key.name);
    }
    assert!(
        theme
            .style("ui.selection")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        theme
            .style("card.selected")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        theme
            .style("ui.error")
            .add_modifier
            .contains(Modifier::BOLD)
    );
    assert!(
        theme
            .style("md.italic")
            .add_modifier
            .contains(Modifier::ITALIC)
    );
    let detected = ColorSupport::from_env(|name| (name == "NO_COLOR").then(|| "1".to_owned()));
    assert_eq!(detected, ColorSupport::None);
}

#[test]
fn an_unknown_theme_falls_back_to_the_default() {
    let (theme, errors) = Theme::load("solarized", None);
    assert_eq!(theme, Theme::default());
    assert_eq!(errors.len(), 1);
    assert!(matches!(&errors[0].kind, ThemeErrorKind::UnknownTheme(n) if n == "solarized"));
    let (_, errors) = Theme::load("../../etc/passwd", None);
    assert!(matches!(&errors[0].kind, ThemeErrorKind::UnknownTheme(_)));
}

#[test]
fn inherit_loops_are_caught() {
    let dir = user_dir(&[("a", "inherits = \"b\"\n"), ("b", "\ninherits = \"a\"\n")]);
    let (_, errors) = Theme::load("a", Some(dir.path()));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(matches!(&errors[0].kind, ThemeErrorKind::InheritsLoop(n) if n == "a"));
    assert_eq!(errors[0].line, Some(2));
}

#[test]
fn unknown_colour_names_file_line_and_key() {
    let dir = user_dir(&[(
        "mine",
        "\"ui.text\" = \"reset\"\n\"ui.error\" = { fg = \"rde\" }\n",
    )]);
    let (_, errors) = Theme::load("mine", Some(dir.path()));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let shown = errors[0].to_string();
    let file = dir
        .path()
        .join(USER_DIR)
        .join("mine.toml")
        .display()
        .to_string();
    assert!(
        shown.starts_with(&format!(
            "{file}:2: \"ui.error\": unknown colour \"rde\"; use #rrggbb"
        )),
        "{shown}"
    );
}

/// A file's text, the line of its one error, and a check of the error's kind.
type Case = (&'static str, usize, fn(&ThemeErrorKind) -> bool);

#[test]
fn each_error_kind_carries_its_line() {
    let cases: &[Case] = &[
        (
            "\n\"ui.eror\" = \"red\"\n",
            2,
            |k| matches!(k, ThemeErrorKind::UnknownKey(key) if key == "\"ui.eror\""),
        ),
        (
            "\"ui.error\" = { fg = \"red\",\n fgg = \"blue\" }\n",
            2,
            |k| matches!(k, ThemeErrorKind::UnknownField { field, .. } if field == "fgg"),
        ),
        (
            "\n\n\"ui.error\" = \"#12345\"\n",
            3,
            |k| matches!(k, ThemeErrorKind::UnknownColour { colour, .. } if colour == "#12345"),
        ),
        (
            "\"ui.error\" = \"mauve\"\n",
            1,
            |k| matches!(k, ThemeErrorKind::UnknownColour { colour, .. } if colour == "mauve"),
        ),
        ("\"ui.error\" = 256\n", 1, |k| {
            matches!(k, ThemeErrorKind::ColourType { .. })
        }),
        (
            "\"ui.error\" = { fg = true }\n",
            1,
            |k| matches!(k, ThemeErrorKind::ColourType { found, .. } if found == "boolean"),
        ),
        (
            "\"ui.error\" = { modifiers = [\n\"bold\",\n\"blod\"] }\n",
            3,
            |k| matches!(k, ThemeErrorKind::UnknownModifier { modifier, .. } if modifier == "blod"),
        ),
        ("\"ui.error\" = { modifiers = \"bold\" }\n", 1, |k| {
            matches!(
                k,
                ThemeErrorKind::ModifiersType {
                    found: "string",
                    ..
                }
            )
        }),
        ("\"ui.error\" = true\n", 1, |k| {
            matches!(
                k,
                ThemeErrorKind::StyleType {
                    found: "boolean",
                    ..
                }
            )
        }),
        (
            "[palette]\nred = \"#ff00\"\n",
            2,
            |k| matches!(k, ThemeErrorKind::UnknownColour { at, .. } if at == "[palette] \"red\""),
        ),
        ("palette = 1\n", 1, |k| {
            matches!(k, ThemeErrorKind::PaletteNotTable("integer"))
        }),
        (
            "\ninherits = \"nope\"\n",
            2,
            |k| matches!(k, ThemeErrorKind::UnknownInherits(n) if n == "nope"),
        ),
        (
            "\nsyntax = \"monokai\"\n",
            2,
            |k| matches!(k, ThemeErrorKind::UnknownSyntax(n) if n == "monokai"),
        ),
        ("syntax = 1\n", 1, |k| {
            matches!(k, ThemeErrorKind::SyntaxNotString("integer"))
        }),
        ("inherits = [1]\n", 1, |k| {
            matches!(k, ThemeErrorKind::InheritsNotString("array"))
        }),
        ("\"ui.text\" = \"red\"\n\"ui.text\" = \"blue\"\n", 2, |k| {
            matches!(k, ThemeErrorKind::Syntax(_))
        }),
        (
            "[widgets]\nfoo = \"red\"\n",
            1,
            |k| matches!(k, ThemeErrorKind::UnknownKey(key) if key == "\"widgets\""),
        ),
    ];
    for (text, line, is_kind) in cases {
        let error = single_error(text);
        assert_eq!(error.line, Some(*line), "{text:?}: {error}");
        assert!(is_kind(&error.kind), "{text:?}: {error}");
        assert!(
            error.to_string().contains(&format!("mine.toml:{line}: ")),
            "{error}"
        );
    }
}

#[test]
fn the_themes_doc_lists_every_key() {
    let mut table = String::from("| Key | Used for | No colour |\n|---|---|---|\n");
    for key in KEYS {
        let mono: Vec<String> = key
            .mono
            .iter_names()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            key.name,
            key.doc,
            mono.join(", ")
        ));
    }
    crate::keymap::tests::check_generated_doc(
        "docs/themes.md",
        "<!-- keys:start -->",
        "<!-- keys:end -->",
        &table,
    );
}

#[test]
fn the_themes_doc_lists_the_highlighting_themes_and_the_16_colours() {
    let mut table = String::from("| Highlighting theme | Used by |\n|---|---|\n");
    for syntax in SYNTAX_THEMES {
        let users: Vec<String> = BUNDLED
            .iter()
            .filter(|(name, ..)| Theme::load(name, None).0.syntax_theme() == *syntax)
            .map(|(name, ..)| format!("`{name}`"))
            .collect();
        table.push_str(&format!("| `{syntax}` | {} |\n", users.join(", ")));
    }
    crate::keymap::tests::check_generated_doc(
        "docs/themes.md",
        "<!-- syntax:start -->",
        "<!-- syntax:end -->",
        &table,
    );
    let mut table = String::from("| Colour | ANSI | RGB |\n|---|---|---|\n");
    for (index, (name, _, (r, g, b))) in color::ANSI.iter().enumerate() {
        table.push_str(&format!(
            "| `{name}` | {index} | `#{r:02x}{g:02x}{b:02x}` |\n"
        ));
    }
    crate::keymap::tests::check_generated_doc(
        "docs/themes.md",
        "<!-- ansi:start -->",
        "<!-- ansi:end -->",
        &table,
    );
}
