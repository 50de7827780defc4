//! Helpers for end-to-end tests that start the real binaries: [`server::Server`] runs
//! `warren-server` over a temporary data directory, [`client::Client`] speaks the protocol over a
//! real WebSocket, [`cli::Cli`] runs the `warren` CLI, and [`model::Model`] rebuilds a workspace
//! from a snapshot and events to compare with the server's, and [`fake_provider::FakeProvider`]
//! is a scriptable model provider over real HTTP.

pub mod bins;
pub mod cli;
pub mod client;
pub mod fake_provider;
pub mod model;
pub mod raw;
pub mod server;
pub mod tmux;

pub use client::{Client, connect, connect_hello};
pub use server::Server;

use warren_protocol::{Command, Id, Position, Priority, WorkspaceState};

/// `create_card` on `board_id` with only a title.
pub fn create_card(board_id: &Id, title: &str) -> Command {
    Command::CreateCard {
        card_id: None,
        board_id: board_id.clone(),
        column_id: None,
        title: title.to_owned(),
        description: String::new(),
        labels: Vec::new(),
        assignee: None,
        priority: Priority::None,
        position: Position::Bottom,
    }
}

/// `post_message` to `room_id`.
pub fn post_message(room_id: &Id, body: &str) -> Command {
    Command::PostMessage {
        message_id: None,
        room_id: room_id.clone(),
        body: body.to_owned(),
    }
}

/// `move_card` to the bottom of `column_id`.
pub fn move_card(card_id: &Id, column_id: &Id) -> Command {
    Command::MoveCard {
        card_id: card_id.clone(),
        column_id: column_id.clone(),
        position: Position::Bottom,
    }
}

/// The ids `init` creates: the `Main` board with its columns and the `general` room.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub board: Id,
    pub columns: Vec<Id>,
    pub room: Id,
}

impl Fixture {
    /// Reads the fixture from a snapshot of a freshly initialised workspace.
    pub fn from_state(state: &WorkspaceState) -> Fixture {
        let board = state.boards.first().expect("init creates a board");
        let room = state.rooms.first().expect("init creates a room");
        Fixture {
            board: board.id.clone(),
            columns: board.columns.iter().map(|c| c.id.clone()).collect(),
            room: room.id.clone(),
        }
    }
}
