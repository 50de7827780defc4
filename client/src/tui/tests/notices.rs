//! Status messages: plain words, shown in full (wrapped) rather than cut at the bar's width,
//! cleared by the next success or after a few seconds, and kept for the messages window.

use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::{Command, ErrorCode, RequestId, WireError};

use super::fixture::*;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::notices::{ERROR_TTL, INFO_TTL};
use crate::tui::state::Overlay;

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

const LONG: &str = "title is too long: a card title holds at most 200 characters after trimming; \
                    shorten it and save again — the text you typed is still in the editor, nothing \
                    was lost, and this sentence keeps going so that it needs three lines";

#[test]
fn a_refusal_reads_as_plain_words_and_is_shown_in_full() {
    let mut app = sample_app();
    press(&mut app, "L");
    let request = sent(&mut app).remove(0).0;
    app.on_net(NetEvent::Rejected(
        request,
        WireError::new(ErrorCode::Validation, LONG),
    ));
    let notice = app.notice.clone().expect("a notice");
    assert!(
        notice
            .text
            .starts_with("Could not move the card: title is too long")
    );
    assert!(!notice.text.contains("move_card"));
    let screen = format!("{}", draw(&app, 80, 24).backend());
    // Three lines of it, then the key that shows the rest.
    assert!(screen.contains("shorten it and save again"), "{screen}");
    assert!(screen.contains("(M shows all)"), "{screen}");
    insta::assert_snapshot!("long_notice", draw(&app, 80, 24).backend());
}

#[test]
fn an_error_is_cleared_by_the_next_success() {
    let mut app = sample_app();
    press(&mut app, "L");
    let first = sent(&mut app).remove(0).0;
    app.on_net(NetEvent::Rejected(
        first,
        WireError::new(ErrorCode::NotFound, "no card"),
    ));
    assert!(app.notice.is_some());
    // Another change goes through.
    press(&mut app, "L");
    let (request, _) = sent(&mut app).into_iter().next().expect("a command");
    let event = match event(
        &app,
        &me(),
        warren_protocol::Change::CardDeleted {
            card_id: id("card", 99),
            board_id: id("board", 1),
        },
    ) {
        NetEvent::Push(m) => match *m {
            warren_protocol::ServerMessage::Event { event } => event,
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    app.on_net(NetEvent::Acked(
        request,
        Box::new(crate::connection::Ack {
            seq: event.seq,
            duplicate: false,
            event,
        }),
    ));
    assert_eq!(app.notice, None, "the success cleared the old error");
}

#[test]
fn messages_time_out_and_the_loop_wakes_up_for_it() {
    let mut app = sample_app();
    let now = Instant::now();
    app.notify_at("Copied", false, now);
    assert_eq!(
        crate::tui::run::next_wakeup(&app, now),
        Some(now + INFO_TTL),
        "the loop wakes up to clear it"
    );
    app.expire_notice(now + INFO_TTL - Duration::from_millis(1));
    assert!(app.notice.is_some());
    app.expire_notice(now + INFO_TTL);
    assert_eq!(app.notice, None);
    assert_eq!(crate::tui::run::next_wakeup(&app, now), None, "idle again");
    // Errors stay longer.
    app.notify_at("Could not save the card: gone", true, now);
    app.expire_notice(now + INFO_TTL);
    assert!(app.notice.is_some());
    app.expire_notice(now + ERROR_TTL);
    assert_eq!(app.notice, None);
}

#[test]
fn the_messages_window_shows_recent_messages_in_full() {
    let mut app = sample_app();
    let now = Instant::now();
    app.notify_at("Card #3 deleted", false, now);
    app.notify_at(format!("Could not create the card: {LONG}"), true, now);
    app.expire_notice(now + ERROR_TTL);
    press(&mut app, "M");
    assert!(matches!(app.overlay, Some(Overlay::Messages { .. })));
    let screen = format!("{}", draw(&app, 80, 24).backend());
    assert!(screen.contains("Card #3 deleted"), "{screen}");
    assert!(screen.contains("needs three lines"), "{screen}");
    // The palette finds it by name too.
    app.overlay = None;
    press(&mut app, ":messages");
    assert_eq!(
        app.palette_entries().first().map(|e| e.label.clone()),
        Some("Recent messages".to_owned())
    );
}

#[test]
fn status_bar_parts_never_run_into_each_other_at_80_columns() {
    let mut app = sample_app();
    app.on_net(NetEvent::Disconnected {
        reason: "nothing is accepting connections there (connection refused)".into(),
        retry_at: Some(Instant::now() + Duration::from_secs(9)),
    });
    press(&mut app, "LjL");
    assert!(app.outbox.len() >= 2);
    let terminal = draw(&app, 80, 24);
    let bar: String = (0..80u16)
        .map(|x| terminal.backend().buffer()[(x, 23)].symbol().to_owned())
        .collect();
    assert!(bar.contains("  ? help"), "{bar:?}");
    assert!(bar.contains("reconnecting in"), "{bar:?}");
    assert!(bar.contains(&format!("{} ", app.outbox.len())), "{bar:?}");
    for glued in ["sent?", "sent·", "s?"] {
        assert!(!bar.contains(glued), "{bar:?}");
    }
    insta::assert_snapshot!("status_bar_busy", terminal.backend());
}

/// The server names a forbidden request by its wire name (for API clients); the status message
/// says it in words.
#[test]
fn a_forbidden_change_is_explained_without_the_wire_name() {
    let mut app = sample_app();
    press(&mut app, "2n");
    press(&mut app, "bobs-room\n");
    let (request, command) = sent(&mut app).remove(0);
    let permission = warren_protocol::permission::Permission::RoomManage;
    let message = warren_protocol::permission::denial(
        warren_protocol::Role::Member,
        permission,
        command.name(),
    );
    assert!(message.starts_with("create_room "), "{message}");
    app.on_net(NetEvent::Rejected(
        request,
        WireError::new(ErrorCode::Forbidden, message),
    ));
    let notice = app.notice.clone().expect("a notice");
    assert!(
        notice.text.starts_with(
            "Could not create the room #bobs-room: that needs the room:manage permission"
        ),
        "{}",
        notice.text
    );
    assert!(!notice.text.contains("create_room"), "{}", notice.text);
}

#[test]
fn a_rate_limited_change_says_it_is_slowed_down_and_stays_pending() {
    let mut app = sample_app();
    press(&mut app, "L");
    let (request, _) = sent(&mut app).remove(0);
    let before = app.outbox.len();
    app.on_net(NetEvent::SlowedDown {
        retry_in: Duration::from_millis(1300),
    });
    let notice = app.notice.clone().expect("a notice");
    assert_eq!(notice.text, "Slowed down by the server: retrying in 2 s");
    assert!(
        !notice.error,
        "a rate limit is not an error: nothing was lost"
    );
    assert_eq!(app.outbox.len(), before, "the change is still waiting");
    assert!(
        app.outbox.items().iter().any(|p| p.request_id == request),
        "under its request id"
    );
    insta::assert_snapshot!("slowed_down", draw(&app, 80, 24).backend());
}
