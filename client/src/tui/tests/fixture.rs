//! A deterministic sample workspace and helpers to drive an [`App`] in tests.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warren_protocol::message::ServerLimits;
use warren_protocol::{
    Board, Card, Change, Column, Event, Id, Member, Message, Priority, Role, Room, ServerMessage,
    Workspace, WorkspaceState,
};

use crate::connection::Welcome;
use crate::keymap::Keymap;
use crate::theme::Theme;
use crate::tui::app::App;
use crate::tui::net::NetEvent;
use crate::tui::view;

pub const T0: i64 = 1_795_264_885_000;

pub fn id(prefix: &str, n: u8) -> Id {
    Id::from_random(prefix, [n; 10])
}

pub fn me() -> Member {
    Member {
        user_id: id("usr", 1),
        name: "ada".into(),
        role: Role::Owner,
    }
}

pub fn other() -> Member {
    Member {
        user_id: id("usr", 2),
        name: "mira".into(),
        role: Role::Member,
    }
}

pub fn column_ids() -> Vec<Id> {
    (0..5).map(|i| id("col", 10 + i)).collect()
}

pub fn card(n: u8, column: usize, title: &str) -> Card {
    Card {
        id: id("card", n),
        number: u64::from(n),
        board_id: id("board", 1),
        column_id: column_ids()[column].clone(),
        rank: format!("{}", char::from(b'A' + n)),
        title: title.into(),
        description: String::new(),
        labels: vec![],
        assignee: None,
        priority: Priority::None,
        created_by: me().user_id,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn state(cards: Vec<Card>, rooms: Vec<Room>) -> WorkspaceState {
    let names = ["Backlog", "Todo", "In Progress", "Review", "Done"];
    WorkspaceState {
        agents: Vec::new(),
        providers: Vec::new(),
        workspace: Workspace {
            id: id("ws", 1),
            name: "Acme".into(),
            created_at: T0,
        },
        seq: 10,
        members: vec![me(), other()],
        boards: vec![Board {
            id: id("board", 1),
            name: "Main".into(),
            columns: column_ids()
                .into_iter()
                .zip(names)
                .map(|(id, name)| Column {
                    id,
                    name: name.into(),
                })
                .collect(),
            created_at: T0,
        }],
        cards,
        rooms,
        jobs: Vec::new(),
        runs: Vec::new(),
    }
}

pub fn room(n: u8, name: &str) -> Room {
    Room {
        id: id("room", n),
        name: name.into(),
        topic: String::new(),
        created_at: T0,
    }
}

pub fn sample_cards() -> Vec<Card> {
    let mut a = card(1, 0, "Dark mode for exported boards");
    a.labels = vec!["ui".into()];
    a.priority = Priority::Low;
    let b = card(2, 0, "Export a board as markdown");
    let mut c = card(3, 1, "Rate-limit login attempts");
    c.labels = vec!["security".into()];
    c.priority = Priority::High;
    c.assignee = Some(other().user_id);
    let mut d = card(4, 2, "Group commit for the event store");
    d.priority = Priority::Urgent;
    d.labels = vec!["server".into(), "perf".into()];
    d.assignee = Some(me().user_id);
    d.description = "Share **one** fsync.\n\n```rust\ntxn.commit()?;\n```".into();
    let e = card(5, 3, "Resume from the last sequence");
    let f = card(6, 4, "Token auth with hashed secrets");
    vec![a, b, c, d, e, f]
}

pub fn message(n: u8, room: &Id, author: &Member, seq: u64, body: &str) -> Message {
    Message {
        id: id("msg", n),
        room_id: room.clone(),
        seq,
        author: author.user_id.clone(),
        body: body.into(),
        created_at: T0 + i64::from(n) * 60_000,
        edited_at: None,
    }
}

pub fn welcome() -> Welcome {
    Welcome {
        protocol: 1,
        server_version: "0.1.0".into(),
        user: me(),
        workspaces: vec![Workspace {
            id: id("ws", 1),
            name: "Acme".into(),
            created_at: T0,
        }],
        limits: ServerLimits {
            max_frame_bytes: 1,
            max_replay_events: 1,
            request_id_ttl_secs: 1,
        },
    }
}

/// An app with the default keymap and dark theme, connected, showing `state`.
pub fn app_with(state: WorkspaceState) -> App {
    let (keymap, errors) = Keymap::load("default", None);
    assert!(errors.is_empty(), "{errors:?}");
    let (theme, errors) = Theme::load("dark", None);
    assert!(errors.is_empty(), "{errors:?}");
    let mut app = App::new(keymap, theme, "http://127.0.0.1:7878".into());
    app.zone = jiff::tz::TimeZone::UTC;
    app.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Snapshot { state })));
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Synced {
        workspace_id: id("ws", 1),
        seq: 10,
    })));
    app.outbound.clear();
    app
}

pub fn sample_app() -> App {
    app_with(state(
        sample_cards(),
        vec![room(1, "general"), room(2, "design")],
    ))
}

pub fn event(app: &App, actor: &Member, change: Change) -> NetEvent {
    NetEvent::Push(Box::new(ServerMessage::Event {
        event: Event {
            seq: app.model.seq + 1,
            workspace_id: id("ws", 1),
            at: T0,
            actor: actor.user_id.clone(),
            request_id: None,
            change,
        },
    }))
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            c => KeyCode::Char(c),
        };
        let modifiers = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        app.on_key(KeyEvent::new(code, modifiers));
    }
}

pub fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| view::render(app, f)).expect("draw");
    terminal
}
