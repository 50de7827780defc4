//! Nothing typed is lost: the outbox survives quitting, quitting with changes waiting asks,
//! leaving the card editor with edits asks, and a refused change comes back with its text.

use crossterm::event::KeyCode;
use warren_protocol::{Command, ErrorCode, RequestId, WireError};

use super::fixture::*;
use crate::keymap::Context;
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::state::{Confirmable, Overlay};

fn sent(app: &mut App) -> Vec<(RequestId, Command)> {
    app.outbound
        .drain(..)
        .filter_map(|r| match r {
            NetRequest::Command {
                request_id,
                command,
            } => Some((request_id, command)),
            _ => None,
        })
        .collect()
}

fn offline(app: &mut App) {
    app.on_net(NetEvent::Disconnected {
        reason: "connection refused".into(),
        retry_at: None,
    });
}

/// A sample app whose outbox is kept in `dir`.
fn kept_app(dir: &std::path::Path) -> App {
    let mut app = sample_app();
    app.outbox_dir = Some(dir.to_path_buf());
    // The identity is learned on connect.
    app.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
    app.outbound.clear();
    app
}

#[test]
fn changes_waiting_at_quit_are_kept_and_sent_by_the_next_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = kept_app(dir.path());
    offline(&mut app);
    press(&mut app, "n");
    press(&mut app, "Written offline");
    app.on_key(ctrl('s'));
    press(&mut app, "L");
    assert_eq!(app.outbox.len(), 2);
    let waiting: Vec<RequestId> = app
        .outbox
        .items()
        .iter()
        .map(|p| p.request_id.clone())
        .collect();

    // q asks, and says the changes are kept.
    press(&mut app, "q");
    assert!(!app.quit);
    let Some(Overlay::Confirm { prompt, what }) = &app.overlay else {
        panic!("quit asks first, got {:?}", app.overlay)
    };
    assert_eq!(what, &Confirmable::Quit);
    assert!(
        prompt.contains("2 changes not sent yet; they are kept and sent when warren reconnects"),
        "{prompt}"
    );
    press(&mut app, "n");
    assert!(!app.quit && app.overlay.is_none(), "n stays");
    press(&mut app, "qy");
    assert!(app.quit);

    // The next run connects: both are sent, in order, under the same request ids.
    let mut next = sample_app();
    next.outbox_dir = Some(dir.path().to_path_buf());
    next.outbox_key = None; // a new run: the fixture connected before the dir was set
    next.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
    let resent = sent(&mut next);
    let ids: Vec<RequestId> = resent.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(ids, waiting);
    assert!(
        matches!(&resent[0].1, Command::CreateCard { title, .. } if title == "Written offline")
    );
    // Once the server answers, nothing is kept any more.
    for (request_id, _) in resent {
        next.on_net(NetEvent::Rejected(
            request_id,
            WireError::new(ErrorCode::NotFound, "gone"),
        ));
    }
    assert!(next.outbox.is_empty());
    let left = std::fs::read_dir(dir.path()).map_or(0, Iterator::count);
    assert_eq!(left, 0, "the file goes when nothing waits");
}

#[test]
fn quitting_with_nothing_waiting_does_not_ask() {
    let mut app = sample_app();
    press(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn leaving_the_card_editor_with_edits_asks_first() {
    let mut app = sample_app();
    press(&mut app, "e");
    // No edits: Esc leaves at once.
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
    press(&mut app, "e");
    press(&mut app, " (more)");
    app.on_key(key(KeyCode::Esc));
    assert!(
        matches!(
            &app.overlay,
            Some(Overlay::Confirm {
                what: Confirmable::DiscardEdits,
                ..
            })
        ),
        "{:?}",
        app.overlay
    );
    // A stray key does nothing; n goes back to the editor with the text.
    press(&mut app, "2");
    press(&mut app, "n");
    let Some(Overlay::Editor(editor)) = &app.overlay else {
        panic!("back in the editor, got {:?}", app.overlay)
    };
    assert_eq!(
        editor.title.lines(),
        ["Dark mode for exported boards (more)"]
    );
    app.on_key(key(KeyCode::Esc));
    press(&mut app, "y");
    assert!(app.overlay.is_none());
    assert!(sent(&mut app).is_empty());
}

#[test]
fn the_editor_opened_from_the_details_returns_to_them() {
    let mut app = sample_app();
    press(&mut app, "\n");
    assert!(matches!(app.overlay, Some(Overlay::Detail { .. })));
    press(&mut app, "e");
    assert_eq!(app.context(), Context::Editor);
    app.on_key(key(KeyCode::Esc));
    assert!(
        matches!(app.overlay, Some(Overlay::Detail { .. })),
        "cancel returns to the details: {:?}",
        app.overlay
    );
    press(&mut app, "e");
    press(&mut app, "!");
    app.on_key(ctrl('s'));
    assert!(
        matches!(app.overlay, Some(Overlay::Detail { .. })),
        "save returns to the details: {:?}",
        app.overlay
    );
    assert_eq!(sent(&mut app).len(), 1);
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn a_refused_card_comes_back_in_the_editor_with_the_reason() {
    let mut app = sample_app();
    press(&mut app, "n");
    press(&mut app, "Too long, say");
    app.on_key(ctrl('s'));
    let (request_id, _) = sent(&mut app).remove(0);
    app.on_net(NetEvent::Rejected(
        request_id,
        WireError::new(ErrorCode::Validation, "title is too long"),
    ));
    let Some(Overlay::Editor(editor)) = &app.overlay else {
        panic!("the editor is back, got {:?}", app.overlay)
    };
    assert_eq!(editor.title.lines(), ["Too long, say"]);
    assert!(editor.card.is_none(), "still a new card");
    let notice = app.notice.clone().expect("the reason is shown");
    assert!(notice.text.contains("title is too long"), "{notice:?}");
    // Leaving it asks: the text was never saved.
    app.on_key(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
}

/// The status bar is under the editor at 80x24, so the editor itself says why it came back,
/// until the next save.
#[test]
fn a_refused_card_shows_why_inside_the_editor() {
    let mut app = sample_app();
    press(&mut app, "n");
    press(&mut app, "Too long, say");
    app.on_key(ctrl('s'));
    let (request_id, _) = sent(&mut app).remove(0);
    app.on_net(NetEvent::Rejected(
        request_id,
        WireError::new(
            ErrorCode::Validation,
            "title is too long: a card title holds at most 200 characters after trimming",
        ),
    ));
    // Long after the status message has gone.
    app.expire_notice(tokio::time::Instant::now() + std::time::Duration::from_secs(3600));
    assert!(app.notice.is_none());
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(
        screen.contains("Not saved: title is too long: a card title holds at most 200"),
        "{screen}"
    );
    insta::assert_snapshot!("refused_card_in_the_editor", draw(&app, 80, 24).backend());
    // Saving again sends it again; a reopened editor starts without the old reason.
    app.on_key(ctrl('s'));
    assert!(app.overlay.is_none());
}

#[test]
fn a_refused_card_update_keeps_the_edits() {
    let mut app = sample_app();
    press(&mut app, "e");
    press(&mut app, " v2");
    app.on_key(ctrl('s'));
    let (request_id, _) = sent(&mut app).remove(0);
    app.on_net(NetEvent::Rejected(
        request_id,
        WireError::new(ErrorCode::Validation, "no"),
    ));
    let Some(Overlay::Editor(editor)) = &app.overlay else {
        panic!("the editor is back, got {:?}", app.overlay)
    };
    assert_eq!(editor.card, Some(id("card", 1)));
    assert_eq!(editor.title.lines(), ["Dark mode for exported boards v2"]);
}

#[test]
fn a_refused_message_edit_comes_back_in_the_message_box() {
    let mut app = sample_app();
    let general = id("room", 1);
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: vec![message(1, &general, &me(), 11, "helo")],
        has_more: false,
    });
    press(&mut app, "2e");
    assert_eq!(app.chat.editing, Some(id("msg", 1)));
    app.on_key(key(KeyCode::Backspace));
    press(&mut app, "lo\n");
    let (request_id, command) = sent(&mut app).remove(0);
    assert!(matches!(command, Command::EditMessage { ref body, .. } if body == "hello"));
    app.on_key(key(KeyCode::Esc));
    assert!(!app.chat.composing);
    app.on_net(NetEvent::Rejected(
        request_id,
        WireError::new(ErrorCode::Forbidden, "not yours"),
    ));
    assert!(app.chat.composing);
    assert_eq!(app.chat.compose.lines(), ["hello"]);
    assert_eq!(app.chat.editing, Some(id("msg", 1)));
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not yours"))
    );
}

#[test]
fn quitting_with_a_draft_or_unsaved_card_edits_asks() {
    let mut app = sample_app();
    press(&mut app, "2ihalf a thought");
    app.on_key(ctrl('c'));
    assert!(!app.quit);
    let Some(Overlay::Confirm { prompt, .. }) = &app.overlay else {
        panic!("quit asks, got {:?}", app.overlay)
    };
    assert!(prompt.contains("message you are writing"), "{prompt}");
    press(&mut app, "n");
    assert_eq!(app.chat.compose.lines(), ["half a thought"], "n keeps it");

    let mut app = sample_app();
    press(&mut app, "e!");
    app.on_key(ctrl('c'));
    assert!(!app.quit);
    press(&mut app, "n");
    assert!(
        matches!(app.overlay, Some(Overlay::Editor(_))),
        "back in the editor"
    );
    app.on_key(ctrl('c'));
    press(&mut app, "y");
    assert!(app.quit);
}
