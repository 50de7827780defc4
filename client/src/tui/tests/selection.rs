//! A theme's selection foreground shows on every character of the selected card and the
//! selected palette row, not only where a span left its colour unset.

use ratatui::style::Color;

use super::fixture::*;
use crate::theme::Theme;

/// `dark`, with selections that set a foreground as well as a background.
fn yellow_selection() -> Theme {
    let dir = tempfile::tempdir().expect("temp dir");
    let themes = dir.path().join("themes");
    std::fs::create_dir_all(&themes).expect("themes dir");
    std::fs::write(
        themes.join("sel.toml"),
        "inherits = \"dark\"\n\
         \"card.selected\" = { fg = \"#000000\", bg = \"#ffff00\" }\n\
         \"ui.selection\" = { fg = \"#000000\", bg = \"#ffff00\" }\n",
    )
    .expect("theme file");
    let (theme, errors) = Theme::load("sel", Some(dir.path()));
    assert!(errors.is_empty(), "{errors:?}");
    theme
}

/// The (foreground, background) of every visible cell on the row that shows `needle`.
fn row_colours(app: &crate::tui::app::App, needle: &str) -> Vec<(char, Color, Color)> {
    let terminal = draw(app, 80, 24);
    let buffer = terminal.backend().buffer().clone();
    let width = buffer.area.width;
    for y in 0..buffer.area.height {
        let row: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
        if let Some(byte) = row.find(needle) {
            let start = row[..byte].chars().count() as u16;
            return (start..width)
                .map(|x| &buffer[(x, y)])
                .filter(|c| c.symbol() != " ")
                .take(needle.chars().count())
                .map(|c| (c.symbol().chars().next().unwrap_or(' '), c.fg, c.bg))
                .collect();
        }
    }
    panic!("{needle:?} is not on the screen");
}

#[test]
fn the_selected_card_takes_the_selection_foreground() {
    let mut app = sample_app();
    app.theme = yellow_selection();
    let cells = row_colours(&app, "#1 ↓ Dark mode");
    assert!(!cells.is_empty());
    for (c, fg, bg) in cells {
        assert_eq!(fg, Color::Rgb(0, 0, 0), "{c:?}");
        assert_eq!(bg, Color::Rgb(255, 255, 0), "{c:?}");
    }
}

#[test]
fn the_selected_palette_row_takes_the_selection_foreground() {
    let mut app = sample_app();
    app.theme = yellow_selection();
    press(&mut app, ":");
    let first = app.palette_entries()[0].label.clone();
    let cells = row_colours(&app, &first);
    assert!(!cells.is_empty());
    for (c, fg, bg) in cells {
        assert_eq!(fg, Color::Rgb(0, 0, 0), "{c:?}");
        assert_eq!(bg, Color::Rgb(255, 255, 0), "{c:?}");
    }
}
