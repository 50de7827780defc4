//! Update logic: keys and server events in, state and network requests out.

use crossterm::event::KeyCode;
use warren_protocol::{Change, Command, ErrorCode, Position, RequestId, WireError};

use super::fixture::*;
use crate::connection::Ack;
use crate::keymap::Context;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::screens::Tab;
use crate::tui::state::{ConnState, Overlay};

fn sent_commands(app: &mut crate::tui::app::App) -> Vec<(RequestId, Command)> {
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

#[test]
fn creating_a_card_sends_it_and_shows_it_at_once() {
    let mut app = sample_app();
    press(&mut app, "n");
    assert!(matches!(app.overlay, Some(Overlay::Editor(_))));
    assert_eq!(app.context(), Context::Editor);
    press(&mut app, "Ship it");
    app.on_key(ctrl('s'));
    assert!(app.overlay.is_none());
    let sent = sent_commands(&mut app);
    assert_eq!(sent.len(), 1);
    let Command::CreateCard {
        card_id: Some(card_id),
        title,
        column_id,
        ..
    } = &sent[0].1
    else {
        panic!("expected create_card, got {:?}", sent[0].1)
    };
    assert_eq!(title, "Ship it");
    assert_eq!(column_id.as_ref(), Some(&column_ids()[0]));
    // Optimistic: the pending card is on the board and selected.
    assert_eq!(
        app.selected_card().map(|c| c.title),
        Some("Ship it".to_owned())
    );
    assert_eq!(app.outbox.len(), 1);
    // The server confirms it: the pending change is gone, the card is real.
    let mut created = card(9, 0, "Ship it");
    created.id = card_id.clone();
    let event = match event(&app, &me(), Change::CardCreated { card: created }) {
        NetEvent::Push(m) => match *m {
            warren_protocol::ServerMessage::Event { event } => event,
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    app.on_net(NetEvent::Acked(
        sent[0].0.clone(),
        Box::new(Ack {
            seq: event.seq,
            duplicate: false,
            event,
        }),
    ));
    assert!(app.outbox.is_empty());
    assert_eq!(app.model.card(card_id).map(|c| c.number), Some(9));
}

#[test]
fn offline_changes_queue_and_are_resent_with_the_same_request_ids() {
    let mut app = sample_app();
    app.on_net(NetEvent::Disconnected {
        reason: "connection refused".into(),
        retry_at: None,
    });
    assert!(matches!(app.conn, ConnState::Offline { .. }));
    press(&mut app, "L"); // move the selected card right
    assert!(
        sent_commands(&mut app).is_empty(),
        "nothing is sent while offline"
    );
    assert_eq!(app.outbox.len(), 1);
    // The local view already shows the move.
    assert_eq!(
        app.view().card(&id("card", 1)).map(|c| c.column_id.clone()),
        Some(column_ids()[1].clone())
    );
    app.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
    let resent = sent_commands(&mut app);
    assert_eq!(resent.len(), 1);
    let again = {
        app.on_net(NetEvent::Disconnected {
            reason: "x".into(),
            retry_at: None,
        });
        app.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
        sent_commands(&mut app)
    };
    assert_eq!(resent[0].0, again[0].0, "a re-send keeps the request id");
}

#[test]
fn live_changes_keep_the_selection_and_half_typed_text() {
    let mut app = sample_app();
    press(&mut app, "j"); // select the second card of Backlog
    assert_eq!(app.selected_card().map(|c| c.number), Some(2));
    // Someone inserts a card above it.
    let mut top = card(7, 0, "Inserted above");
    top.rank = "0V".into();
    let e = event(&app, &other(), Change::CardCreated { card: top });
    app.on_net(e);
    assert_eq!(app.view().column_cards(&column_ids()[0]).len(), 3);
    assert_eq!(
        app.selected_card().map(|c| c.number),
        Some(2),
        "selection follows the card"
    );
    // Half-typed chat text survives incoming messages.
    press(&mut app, "2i");
    assert_eq!(app.context(), Context::Compose);
    press(&mut app, "half a thou");
    let e = event(
        &app,
        &other(),
        Change::MessagePosted {
            message: message(1, &id("room", 1), &other(), 12, "hi"),
        },
    );
    app.on_net(e);
    assert_eq!(app.chat.compose.lines(), ["half a thou"]);
    assert_eq!(app.context(), Context::Compose);
}

#[test]
fn sending_a_message_posts_it_to_the_current_room() {
    let mut app = sample_app();
    press(&mut app, "2i");
    press(&mut app, "hello");
    app.on_key(ctrl('j'));
    press(&mut app, "world\n");
    let sent = sent_commands(&mut app);
    let Some((_, Command::PostMessage { room_id, body, .. })) = sent.first() else {
        panic!("expected post_message, got {sent:?}")
    };
    assert_eq!(room_id, &id("room", 1));
    assert_eq!(body, "hello\nworld");
    assert!(app.chat.compose.is_empty());
    let pending = app
        .outbox
        .pending_messages(&id("room", 1), &me().user_id, T0);
    assert_eq!(pending.len(), 1);
}

#[test]
fn moving_cards_between_and_within_columns() {
    let mut app = sample_app();
    press(&mut app, "L");
    let sent = sent_commands(&mut app);
    assert!(
        matches!(&sent[0].1, Command::MoveCard { column_id, position: Position::Bottom, .. } if column_id == &column_ids()[1])
    );
    assert_eq!(app.board.column, 1, "focus follows the moved card");
    assert_eq!(app.selected_card().map(|c| c.number), Some(1));
    // Reorder: card 1 is now below card 3 in Todo; move it up.
    press(&mut app, "K");
    let sent = sent_commands(&mut app);
    assert!(
        matches!(&sent[0].1, Command::MoveCard { position: Position::Before { card_id }, .. } if card_id == &id("card", 3))
    );
}

#[test]
fn deleting_asks_first() {
    let mut app = sample_app();
    press(&mut app, "d");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    press(&mut app, "n");
    assert!(app.overlay.is_none());
    assert!(sent_commands(&mut app).is_empty());
    press(&mut app, "dy");
    assert!(
        matches!(sent_commands(&mut app).as_slice(), [(_, Command::DeleteCard { card_id })] if card_id == &id("card", 1))
    );
}

#[test]
fn the_filter_narrows_columns_as_you_type() {
    let mut app = sample_app();
    press(&mut app, "/");
    assert_eq!(app.context(), Context::Filter);
    press(&mut app, "#secu");
    assert_eq!(app.board.filter, "#secu");
    assert!(app.visible_cards(&column_ids()[0]).is_empty());
    assert_eq!(app.visible_cards(&column_ids()[1]).len(), 1);
    press(&mut app, "\n");
    assert_eq!(app.context(), Context::Board);
    app.on_key(key(KeyCode::Esc));
    assert!(app.board.filter.is_empty());
}

#[test]
fn unread_counts_rise_for_other_rooms_and_clear_when_read() {
    let mut app = sample_app();
    let design = id("room", 2);
    let e = event(
        &app,
        &other(),
        Change::MessagePosted {
            message: message(3, &design, &other(), 11, "look"),
        },
    );
    app.on_net(e);
    assert_eq!(app.chat.unread.get(&design), Some(&1));
    press(&mut app, "2]");
    assert_eq!(app.tab, Tab::Chat);
    assert_eq!(app.current_room(), Some(design.clone()));
    assert_eq!(app.chat.unread.get(&design), None);
}

#[test]
fn a_rejected_change_is_reported_and_dropped() {
    let mut app = sample_app();
    press(&mut app, "L");
    let sent = sent_commands(&mut app);
    app.on_net(NetEvent::Rejected(
        sent[0].0.clone(),
        WireError::new(ErrorCode::NotFound, "no card"),
    ));
    assert!(app.outbox.is_empty());
    let notice = app.notice.clone().expect("a notice");
    assert!(
        notice.error && notice.text.starts_with("Could not move the card: no card"),
        "{notice:?}"
    );
    assert_eq!(
        app.view().card(&id("card", 1)).map(|c| c.column_id.clone()),
        Some(column_ids()[0].clone())
    );
}

#[test]
fn the_palette_runs_actions_by_fuzzy_name() {
    let mut app = sample_app();
    press(&mut app, ":");
    assert_eq!(app.context(), Context::Palette);
    press(&mut app, "chat");
    assert_eq!(
        app.palette_entries().first().map(|e| e.label.clone()),
        Some("Go to chat".to_owned())
    );
    press(&mut app, "\n");
    assert_eq!(app.tab, Tab::Chat);
    assert!(app.overlay.is_none());
}

#[test]
fn untrusted_text_is_sanitised_on_the_way_in() {
    let mut evil = card(8, 0, "pwn\u{1b}]0;owned\u{7}\u{1b}[2J title");
    evil.labels = vec!["\u{1b}[31mred".into()];
    let app = app_with(state(vec![evil], vec![room(1, "general")]));
    let card = app.view().card(&id("card", 8)).expect("card").clone();
    assert!(!card.title.contains('\u{1b}'), "{:?}", card.title);
    assert_eq!(card.title, "pwn title");
    assert_eq!(card.labels, ["red"]);
}

#[test]
fn scrolling_to_the_top_of_history_loads_older_messages() {
    let mut app = sample_app();
    press(&mut app, "2");
    let general = id("room", 1);
    // The first page was asked for as soon as the workspace was synced.
    assert!(app.model.history[&general].loading);
    app.outbound.clear();
    let page = vec![
        message(1, &general, &other(), 20, "one"),
        message(2, &general, &other(), 21, "two"),
    ];
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: page,
        has_more: true,
    });
    press(&mut app, "k");
    assert!(app.outbound.is_empty(), "not at the top yet");
    press(&mut app, "k");
    assert!(
        app.outbound.iter().any(|r| matches!(
            r,
            NetRequest::Messages {
                before: Some(20),
                ..
            }
        )),
        "{:?}",
        app.outbound
    );
    app.outbound.clear();
    let older = vec![message(3, &general, &me(), 15, "zero")];
    app.on_net(NetEvent::Page {
        room_id: general.clone(),
        messages: older,
        has_more: false,
    });
    let bodies: Vec<String> = app.model.history[&general]
        .messages
        .iter()
        .map(|m| m.body.clone())
        .collect();
    assert_eq!(bodies, ["zero", "one", "two"]);
    assert_eq!(
        app.chat.selected,
        Some(id("msg", 1)),
        "the selection stays on the message it was on"
    );
}
