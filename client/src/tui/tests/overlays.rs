//! Overlays: help puts the current screen first and lists every filter form, long windows say
//! "more above" / "more below", wide lines end in an ellipsis, the card view wraps a long title,
//! and scrolling past the end is not remembered.

use crossterm::event::KeyCode;

use super::fixture::*;
use crate::tui::state::Overlay;

fn screen(app: &crate::tui::app::App) -> String {
    format!("{}", draw(app, 80, 24).backend())
}

#[test]
fn help_starts_with_the_current_screen_and_documents_every_filter_form() {
    let mut app = sample_app();
    press(&mut app, "2?");
    let text = screen(&app);
    let first_section = text.lines().nth(2).map(str::to_owned).unwrap_or_default();
    assert!(first_section.contains("Chat"), "{text}");
    assert!(text.contains("▾ more below"), "{text}");
    // Scroll to the end: the filter forms are listed and "more above" shows.
    for _ in 0..200 {
        app.on_key(key(KeyCode::Down));
        let _ = draw(&app, 80, 24);
    }
    let text = screen(&app);
    assert!(text.contains("▴ more above"), "{text}");
    for form in ["word", "#label", "@name", "!priority", "#12"] {
        let mut found = false;
        // The forms may be above the last page; look at every page.
        let mut probe = sample_app();
        press(&mut probe, "2?");
        for _ in 0..200 {
            if screen(&probe).contains(&format!("  {form} ")) {
                found = true;
                break;
            }
            probe.on_key(key(KeyCode::Down));
            let _ = draw(&probe, 80, 24);
        }
        assert!(found, "help lists the filter form {form}");
    }
    // Scrolling past the end is not remembered: one step up moves the window at once.
    app.on_key(key(KeyCode::Up));
    let after = screen(&app);
    assert_ne!(after, text, "one step up scrolls");
}

#[test]
fn wide_help_lines_end_in_an_ellipsis() {
    let mut app = sample_app();
    press(&mut app, "?");
    let text = screen(&app);
    assert!(text.contains("@assign…"), "{text}");
}

#[test]
fn the_card_view_wraps_a_long_title() {
    let title = "A very long card title that goes on and on past the width of any card view window";
    let mut app = app_with(state(vec![card(1, 0, title)], vec![]));
    press(&mut app, "\n");
    assert!(matches!(app.overlay, Some(Overlay::Detail { .. })));
    let text = screen(&app);
    assert!(
        text.contains("window"),
        "the end of the title is shown: {text}"
    );
    insta::assert_snapshot!("detail_long_title", draw(&app, 80, 24).backend());
}

#[test]
fn the_problems_window_fits_its_wrapped_lines() {
    let mut app = sample_app();
    let long = "keymap.toml:3: [board] \"ctrl-x\": unknown action \"card_nuke\"; see 'warren keys' for the action names, and this line goes on to need a third row at 80 columns for sure";
    app.overlay = Some(Overlay::Problems {
        lines: vec![
            long.into(),
            "theme.toml:1: unknown colour \"blurple\"".into(),
        ],
        scroll: 0,
    });
    let text = screen(&app);
    assert!(text.contains("for sure"), "{text}");
    assert!(text.contains("blurple"), "{text}");
    assert!(!text.contains("more below"), "{text}");
}
