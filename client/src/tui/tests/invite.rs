//! Inviting from the full-screen client: `i` in the members window (or the palette) asks for a
//! role, sends one `create_invite`, and shows the answer's code once in its own window with the
//! `warren join` line; the window takes only copy and close, and closing it forgets the code.

use crossterm::event::KeyCode;
use warren_protocol::Role;
use warren_protocol::account::{AccountOp, AccountResult};
use warren_protocol::invite::{InviteInfo, InviteState};

use super::fixture::{draw, id, key, me, press, sample_app};
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::state::Overlay;

const CODE: &str = "wri_5c8e1g4j7l0n3q6sq4s6u8w0y2a4c6e8g0j2m4p6r8t0v2x4";

fn account_ops(app: &mut crate::tui::app::App) -> Vec<AccountOp> {
    app.outbound
        .drain(..)
        .filter_map(|r| match r {
            NetRequest::Account { op } => Some(op),
            _ => None,
        })
        .collect()
}

fn created(role: Role) -> AccountResult {
    AccountResult::InviteCreated {
        invite: InviteInfo {
            id: id("inv", 1),
            workspace_id: id("ws", 1),
            role,
            created_by: me().user_id,
            created_at: 0,
            expires_at: 7 * 86_400_000,
            uses: 1,
            uses_left: 1,
            state: InviteState::Active,
        },
        code: CODE.into(),
    }
}

#[test]
fn an_invite_is_asked_for_sent_once_and_its_code_shown_once() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, "@i");
    match &app.overlay {
        Some(Overlay::Prompt(p)) => assert!(p.title.contains("Invite"), "{}", p.title),
        other => panic!("a role prompt: {other:?}"),
    }
    // Not a role: nothing is sent and the prompt says what to type.
    for _ in 0.."member".len() {
        app.on_key(key(KeyCode::Backspace));
    }
    press(&mut app, "chief\n");
    assert!(account_ops(&mut app).is_empty());
    for _ in 0.."chief".len() {
        app.on_key(key(KeyCode::Backspace));
    }
    press(&mut app, "viewer\n");
    assert_eq!(
        account_ops(&mut app),
        [AccountOp::CreateInvite {
            workspace_id: id("ws", 1),
            role: Role::Viewer,
            expires_in_secs: None,
            uses: None,
        }]
    );
    assert!(app.overlay.is_none());

    app.on_net(NetEvent::Account(Ok(created(Role::Viewer))));
    assert!(matches!(app.overlay, Some(Overlay::Invite(_))));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(
        screen.contains("wri_5c8e1g4j7l0n3q6s"),
        "the code is on screen"
    );
    assert!(
        !app.notices.recent.iter().any(|n| n.text.contains("wri_")),
        "the code is in no status message"
    );

    // Card keys of the detail context do nothing here; Esc closes and the code is gone.
    press(&mut app, "ed");
    assert!(matches!(app.overlay, Some(Overlay::Invite(_))));
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
    assert!(!format!("{:?}", draw(&app, 80, 24).backend().buffer()).contains("wri_"));
}

#[test]
fn a_refused_invite_is_said_in_plain_words_and_the_palette_offers_inviting() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, ":");
    press(&mut app, "invite");
    let entries = app.palette_entries();
    assert!(
        entries.first().is_some_and(|e| e.label == "Invite someone"),
        "{:?}",
        entries.iter().map(|e| &e.label).collect::<Vec<_>>()
    );
    press(&mut app, "\n");
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    press(&mut app, "\n");
    assert!(matches!(
        account_ops(&mut app).as_slice(),
        [AccountOp::CreateInvite {
            role: Role::Member,
            ..
        }]
    ));
    app.on_net(NetEvent::Account(Err(
        "create_invite needs the member:manage permission".into(),
    )));
    assert!(app.overlay.is_none());
    let last = app.notices.recent.back().expect("a notice");
    assert!(last.error && last.text.contains("Not done"), "{last:?}");
}
