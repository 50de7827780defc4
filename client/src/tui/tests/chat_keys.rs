//! Chat keys: `e` and `d` act on the same message, the delete question keeps the message's line
//! breaks, and the message box shows its keys.

use warren_protocol::Id;

use super::fixture::*;
use crate::tui::app::App;
use crate::tui::net::NetEvent;
use crate::tui::state::{Confirmable, Overlay};

fn chat_app() -> App {
    let mut app = sample_app();
    let general = id("room", 1);
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: vec![
            message(1, &general, &me(), 11, "my first"),
            message(2, &general, &me(), 12, "my plan:\n- one\n- two"),
            message(3, &general, &other(), 13, "mira's"),
        ],
        has_more: false,
    });
    app.on_net(NetEvent::Page {
        room_id: general,
        messages: vec![],
        has_more: false,
    });
    press(&mut app, "2");
    app
}

/// What `e` edits and what `d` asks to delete, each in a fresh app set up by `setup`.
fn targets(setup: impl Fn(&mut App)) -> (Option<Id>, Option<Id>) {
    let mut edit = chat_app();
    setup(&mut edit);
    press(&mut edit, "e");
    let edited = edit.chat.editing.clone();
    let mut delete = chat_app();
    setup(&mut delete);
    press(&mut delete, "d");
    let deleted = match &delete.overlay {
        Some(Overlay::Confirm {
            what: Confirmable::DeleteMessage(id),
            ..
        }) => Some(id.clone()),
        _ => None,
    };
    (edited, deleted)
}

fn sending(app: &mut App) {
    app.on_net(NetEvent::Disconnected {
        reason: "down".into(),
        retry_at: None,
    });
    press(app, "iwhile offline\n");
    app.on_key(key(crossterm::event::KeyCode::Esc));
}

#[test]
fn edit_and_delete_agree_on_your_last_message() {
    // Nothing selected: your newest message (mira's is newer, but not yours).
    assert_eq!(targets(|_| {}), (Some(id("msg", 2)), Some(id("msg", 2))));
    // Someone else's selected: neither acts, both say why.
    assert_eq!(targets(|app| press(app, "k")), (None, None));
    let mut on_other = chat_app();
    press(&mut on_other, "k");
    assert_eq!(on_other.chat.selected, Some(id("msg", 3)));
    assert!(
        on_other
            .own_target()
            .is_err_and(|why| why.contains("mira's"))
    );
    // Your older one selected: both act on it.
    assert_eq!(
        targets(|app| press(app, "kkk")),
        (Some(id("msg", 1)), Some(id("msg", 1)))
    );
    // A message still being sent is nobody's target yet.
    assert_eq!(targets(sending), (None, None));
    let mut app = chat_app();
    sending(&mut app);
    assert!(
        app.own_target()
            .is_err_and(|why| why.contains("still being sent"))
    );
}

#[test]
fn the_delete_question_keeps_line_breaks() {
    let mut app = chat_app();
    press(&mut app, "d");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn the_message_box_shows_its_keys() {
    let mut app = chat_app();
    press(&mut app, "i");
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(
        screen.contains("enter send")
            && screen.contains("new line")
            && screen.contains("esc leave"),
        "{screen}"
    );
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn leaving_a_changed_message_edit_asks_first() {
    let mut app = chat_app();
    // Unchanged: esc leaves at once.
    press(&mut app, "e");
    app.on_key(key(crossterm::event::KeyCode::Esc));
    assert!(!app.chat.composing && app.overlay.is_none());
    press(&mut app, "e");
    press(&mut app, " and three");
    app.on_key(key(crossterm::event::KeyCode::Esc));
    assert!(matches!(
        app.overlay,
        Some(Overlay::Confirm {
            what: Confirmable::DiscardMessageEdit,
            ..
        })
    ));
    press(&mut app, "n");
    assert!(app.chat.composing, "n keeps editing");
    assert_eq!(
        app.chat.compose.lines().last().map(String::as_str),
        Some("- two and three")
    );
    app.on_key(key(crossterm::event::KeyCode::Esc));
    press(&mut app, "y");
    assert!(!app.chat.composing && app.chat.editing.is_none());
    assert!(app.chat.compose.is_empty());
}
