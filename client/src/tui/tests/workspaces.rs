//! Workspaces in the full-screen client: the palette offers the user's other workspaces and
//! switching reconnects to one, keeping what waits to be sent in the one left on disk; who is
//! online shows in the status bar and the members window; a deleted workspace is said in plain
//! words with what to do next.

use warren_protocol::{Change, Command, Id, ServerMessage, Workspace};

use super::fixture::*;
use crate::tui::app::App;
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::outbox_file::{self, OutboxKey};
use crate::tui::palette::Target;
use crate::tui::state::ConnState;

fn beta() -> Workspace {
    Workspace {
        id: id("ws", 2),
        name: "Beta".into(),
        created_at: 0,
    }
}

/// `welcome` listing Acme (current) and Beta.
fn two_workspaces() -> crate::connection::Welcome {
    let mut welcome = welcome();
    welcome.workspaces.push(beta());
    welcome
}

fn app_in_two(dir: Option<&std::path::Path>) -> App {
    let mut app = sample_app();
    app.outbox_dir = dir.map(std::path::Path::to_path_buf);
    app.on_net(NetEvent::Connected(Box::new(two_workspaces()), id("ws", 1)));
    app.outbound.clear();
    app
}

fn screen_text(app: &App) -> String {
    let terminal = draw(app, 80, 24);
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

fn key_of(workspace: &Id) -> OutboxKey {
    OutboxKey {
        server: "http://127.0.0.1:7878".into(),
        user: me().user_id,
        workspace: workspace.clone(),
    }
}

#[test]
fn the_palette_switches_to_another_workspace_and_keeps_the_outbox_of_the_one_left() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = app_in_two(Some(dir.path()));
    // Offline, a message waits to be sent in Acme.
    app.on_net(NetEvent::Disconnected {
        reason: "connection refused".into(),
        retry_at: None,
    });
    press(&mut app, "2");
    press(&mut app, "i");
    press(&mut app, "still here\n");
    assert_eq!(app.outbox.len(), 1, "the message waits");
    app.on_key(key(crossterm::event::KeyCode::Esc));

    press(&mut app, ":");
    press(&mut app, "switch");
    let entries = app.palette_entries();
    assert_eq!(entries[0].label, "Switch to workspace Beta");
    assert_eq!(entries[0].target, Target::Workspace(id("ws", 2)));
    assert!(
        !entries.iter().any(|e| e.label.contains("Acme")),
        "the current workspace is not offered"
    );
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
    app.on_key(key(crossterm::event::KeyCode::Enter));

    assert!(
        app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::Switch { workspace } if *workspace == id("ws", 2))),
        "the network is asked to reconnect to Beta: {:?}",
        app.outbound
    );
    assert_eq!(app.workspace_id, Some(id("ws", 2)));
    assert!(app.model.workspace.is_none(), "nothing of Acme is shown");
    assert!(app.outbox.is_empty(), "Acme's outbox is not Beta's");
    let kept = outbox_file::load(dir.path(), &key_of(&id("ws", 1))).expect("load");
    assert_eq!(kept.len(), 1, "Acme's message stays on disk");
    assert!(matches!(kept[0].command, Command::PostMessage { .. }));

    // A late frame of Acme does not land in Beta.
    app.on_net(event(
        &app,
        &other(),
        Change::MemberRemoved {
            user_id: other().user_id,
        },
    ));
    assert!(app.model.members.is_empty());

    // Beta connects and loads.
    app.outbound.clear();
    app.on_net(NetEvent::Connected(Box::new(two_workspaces()), id("ws", 2)));
    let mut beta_state = state(vec![], vec![room(3, "beta-chat")]);
    beta_state.workspace = beta();
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Snapshot {
        state: beta_state,
    })));
    assert!(
        !app.outbound
            .iter()
            .any(|r| matches!(r, NetRequest::Command { .. })),
        "Acme's message is not sent to Beta"
    );
    let bar = screen_text(&app);
    assert!(
        bar.lines().last().is_some_and(|l| l.contains("Beta")),
        "{bar}"
    );

    // Back to Acme: its message is sent there.
    press(&mut app, ":");
    press(&mut app, "switch");
    assert_eq!(app.palette_entries()[0].label, "Switch to workspace Acme");
    app.on_key(key(crossterm::event::KeyCode::Enter));
    app.outbound.clear();
    app.on_net(NetEvent::Connected(Box::new(two_workspaces()), id("ws", 1)));
    let sent: Vec<&Command> = app
        .outbound
        .iter()
        .filter_map(|r| match r {
            NetRequest::Command { command, .. } => Some(command),
            _ => None,
        })
        .collect();
    assert!(
        matches!(sent.as_slice(), [Command::PostMessage { body, .. }] if body == "still here"),
        "{sent:?}"
    );
}

#[test]
fn who_is_online_shows_in_the_status_bar_and_the_members_window() {
    let mut app = app_in_two(None);
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Presence {
        workspace_id: id("ws", 1),
        online: vec![me().user_id, other().user_id],
    })));
    let text = screen_text(&app);
    assert!(
        text.lines().last().is_some_and(|l| l.contains("2 online")),
        "{text}"
    );
    // A frame about another workspace changes nothing.
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Presence {
        workspace_id: id("ws", 2),
        online: vec![],
    })));
    assert_eq!(app.online_count(), 2);
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Presence {
        workspace_id: id("ws", 1),
        online: vec![me().user_id],
    })));
    press(&mut app, "@");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
    let text = screen_text(&app);
    assert!(text.contains("● ada (you)"), "{text}");
    assert!(text.contains("○ mira"), "{text}");
    assert!(text.contains("1 online"), "{text}");
}

#[test]
fn a_deleted_workspace_says_who_deleted_it_and_where_to_go() {
    let mut app = app_in_two(None);
    let acme = app.model.workspace.clone().expect("loaded");
    app.on_net(event(
        &app,
        &other(),
        Change::WorkspaceDeleted { workspace: acme },
    ));
    let notice = app
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        notice.contains("Workspace Acme was deleted by mira")
            && notice.contains("Switch to workspace Beta"),
        "{notice}"
    );
    assert!(
        matches!(&app.conn, ConnState::Offline { reason } if reason.contains("deleted by mira")),
        "{:?}",
        app.conn
    );
    assert!(app.other_workspaces().iter().all(|w| w.name == "Beta"));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}
