//! Copying a card or message with OSC 52 (opt-in), and undoing the last delete for a few seconds.

use tokio::time::Instant;
use warren_protocol::{Command, ErrorCode, Position, Priority, RequestId, WireError};

use super::fixture::*;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::undo::UNDO_TTL;

fn sent(app: &mut crate::tui::app::App) -> Vec<(RequestId, Command)> {
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

fn with_messages(mut app: crate::tui::app::App) -> crate::tui::app::App {
    let general = id("room", 1);
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: vec![
            message(1, &general, &other(), 3, "first"),
            message(2, &general, &me(), 4, "line one\nline two"),
        ],
        has_more: false,
    });
    app
}

#[test]
fn copy_is_off_until_configured_and_says_how_to_turn_it_on() {
    let mut app = sample_app();
    app.config_path = Some("/home/ada/.config/warren/config.toml".into());
    press(&mut app, "y");
    assert_eq!(app.copy_request, None);
    let notice = app.notice.clone().expect("a notice");
    assert!(
        notice.text.contains("osc52 = true")
            && notice.text.contains("[ui]")
            && notice.text.contains("/home/ada/.config/warren/config.toml"),
        "{notice:?}"
    );
}

#[test]
fn copy_puts_the_card_or_message_text_on_the_clipboard() {
    let mut app = with_messages(sample_app());
    app.osc52 = true;
    press(&mut app, "y");
    assert_eq!(
        app.copy_request.take().as_deref(),
        Some("#1 Dark mode for exported boards")
    );
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("Copied card #1"))
    );
    // From the card view, with the description.
    press(&mut app, "ll\n");
    press(&mut app, "y");
    let text = app.copy_request.take().unwrap_or_default();
    assert!(
        text.starts_with("#4 Group commit for the event store\n\nShare **one** fsync."),
        "{text:?}"
    );
    app.overlay = None;
    // In chat: the newest message when none is selected, line breaks kept.
    press(&mut app, "2y");
    assert_eq!(
        app.copy_request.take().as_deref(),
        Some("line one\nline two")
    );
    press(&mut app, "kky");
    assert_eq!(app.copy_request.take().as_deref(), Some("first"));
}

#[test]
fn a_deleted_card_comes_back_with_the_same_content_in_the_same_place() {
    let mut app = sample_app();
    press(&mut app, "j"); // card 2, below card 1 in Backlog
    let mut original = app.selected_card().expect("a card");
    assert_eq!(original.number, 2);
    press(&mut app, "dy");
    assert!(matches!(
        sent(&mut app).as_slice(),
        [(_, Command::DeleteCard { .. })]
    ));
    let notice = app.notice.clone().expect("a notice");
    assert_eq!(notice.text, "Card #2 deleted — u to undo");
    press(&mut app, "u");
    let sent = sent(&mut app);
    let [
        (
            _,
            Command::CreateCard {
                title,
                column_id,
                labels,
                priority,
                position,
                description,
                ..
            },
        ),
    ] = sent.as_slice()
    else {
        panic!("expected create_card, got {sent:?}")
    };
    original.labels = vec![];
    assert_eq!(title, &original.title);
    assert_eq!(column_id.as_ref(), Some(&original.column_id));
    assert_eq!(labels, &original.labels);
    assert_eq!(*priority, Priority::None);
    assert_eq!(description, &original.description);
    assert_eq!(
        position,
        &Position::After {
            card_id: id("card", 1)
        }
    );
    // The restored card shows at once and is selected.
    assert_eq!(
        app.selected_card().map(|c| c.title),
        Some(original.title.clone())
    );
    // Undo once only.
    press(&mut app, "u");
    assert!(super::copy_undo::sent(&mut app).is_empty());
}

#[test]
fn undo_lasts_a_few_seconds_only() {
    let mut app = sample_app();
    let now = Instant::now();
    app.delete_card_with_undo(id("card", 1), now);
    sent(&mut app);
    app.undo_delete(now + UNDO_TTL);
    assert!(sent(&mut app).is_empty(), "too late to undo");
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.starts_with("Nothing to undo"))
    );
}

#[test]
fn a_refused_delete_leaves_nothing_to_undo() {
    let mut app = sample_app();
    press(&mut app, "dy");
    let (request, _) = sent(&mut app).remove(0);
    app.on_net(NetEvent::Rejected(
        request,
        WireError::new(ErrorCode::Forbidden, "not yours"),
    ));
    assert_eq!(app.undo, None);
    press(&mut app, "u");
    assert!(sent(&mut app).is_empty());
}

#[test]
fn a_deleted_message_comes_back_as_a_new_message() {
    let mut app = with_messages(sample_app());
    press(&mut app, "2");
    app.delete_message_with_undo(id("msg", 2), Instant::now());
    assert!(matches!(
        sent(&mut app).as_slice(),
        [(_, Command::DeleteMessage { .. })]
    ));
    assert_eq!(
        app.notice.as_ref().map(|n| n.text.as_str()),
        Some("Message deleted — u to undo")
    );
    press(&mut app, "u");
    let sent = sent(&mut app);
    let [(_, Command::PostMessage { room_id, body, .. })] = sent.as_slice() else {
        panic!("expected post_message, got {sent:?}")
    };
    assert_eq!(room_id, &id("room", 1));
    assert_eq!(body, "line one\nline two");
}
