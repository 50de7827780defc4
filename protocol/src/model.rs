//! The workspace entities as clients see them: boards with columns, cards, rooms and messages.

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// A team's workspace: the unit of sync. Every change in it gets the next integer of its event
/// sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// What a member may do in a workspace. Enforced from a later protocol revision on; v1 servers
/// record it and every member may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
    Bot,
}

/// A person or bot that belongs to a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub user_id: Id,
    pub name: String,
    pub role: Role,
}

/// A kanban board: an ordered list of columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    pub id: Id,
    pub name: String,
    pub columns: Vec<Column>,
    pub created_at: i64,
}

/// One column of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub id: Id,
    pub name: String,
}

/// How urgent a card is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Priority; 5] = [
        Priority::None,
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    /// The wire name, such as `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// Parses a wire name, as typed on a command line.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A card on a board. Cards in a column are ordered by `rank` (see [`crate::rank`]), so moving a
/// card rewrites that one card only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub id: Id,
    /// A short number unique in the workspace (`#12`), handy to type on a command line.
    pub number: u64,
    pub board_id: Id,
    pub column_id: Id,
    pub rank: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub labels: Vec<String>,
    pub assignee: Option<Id>,
    pub priority: Priority,
    pub created_by: Id,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A chat room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    pub id: Id,
    pub name: String,
    pub topic: String,
    pub created_at: i64,
}

/// A chat message. `seq` is the workspace sequence of the event that posted it, which orders the
/// messages of a room and pages through its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub id: Id,
    pub room_id: Id,
    pub seq: u64,
    pub author: Id,
    /// Markdown.
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// Everything a client needs to draw a workspace, as of event `seq`. Chat history is not included:
/// it is paged on demand with [`crate::Query::Messages`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceState {
    pub workspace: Workspace,
    pub seq: u64,
    pub members: Vec<Member>,
    pub boards: Vec<Board>,
    /// Sorted by board, column order, then rank.
    pub cards: Vec<Card>,
    pub rooms: Vec<Room>,
    /// Every job, by name.
    #[serde(default)]
    pub jobs: Vec<crate::run::Job>,
    /// Every run that has not finished, and the most recent finished ones (up to 200), newest
    /// first. Older runs are paged with [`crate::Query::Runs`].
    #[serde(default)]
    pub runs: Vec<crate::run::Run>,
    /// Every model provider, by name.
    #[serde(default)]
    pub providers: Vec<crate::agent::Provider>,
    /// Every agent, by name.
    #[serde(default)]
    pub agents: Vec<crate::agent::Agent>,
}
