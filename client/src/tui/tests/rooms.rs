//! Rooms from the keyboard: create one (the server's refusal shown, the name kept), move through
//! the list, and jump to one by name.

use crossterm::event::KeyCode;
use warren_protocol::{Change, Command, ErrorCode, WireError};

use super::fixture::*;
use crate::keymap::Context;
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::prompt::PromptFor;
use crate::tui::screens::Tab;
use crate::tui::state::Overlay;

fn rooms_app() -> App {
    app_with(state(
        sample_cards(),
        vec![
            room(1, "general"),
            room(2, "design"),
            room(3, "release-notes"),
            room(4, "random"),
        ],
    ))
}

fn create_room_sent(app: &mut App) -> Option<(warren_protocol::RequestId, Command)> {
    app.outbound.drain(..).find_map(|r| match r {
        NetRequest::Command {
            request_id,
            command: command @ Command::CreateRoom { .. },
        } => Some((request_id, command)),
        _ => None,
    })
}

#[test]
fn a_new_room_is_created_and_shown_once_the_server_has_it() {
    let mut app = rooms_app();
    press(&mut app, "2n");
    assert_eq!(app.context(), Context::Prompt);
    insta::assert_snapshot!("new_room_prompt", draw(&app, 80, 24).backend());
    press(&mut app, "ops\n");
    assert!(app.overlay.is_none());
    let (_, command) = create_room_sent(&mut app).expect("create_room sent");
    let Command::CreateRoom {
        room_id: Some(room_id),
        name,
        ..
    } = command
    else {
        panic!("a room id is minted: {command:?}")
    };
    assert_eq!(name, "ops");
    let mut created = room(9, "ops");
    created.id = room_id.clone();
    let e = event(&app, &me(), Change::RoomCreated { room: created });
    app.on_net(e);
    assert_eq!(app.current_room(), Some(room_id));
    assert_eq!(app.tab, Tab::Chat);
}

#[test]
fn a_refused_room_name_comes_back_with_the_reason() {
    let mut app = rooms_app();
    press(&mut app, "2nBad Name\n");
    let (request_id, _) = create_room_sent(&mut app).expect("create_room sent");
    app.on_net(NetEvent::Rejected(
        request_id,
        WireError::new(
            ErrorCode::Validation,
            "room names use lowercase letters, digits, - and _",
        ),
    ));
    let Some(Overlay::Prompt(prompt)) = &app.overlay else {
        panic!("the prompt is back, got {:?}", app.overlay)
    };
    assert_eq!(prompt.purpose, PromptFor::NewRoom);
    assert_eq!(prompt.input.lines(), ["Bad Name"]);
    let notice = app.notice.clone().expect("the reason");
    assert!(notice.text.contains("lowercase letters"), "{notice:?}");
    // The prompt says why too, after the status message has gone.
    assert_eq!(
        prompt.error.as_deref(),
        Some("room names use lowercase letters, digits, - and _")
    );
}

#[test]
fn an_empty_name_is_not_sent() {
    let mut app = rooms_app();
    press(&mut app, "2n\n");
    assert!(create_room_sent(&mut app).is_none());
    assert_eq!(app.context(), Context::Prompt, "the prompt stays open");
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn jumping_to_a_room_by_a_fuzzy_name() {
    let mut app = rooms_app();
    app.on_key(ctrl('k'));
    assert_eq!(app.context(), Context::Prompt);
    press(&mut app, "rnt");
    let names: Vec<String> = app.room_choices().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["release-notes"], "letters in order");
    for _ in 0..3 {
        app.on_key(key(KeyCode::Backspace));
    }
    press(&mut app, "r");
    let names: Vec<String> = app.room_choices().into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        ["release-notes", "random", "general"],
        "prefix first"
    );
    insta::assert_snapshot!("jump_to_room", draw(&app, 80, 24).backend());
    app.on_key(key(KeyCode::Down));
    press(&mut app, "\n");
    assert_eq!(app.tab, Tab::Chat);
    assert_eq!(app.current_room(), Some(id("room", 4)));
    assert!(app.overlay.is_none());
}

#[test]
fn the_room_list_is_walked_with_next_and_prev() {
    let mut app = rooms_app();
    press(&mut app, "2]]");
    assert_eq!(app.current_room(), Some(id("room", 3)));
    press(&mut app, "[");
    assert_eq!(app.current_room(), Some(id("room", 2)));
    press(&mut app, "[[");
    assert_eq!(app.current_room(), Some(id("room", 4)), "wraps around");
}

/// The jump prompt and the palette find rooms with one matcher: what one finds, the other does.
#[test]
fn the_room_jump_matches_rooms_as_the_palette_does() {
    for query in ["rel notes", "notes rel", "gnrl", "dsgn", "#ran", "xyz"] {
        let mut app = rooms_app();
        app.on_key(ctrl('k'));
        press(&mut app, query);
        let mut jump: Vec<String> = app.room_choices().into_iter().map(|r| r.name).collect();
        let mut app = rooms_app();
        press(&mut app, ":");
        press(&mut app, query);
        let mut palette: Vec<String> = app
            .palette_entries()
            .into_iter()
            .filter(|e| matches!(e.target, crate::tui::palette::Target::Room(_)))
            .map(|e| e.label.trim_start_matches('#').to_owned())
            .collect();
        jump.sort();
        palette.sort();
        assert_eq!(jump, palette, "{query:?}");
    }
    let mut app = rooms_app();
    app.on_key(ctrl('k'));
    press(&mut app, "rel notes");
    let names: Vec<String> = app.room_choices().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["release-notes"]);
}

/// Only the characters the query matched are highlighted in the jump list, as in the palette.
#[test]
fn the_room_jump_highlights_only_the_matched_characters() {
    let mut app = rooms_app();
    app.on_key(ctrl('k'));
    press(&mut app, "gnrl");
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let matched = app.theme.style("ui.match").fg;
    let row = (0..24)
        .find(|&y| {
            let text: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
            text.contains("#general")
        })
        .expect("the choice is drawn");
    let text: String = (0..80).map(|x| buffer[(x, row)].symbol()).collect();
    let byte = text.find("general").expect("name");
    let start = text[..byte].chars().count() as u16;
    let highlighted: String = (start..start + 7)
        .filter(|&x| buffer[(x, row)].fg == matched.unwrap_or_default())
        .map(|x| buffer[(x, row)].symbol().to_owned())
        .collect();
    assert_eq!(highlighted, "gnrl");
}
