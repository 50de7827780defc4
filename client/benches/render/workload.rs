//! A deterministic large workspace for the rendering benchmark: 2,000 cards over five columns and
//! a room with 50,000 messages, fed to an [`App`] through the same events the network task sends.

use warren::connection::Welcome;
use warren::keymap::Keymap;
use warren::theme::Theme;
use warren::tui::app::App;
use warren::tui::net::NetEvent;
use warren::tui::screens::Tab;
use warren_protocol::message::ServerLimits;
use warren_protocol::{
    Board, Card, Change, Column, Event, Id, Member, Message, Priority, Role, Room, ServerMessage,
    Workspace, WorkspaceState,
};

/// A fixed instant (November 2026) so every run draws the same timestamps.
const T0: i64 = 1_795_264_885_000;
const MEMBERS: [&str; 8] = [
    "ada", "mira", "tomas", "ines", "kwame", "yuki", "lena", "omar",
];
const COLUMNS: [&str; 5] = ["Backlog", "Todo", "In Progress", "Review", "Done"];
const VERBS: [&str; 12] = [
    "Fix", "Add", "Remove", "Refactor", "Document", "Speed up", "Test", "Migrate", "Review",
    "Design", "Harden", "Split",
];
const THINGS: [&str; 16] = [
    "login timeout on slow links",
    "export of boards as markdown",
    "group commit for the event store",
    "resume from the last sequence",
    "token auth with hashed secrets",
    "dark mode for exported boards",
    "rate limit on login attempts",
    "search across rooms",
    "card drag between columns",
    "the reconnect backoff",
    "unread counts per room",
    "the keymap loader",
    "theme inheritance",
    "paging of chat history",
    "the onboarding flow",
    "server metrics endpoint",
];
const LABELS: [&str; 10] = [
    "bug", "ui", "server", "perf", "security", "docs", "sync", "chat", "board", "infra",
];
const WORDS: [&str; 24] = [
    "the",
    "deploy",
    "looks",
    "fine",
    "but",
    "we",
    "should",
    "check",
    "latency",
    "after",
    "merge",
    "I",
    "think",
    "board",
    "sync",
    "is",
    "slow",
    "on",
    "reconnect",
    "today",
    "tests",
    "pass",
    "again",
    "review",
];

/// A small deterministic generator (xorshift), so the workload needs no RNG crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// An id of a kind made from a number (distinct numbers give distinct ids).
pub fn id(prefix: &str, n: u64) -> Id {
    let mut random = [0u8; 10];
    random[2..].copy_from_slice(&n.to_be_bytes());
    Id::from_random(prefix, random)
}

fn member(i: usize) -> Member {
    Member {
        user_id: id("usr", i as u64 + 1),
        name: MEMBERS[i].into(),
        role: if i == 0 { Role::Owner } else { Role::Member },
    }
}

fn workspace() -> Workspace {
    Workspace {
        id: id("ws", 1),
        name: "Acme".into(),
        created_at: T0,
    }
}

/// The room every message goes to; a second room stays quiet.
pub fn room_id() -> Id {
    id("room", 1)
}

/// The quiet room.
pub fn other_room_id() -> Id {
    id("room", 2)
}

fn cards(count: usize, rng: &mut Rng) -> Vec<Card> {
    (0..count)
        .map(|i| {
            let n = i as u64 + 1;
            let mut labels: Vec<String> = (0..rng.below(3))
                .map(|_| rng.pick(&LABELS).to_owned())
                .collect();
            labels.dedup();
            let assignee = (rng.below(3) > 0).then(|| member(rng.below(MEMBERS.len())).user_id);
            let priority = match rng.below(6) {
                0 => Priority::Low,
                1 => Priority::Medium,
                2 => Priority::High,
                3 => Priority::Urgent,
                _ => Priority::None,
            };
            Card {
                id: id("card", n),
                number: n,
                board_id: id("board", 1),
                column_id: id("col", (i % COLUMNS.len()) as u64),
                rank: format!("{n:08}"),
                title: format!("{} {}", rng.pick(&VERBS), rng.pick(&THINGS)),
                description: String::new(),
                labels,
                assignee,
                priority,
                created_by: member(0).user_id,
                created_at: T0,
                updated_at: T0,
            }
        })
        .collect()
}

fn state(cards: Vec<Card>) -> WorkspaceState {
    WorkspaceState {
        agents: Vec::new(),
        providers: Vec::new(),
        jobs: Vec::new(),
        runs: Vec::new(),
        workspace: workspace(),
        seq: 10,
        members: (0..MEMBERS.len()).map(member).collect(),
        boards: vec![Board {
            id: id("board", 1),
            name: "Main".into(),
            columns: COLUMNS
                .iter()
                .enumerate()
                .map(|(i, name)| Column {
                    id: id("col", i as u64),
                    name: (*name).into(),
                })
                .collect(),
            created_at: T0,
        }],
        cards,
        rooms: vec![
            Room {
                id: room_id(),
                name: "general".into(),
                topic: "Everything that does not fit elsewhere".into(),
                created_at: T0,
            },
            Room {
                id: other_room_id(),
                name: "design".into(),
                topic: String::new(),
                created_at: T0,
            },
        ],
    }
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    let words: Vec<&str> = (0..words).map(|_| rng.pick(&WORDS)).collect();
    words.join(" ")
}

/// A message body: mostly plain text, some markdown, and every 100th a fenced code block.
fn body(i: usize, rng: &mut Rng) -> String {
    if i % 100 == 97 {
        let fn_name = rng.pick(&WORDS);
        return format!(
            "Try this:\n\n```rust\nfn {fn_name}(txn: &Txn) -> Result<u64> {{\n    let seq = txn.next_seq()?;\n    txn.commit()?;\n    Ok(seq)\n}}\n```"
        );
    }
    match rng.below(10) {
        0 => format!(
            "**{}**: `{}` — see [the docs](https://example.com/{})",
            sentence(rng, 2),
            rng.pick(&WORDS),
            rng.pick(&WORDS)
        ),
        1 => format!(
            "- {}\n- {}\n- _{}_",
            sentence(rng, 4),
            sentence(rng, 3),
            sentence(rng, 5)
        ),
        2 => format!("> {}\n\n{}", sentence(rng, 8), sentence(rng, 6)),
        // Long plain text that wraps at 150 columns.
        3 => sentence(rng, 40),
        _ => {
            let words = 3 + rng.below(12);
            sentence(rng, words)
        }
    }
}

/// A message in the busy room.
pub fn message(seq: u64, author: usize, body: String) -> Message {
    Message {
        id: id("msg", seq),
        room_id: room_id(),
        seq,
        author: member(author).user_id,
        body,
        created_at: T0 + seq as i64 * 7_000,
        edited_at: None,
    }
}

fn messages(count: usize, rng: &mut Rng) -> Vec<Message> {
    (0..count)
        .map(|i| {
            let author = rng.below(MEMBERS.len());
            message(i as u64 + 1, author, body(i, rng))
        })
        .collect()
}

fn welcome() -> Welcome {
    Welcome {
        protocol: 1,
        server_version: "0.1.0".into(),
        user: member(0),
        workspaces: vec![workspace()],
        limits: ServerLimits {
            max_frame_bytes: 1 << 20,
            max_replay_events: 10_000,
            request_id_ttl_secs: 600,
        },
    }
}

/// A connected, synced app with `cards` cards and `messages` messages in `#general`, showing `tab`.
pub fn app(cards_count: usize, messages_count: usize, tab: Tab) -> Result<App, String> {
    let (keymap, errors) = Keymap::load("default", None);
    if !errors.is_empty() {
        return Err(format!("default keymap: {errors:?}"));
    }
    let (theme, errors) = Theme::load("dark", None);
    if !errors.is_empty() {
        return Err(format!("dark theme: {errors:?}"));
    }
    let mut rng = Rng::new(0x5eed_cafe);
    let mut app = App::new(keymap, theme, "http://127.0.0.1:7878".into());
    app.on_net(NetEvent::Connected(Box::new(welcome()), id("ws", 1)));
    let state = state(cards(cards_count, &mut rng));
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Snapshot { state })));
    app.on_net(NetEvent::Push(Box::new(ServerMessage::Synced {
        workspace_id: id("ws", 1),
        seq: 10,
    })));
    app.on_net(NetEvent::Page {
        room_id: room_id(),
        messages: messages(messages_count, &mut rng),
        has_more: false,
    });
    app.outbound.clear();
    app.tab = tab;
    app.mark_read();
    Ok(app)
}

/// The event of a teammate posting `body` to `room`, next in sequence.
pub fn message_posted(app: &App, room: Id, body: &str) -> NetEvent {
    let seq = app
        .model
        .history
        .get(&room)
        .and_then(|h| h.messages.last())
        .map_or(1, |m| m.seq + 1);
    let mut message = message(seq, 1, body.into());
    message.room_id = room;
    message.id = id("msg", 1_000_000 + app.model.seq);
    NetEvent::Push(Box::new(ServerMessage::Event {
        event: Event {
            seq: app.model.seq + 1,
            workspace_id: id("ws", 1),
            at: T0,
            actor: member(1).user_id,
            request_id: None,
            change: Change::MessagePosted { message },
        },
    }))
}
