//! Bracketed paste: one paste is text in the focused field, never key presses.

use warren_protocol::Command;

use super::fixture::*;
use crate::keymap::Context;
use crate::tui::net::NetRequest;
use crate::tui::screens::board::editor::Field;
use crate::tui::state::Overlay;

/// What a terminal sends for a three-line paste: CR line breaks, a tab, an escape sequence.
const PASTE: &str = "fn main() {\r\tprintln!(\"q\");\r\n}\u{1b}[2J";

#[test]
fn a_paste_in_the_message_box_keeps_its_lines_and_sends_nothing() {
    let mut app = sample_app();
    press(&mut app, "2i");
    app.on_paste(PASTE);
    assert_eq!(
        app.chat.compose.lines(),
        ["fn main() {", "    println!(\"q\");", "}"]
    );
    assert_eq!(
        app.context(),
        Context::Compose,
        "no key press (q) was acted on"
    );
    assert!(
        !app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::Command { .. })),
        "a paste sends nothing by itself"
    );
    press(&mut app, "\n");
    let posted: Vec<String> = app
        .outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Command {
                command: Command::PostMessage { body, .. },
                ..
            } => Some(body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(posted, ["fn main() {\n    println!(\"q\");\n}"]);
}

#[test]
fn a_paste_in_the_chat_screen_opens_the_message_box() {
    let mut app = sample_app();
    press(&mut app, "2");
    app.on_paste("two\nlines");
    assert_eq!(app.context(), Context::Compose);
    assert_eq!(app.chat.compose.lines(), ["two", "lines"]);
}

#[test]
fn one_line_fields_get_spaces_and_the_description_keeps_lines() {
    let mut app = sample_app();
    press(&mut app, "n");
    app.on_paste("a title\r\nover two lines\r\n");
    let Some(Overlay::Editor(editor)) = &app.overlay else {
        panic!("the editor is open")
    };
    assert_eq!(editor.focused(), Field::Title);
    assert_eq!(editor.title.lines(), ["a title over two lines"]);
    // Description is the last field.
    app.on_key(key(crossterm::event::KeyCode::BackTab));
    app.on_paste("one\rtwo");
    let Some(Overlay::Editor(editor)) = &app.overlay else {
        panic!("the editor is open")
    };
    assert_eq!(editor.focused(), Field::Description);
    assert_eq!(editor.description.lines(), ["one", "two"]);
}

#[test]
fn the_filter_and_the_palette_take_a_paste_on_one_line() {
    let mut app = sample_app();
    press(&mut app, "/");
    app.on_paste("#secu\nrity");
    assert_eq!(app.board.filter, "#secu rity");
    press(&mut app, "\n");
    app.on_key(key(crossterm::event::KeyCode::Esc));
    press(&mut app, ":");
    app.on_paste("show\nchat\n");
    let Some(Overlay::Palette { input, .. }) = &app.overlay else {
        panic!("the palette is open")
    };
    assert_eq!(input.lines(), ["show chat"]);
}

#[test]
fn a_paste_where_nothing_takes_text_changes_nothing_and_says_so() {
    let mut app = sample_app();
    let before = app.outbox.len();
    app.on_paste("qqq\nd");
    assert!(!app.quit);
    assert!(app.overlay.is_none());
    assert_eq!(app.outbox.len(), before);
    assert!(app.notice.is_some());
}
