//! Wire types of the warren sync protocol.
//!
//! Everything a client and `warren-server` say to each other over the WebSocket is defined here as
//! plain serde data: no tokio, no storage, no terminal. `docs/protocol.md` describes the same
//! contract for people; `tests/golden.rs` pins the JSON of every message so that any wire change
//! shows up as a reviewable diff.

pub mod account;
pub mod agent;
pub mod audit;
pub mod budget;
pub mod command;
pub mod error;
pub mod event;
pub mod id;
pub mod invite;
pub mod limits;
pub mod log_json;
pub mod message;
pub mod model;
pub mod permission;
pub mod rank;
pub mod room_name;
pub mod run;
pub mod step;
pub mod time;
pub mod tool;

pub use command::{Command, Position};
pub use error::{ErrorCode, WireError};
pub use event::{Change, Event};
pub use id::{Id, IdError, RequestId};
pub use message::{ClientMessage, Query, QueryResult, ServerMessage};
pub use model::{
    Board, Card, Column, Member, Message, Priority, Role, Room, Workspace, WorkspaceState,
};

/// The protocol version this crate speaks. A server refuses a `hello` with a version it does not
/// support, with [`ErrorCode::UnsupportedProtocol`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Prefix of every API token, so a leaked token is recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "wrn_";
