//! The board: one row per card without labels, "more above" and "more below", the board's name,
//! an empty filter result that says so, a filter that brings off-screen matches into view, and
//! the density toggle.

use crossterm::event::KeyCode;
use warren_protocol::Board;

use super::fixture::*;
use crate::tui::screens::board::draw::window as board_window;

fn screen(app: &crate::tui::app::App, w: u16, h: u16) -> String {
    format!("{}", draw(app, w, h).backend())
}

fn tall_column() -> crate::tui::app::App {
    let cards = (1..=30)
        .map(|n| card(n, 0, &format!("Card number {n}")))
        .collect();
    app_with(state(cards, vec![room(1, "general")]))
}

#[test]
fn cards_without_labels_take_one_row() {
    let app = tall_column();
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("#1 Card number 1") && text.contains("#2 Card number 2"),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().collect();
    let one = rows
        .iter()
        .position(|r| r.contains("#1 Card"))
        .expect("card 1");
    assert!(
        rows[one + 1].contains("#2 Card"),
        "no blank row between cards"
    );
}

#[test]
fn a_long_column_says_more_above_and_more_below() {
    let mut app = tall_column();
    let text = screen(&app, 80, 24);
    assert!(text.contains("▾ 12 more"), "{text}");
    assert!(!text.contains("▴"), "{text}");
    for _ in 0..20 {
        app.on_key(key(KeyCode::Down));
    }
    let text = screen(&app, 80, 24);
    assert!(text.contains("▴"), "{text}");
    assert!(text.contains("▾"), "{text}");
    assert!(
        text.contains("#21 Card number 21"),
        "the selection is visible: {text}"
    );
    insta::assert_snapshot!("board_more_above_and_below", draw(&app, 80, 24).backend());
}

#[test]
fn the_window_keeps_the_selection_between_the_markers() {
    // Ten one-row cards in five rows: markers take a row each when needed.
    let heights = vec![1; 10];
    assert_eq!(board_window(&heights, 0, Some(0), 5), (0, 4, false, true));
    let (first, end, above, below) = board_window(&heights, 0, Some(6), 5);
    assert!(above && below);
    assert!(first <= 6 && 6 < end, "{first}..{end}");
    assert_eq!(end - first, 3);
    assert_eq!(board_window(&heights, 0, Some(9), 5), (6, 10, true, false));
    assert_eq!(board_window(&[1, 1], 0, Some(1), 5), (0, 2, false, false));
}

#[test]
fn the_boards_name_is_shown() {
    let mut s = state(sample_cards(), vec![room(1, "general")]);
    let mut second = s.boards[0].clone();
    second.id = id("board", 2);
    second.name = "Roadmap".into();
    s.boards.push(Board { ..second });
    let mut app = app_with(s);
    let text = screen(&app, 80, 24);
    assert!(text.contains(" Main 1/2 · ] next board"), "{text}");
    press(&mut app, "]");
    assert!(screen(&app, 80, 24).contains(" Roadmap 2/2"));
}

#[test]
fn an_empty_filter_result_says_so() {
    let mut app = sample_app();
    press(&mut app, "/zebra");
    let text = screen(&app, 80, 24);
    assert!(text.contains("no card matches"), "{text}");
    assert!(text.contains("no matches"), "{text}");
    insta::assert_snapshot!("board_filter_without_matches", draw(&app, 80, 24).backend());
}

#[test]
fn a_filter_brings_matches_in_columns_off_screen_into_view() {
    let mut app = sample_app();
    // At 80 columns, Review and Done are off screen; card 6 is in Done.
    assert!(!screen(&app, 80, 24).contains("Token auth"));
    press(&mut app, "/hashed");
    assert_eq!(
        app.board.column, 4,
        "focus moved to the column with the match"
    );
    let text = screen(&app, 80, 24);
    assert!(text.contains("#6 Token auth with"), "{text}");
    // A match in the focused column keeps the focus where it is.
    app.on_key(key(KeyCode::Esc));
    press(&mut app, "l/commit");
    assert_eq!(app.board.column, 2);
}

#[test]
fn the_density_toggle_puts_each_card_on_one_row() {
    let mut app = sample_app();
    assert!(screen(&app, 80, 24).contains("[security] @mira"));
    press(&mut app, "z");
    assert!(app.board.compact);
    let text = screen(&app, 80, 24);
    assert!(!text.contains("[security]"), "{text}");
    insta::assert_snapshot!("board_compact", draw(&app, 80, 24).backend());
    press(&mut app, "z");
    assert!(!app.board.compact);
}
