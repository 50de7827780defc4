//! The members window: members listed by role with mine marked, a role changed through a prompt
//! that accepts only role names, a member removed after a question, and being removed myself
//! said in plain words.

use crossterm::event::KeyCode;
use warren_protocol::{Change, Command, Role};

use super::fixture::{draw, event, key, me, other, press, sample_app};
use crate::tui::net::NetRequest;
use crate::tui::state::Overlay;

fn sent(app: &mut crate::tui::app::App) -> Vec<Command> {
    app.outbound
        .drain(..)
        .filter_map(|r| match r {
            NetRequest::Command { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

#[test]
fn members_are_listed_and_roles_changed_and_members_removed() {
    let mut app = sample_app();
    press(&mut app, "@");
    assert!(matches!(
        app.overlay,
        Some(Overlay::Members { selected: 0 })
    ));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());

    // mira (a member) is listed after ada (the owner): select her, make her an admin.
    press(&mut app, "jr");
    for _ in 0.."member".len() {
        app.on_key(key(KeyCode::Backspace));
    }
    press(&mut app, "boss\n");
    assert!(sent(&mut app).is_empty(), "not a role: nothing sent");
    match &app.overlay {
        Some(Overlay::Prompt(p)) => {
            assert!(p.error.as_deref().is_some_and(|e| e.contains("viewer")))
        }
        other => panic!("the prompt stays: {other:?}"),
    }
    for _ in 0.."boss".len() {
        app.on_key(key(KeyCode::Backspace));
    }
    press(&mut app, "admin\n");
    assert_eq!(
        sent(&mut app),
        [Command::SetMemberRole {
            user_id: other().user_id,
            role: Role::Admin
        }]
    );

    press(&mut app, "@jd");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    press(&mut app, "y");
    assert_eq!(
        sent(&mut app),
        [Command::RemoveMember {
            user_id: other().user_id
        }]
    );
}

#[test]
fn being_removed_is_said_in_plain_words() {
    let mut app = sample_app();
    let removed = event(
        &app,
        &other(),
        Change::MemberRemoved {
            user_id: me().user_id,
        },
    );
    app.on_net(removed);
    let notice = app.notice.clone().expect("a notice");
    assert!(
        notice.text.contains("removed from this workspace"),
        "{notice:?}"
    );
}
