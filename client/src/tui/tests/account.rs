//! Workspace, bot and token management in the full-screen client, the same as the CLI: a new
//! workspace (then offered for switching), delete with the name typed again, handing the
//! workspace over (new owner first), a bot whose token is shown once, and the tokens window
//! (list, rotate, revoke after a question, sign out everywhere else).

use crossterm::event::KeyCode;
use warren_protocol::account::{AccountOp, AccountResult, TokenInfo, TokenScope};
use warren_protocol::{Command, Member, Role, Workspace};

use super::fixture::{draw, id, key, me, other, press, sample_app};
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::state::Overlay;

fn ops(app: &mut App) -> Vec<AccountOp> {
    app.outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Account { op } => Some(op.clone()),
            _ => None,
        })
        .collect()
}

fn commands(app: &mut App) -> Vec<Command> {
    app.outbound
        .drain(..)
        .filter_map(|r| match r {
            NetRequest::Command { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

fn token(n: u8, name: &str, current: bool) -> TokenInfo {
    TokenInfo {
        id: id("tok", n),
        user_id: me().user_id,
        name: name.into(),
        scope: TokenScope::Full,
        created_at: 0,
        expires_at: None,
        current,
        last_used_at: current.then_some(60_000),
    }
}

#[test]
fn workspaces_are_made_deleted_with_their_name_and_handed_over() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, "@W");
    press(&mut app, "Side\n");
    assert_eq!(
        ops(&mut app),
        [AccountOp::CreateWorkspace {
            name: "Side".into()
        }]
    );
    app.outbound.clear();
    app.on_net(NetEvent::Account(Ok(AccountResult::WorkspaceCreated {
        workspace: Workspace {
            id: id("ws", 9),
            name: "Side".into(),
            created_at: 0,
        },
    })));
    press(&mut app, ":");
    press(&mut app, "switch side");
    assert_eq!(
        app.palette_entries().first().map(|e| e.label.as_str()),
        Some("Switch to workspace Side")
    );
    app.on_key(key(KeyCode::Esc));

    // Deleting asks for the name; the server checks it too.
    press(&mut app, "@X");
    match &app.overlay {
        Some(Overlay::Prompt(p)) => assert!(p.title.contains("Type its name"), "{}", p.title),
        other => panic!("a prompt: {other:?}"),
    }
    press(&mut app, "Acme\n");
    assert_eq!(
        commands(&mut app),
        [Command::DeleteWorkspace {
            name: "Acme".into()
        }]
    );

    // Handing over: the selected member (mira) becomes owner first, then I become an admin.
    press(&mut app, "@jo");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    press(&mut app, "y");
    assert_eq!(
        commands(&mut app),
        [
            Command::SetMemberRole {
                user_id: other().user_id,
                role: Role::Owner
            },
            Command::SetMemberRole {
                user_id: me().user_id,
                role: Role::Admin
            },
        ]
    );
}

#[test]
fn a_bots_token_and_a_new_token_are_shown_once() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, "@b");
    press(&mut app, "ci\n");
    assert!(matches!(
        ops(&mut app).as_slice(),
        [AccountOp::AddBot { name, scope: TokenScope::Runs, .. }] if name == "ci"
    ));
    let secret = "wrn_3k8m1p4r7t0w2y5aq4s6u8w0y2a4c6e8g0j2m4p6r8t0v2x4";
    app.on_net(NetEvent::Account(Ok(AccountResult::BotAdded {
        member: Member {
            user_id: id("usr", 9),
            name: "ci".into(),
            role: Role::Bot,
        },
        token: token(9, "created with the bot", false),
        secret: secret.into(),
    })));
    assert!(matches!(app.overlay, Some(Overlay::Secret(_))));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    assert!(format!("{:?}", terminal.backend().buffer()).contains(&secret[..30]));
    assert!(!app.notices.recent.iter().any(|n| n.text.contains("wrn_")));
    press(&mut app, "ed");
    assert!(
        matches!(app.overlay, Some(Overlay::Secret(_))),
        "card keys do nothing"
    );
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn the_tokens_window_lists_rotates_revokes_and_signs_out_elsewhere() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, "@t");
    assert_eq!(ops(&mut app), [AccountOp::ListTokens { user_id: None }]);
    app.outbound.clear();
    app.on_net(NetEvent::Account(Ok(AccountResult::Tokens {
        tokens: vec![token(1, "laptop", true), token(2, "ci-script", false)],
    })));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());

    press(&mut app, "jr");
    assert_eq!(
        ops(&mut app),
        [AccountOp::RotateToken {
            token_id: id("tok", 2),
            grace_secs: 3600
        }]
    );
    app.outbound.clear();

    press(&mut app, "d");
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    press(&mut app, "y");
    assert_eq!(
        ops(&mut app),
        [AccountOp::RevokeToken {
            token_id: id("tok", 2)
        }]
    );
    app.outbound.clear();
    // The answer reopens the window with a fresh list.
    app.on_net(NetEvent::Account(Ok(AccountResult::TokenRevoked {
        token_id: id("tok", 2),
    })));
    assert!(matches!(app.overlay, Some(Overlay::Tokens { .. })));
    assert_eq!(ops(&mut app), [AccountOp::ListTokens { user_id: None }]);
    app.outbound.clear();

    press(&mut app, "S");
    press(&mut app, "y");
    assert_eq!(ops(&mut app), [AccountOp::RevokeOtherTokens {}]);

    // A refused list is said in the window.
    press(&mut app, "@t");
    app.on_net(NetEvent::Account(Err("the server could not answer".into())));
    let screen = format!("{:?}", draw(&app, 80, 24).backend().buffer());
    assert!(screen.contains("Cannot list tokens"), "{screen}");
}
