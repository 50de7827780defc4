//! The command palette: human names with keys, fuzzy ranking, highlights on the matched
//! characters only, jumps to rooms, boards and cards, and an Enter that never quits by accident.

use crossterm::event::KeyCode;

use super::fixture::*;
use crate::keymap::Action;
use crate::tui::palette::Target;
use crate::tui::screens::Tab;

#[test]
fn enter_on_an_empty_palette_never_quits() {
    for screen in ["1", "2"] {
        let mut app = sample_app();
        press(&mut app, screen);
        press(&mut app, ":");
        let entries = app.palette_entries();
        let quit = entries
            .iter()
            .position(|e| e.target == Target::Action(Action::Quit))
            .expect("quit is offered");
        assert!(quit > 10, "quit is at {quit}");
        app.on_key(key(KeyCode::Enter));
        assert!(!app.quit, "enter on an empty palette quit warren");
    }
}

#[test]
fn the_empty_list_starts_with_the_current_screens_actions() {
    let mut app = sample_app();
    press(&mut app, ":");
    assert_eq!(
        app.palette_entries()[0].target,
        Target::Action(Action::CardNew)
    );
    let mut app = sample_app();
    press(&mut app, "2:");
    assert_eq!(
        app.palette_entries()[0].target,
        Target::Action(Action::Compose)
    );
}

#[test]
fn entries_have_human_names_and_only_matched_characters_are_marked() {
    let mut app = sample_app();
    press(&mut app, ":");
    for entry in app.palette_entries() {
        if let Target::Action(_) = entry.target {
            assert!(!entry.label.contains('_'), "{}", entry.label);
        }
        assert!(entry.matched.is_empty(), "nothing typed, nothing marked");
    }
    press(&mut app, "nw crd");
    let first = app.palette_entries().remove(0);
    assert_eq!(first.label, "New card");
    let marked: String = first
        .matched
        .iter()
        .map(|&i| first.label.chars().nth(i).unwrap_or('?'))
        .collect();
    assert_eq!(marked.len(), 5, "{marked:?}");
    assert!(first.matched.len() < first.label.chars().count());
}

#[test]
fn the_palette_jumps_to_cards_by_number_and_title() {
    let mut app = sample_app();
    press(&mut app, ":#4");
    let first = app.palette_entries().remove(0);
    assert_eq!(first.target, Target::Card(id("card", 4)));
    assert!(
        first.label.starts_with("#4 Group commit"),
        "{}",
        first.label
    );
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Board);
    assert_eq!(app.board.column, 2);
    assert_eq!(app.selected_card().map(|c| c.number), Some(4));
    // By title words, from the chat screen.
    press(&mut app, "2:ratelimit");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Board);
    assert_eq!(app.selected_card().map(|c| c.number), Some(3));
}

#[test]
fn the_palette_jumps_to_rooms_and_boards() {
    let mut app = sample_app();
    press(&mut app, ":design");
    assert_eq!(app.palette_entries()[0].target, Target::Room(id("room", 2)));
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Chat);
    assert_eq!(app.current_room(), Some(id("room", 2)));
    press(&mut app, ":main");
    assert_eq!(
        app.palette_entries()[0].target,
        Target::Board(id("board", 1))
    );
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.tab, Tab::Board);
}

#[test]
fn palette_snapshots() {
    let mut app = sample_app();
    press(&mut app, ":");
    insta::assert_snapshot!("palette_empty", draw(&app, 80, 24).backend());
    press(&mut app, "mv");
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!("palette_query", terminal.backend());
    // The matched characters, and only those, carry the match colour.
    let buffer = terminal.backend().buffer();
    let matched = app.theme.style("ui.match").fg.unwrap_or_default();
    let row: Vec<_> = (0..80u16)
        .map(|x| &buffer[(x, 4)])
        .filter(|c| c.fg == matched)
        .map(|c| c.symbol().to_owned())
        .collect();
    assert!(!row.is_empty() && row.len() <= 2, "{row:?}");
}

/// A key shown for another screen's action names that screen: on the chat screen `]` goes to
/// the next room, so "Next board" shows `] (board)`.
#[test]
fn keys_of_another_screen_say_which_screen() {
    let mut app = sample_app();
    press(&mut app, "2:");
    let screen = format!("{}", draw(&app, 80, 24).backend());
    let row = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name:?} is not listed: {screen}"))
            .to_owned()
    };
    assert!(
        row("Next room")
            .trim_end_matches(['│', '"', ' '])
            .ends_with(" ]"),
        "{}",
        row("Next room")
    );
    assert!(
        row("Next board").contains("] (board)"),
        "{}",
        row("Next board")
    );
}
