//! Chat history: the first page of a room merges with messages that arrived live before it.

use warren_protocol::Change;

use super::fixture::*;
use crate::tui::net::{NetEvent, NetRequest};

fn bodies(app: &crate::tui::app::App, room: &warren_protocol::Id) -> Vec<String> {
    app.view()
        .history
        .get(room)
        .map(|h| h.messages.iter().map(|m| m.body.clone()).collect())
        .unwrap_or_default()
}

/// The sequence: `room add fresh`, two messages from the CLI, then open #fresh.
#[test]
fn live_messages_before_the_first_page_are_kept() {
    let mut app = sample_app();
    let fresh = room(3, "fresh");
    let e = event(
        &app,
        &other(),
        Change::RoomCreated {
            room: fresh.clone(),
        },
    );
    app.on_net(e);
    for (n, body) in [(1, "first"), (2, "second")] {
        let seq = app.model.seq + 1;
        let e = event(
            &app,
            &other(),
            Change::MessagePosted {
                message: message(n, &fresh.id, &other(), seq, body),
            },
        );
        app.on_net(e);
    }
    // Open #fresh (general, design, fresh). Until the first page arrives, the live messages
    // are not presented as the start of the room.
    press(&mut app, "2]]");
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(
        screen.contains("loading earlier messages") && !screen.contains("start of the room"),
        "{screen}"
    );
    assert_eq!(app.current_room(), Some(fresh.id.clone()));
    assert!(
        app.outbound.iter().any(
            |r| matches!(r, NetRequest::Messages { room_id, before: None } if room_id == &fresh.id)
        ),
        "{:?}",
        app.outbound
    );
    // The server's first page holds the same two messages.
    let page = app.model.history[&fresh.id].messages.clone();
    app.on_net(NetEvent::Page {
        room_id: fresh.id.clone(),
        messages: page,
        has_more: false,
    });
    assert_eq!(bodies(&app, &fresh.id), ["first", "second"]);
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(
        screen.contains("first") && screen.contains("second") && !screen.contains("No messages"),
        "{screen}"
    );
    // One more message: all three.
    let seq = app.model.seq + 1;
    let e = event(
        &app,
        &other(),
        Change::MessagePosted {
            message: message(3, &fresh.id, &other(), seq, "third"),
        },
    );
    app.on_net(e);
    assert_eq!(bodies(&app, &fresh.id), ["first", "second", "third"]);
}

/// A page the server answered before a live message arrived, and one that knows of a deletion
/// or an edit the live copy missed.
#[test]
fn the_first_page_merges_with_newer_live_messages() {
    let mut app = sample_app();
    let general = id("room", 1);
    let mut edited = message(2, &general, &other(), 12, "two (edited)");
    edited.edited_at = Some(T0 + 1);
    for m in [
        message(1, &general, &other(), 11, "deleted before the page"),
        message(2, &general, &other(), 12, "two"),
        message(3, &general, &other(), 13, "after the page"),
    ] {
        app.model
            .apply_change(&Change::MessagePosted { message: m });
    }
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: vec![message(4, &general, &other(), 9, "old"), edited],
        has_more: false,
    });
    assert_eq!(
        bodies(&app, &general),
        ["old", "two (edited)", "after the page"]
    );
}
