//! The frames of the protocol: what a client sends ([`ClientMessage`]) and what the server sends
//! ([`ServerMessage`]). Every frame is one JSON object in a WebSocket text frame, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::account::{AccountOp, AccountResult};
use crate::audit::AuditEntry;
use crate::command::Command;
use crate::error::ErrorCode;
use crate::event::Event;
use crate::id::{Id, RequestId};
use crate::model::{Member, Message, Workspace, WorkspaceState};

/// A frame from client to server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First frame of every connection: which protocol version the client speaks.
    Hello {
        protocol: u32,
        /// Free-form client name and version, for the server's logs.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        client: String,
    },
    /// Start receiving a workspace's events. With `since`, the server sends exactly the events
    /// after that sequence; without it, or when `since` is too far behind, a `snapshot` first.
    /// Either way a `synced` frame marks the switch to live events.
    Subscribe {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Apply a change. Answered by `ack` (with the event) or `error`, both echoing `request_id`.
    Command {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        command: Command,
    },
    /// Read something without changing it. Answered by `result` or `error`.
    Query {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        query: Query,
    },
    /// Manage your API tokens (or, for admins, a member's). Answered by `account_result` or
    /// `error`.
    Account {
        request_id: RequestId,
        op: AccountOp,
    },
    /// Ephemeral: the user is typing in a room. Relayed to the room's other subscribers, never
    /// stored, and dropped for clients that are behind.
    Typing { room_id: Id },
    /// Keep-alive; answered by `pong` with the same nonce.
    Ping {
        #[serde(default)]
        nonce: u64,
    },
}

/// A read-only request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[serde(from = "QueryWire")]
pub enum Query {
    /// The whole workspace state (boards, cards, rooms, members) as of now.
    Snapshot,
    /// A page of a room's messages, oldest first, all with `seq < before` (or the newest, without
    /// `before`).
    Messages {
        room_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        limit: u32,
    },
    /// A page of raw events with `seq > since`, in order.
    Events { since: u64, limit: u32 },
    /// A page of the workspace's audit log, newest first (needs `audit:read`): entries of this
    /// workspace and the server-wide entries its auditors may see. Optional filters: `actor`
    /// (user id, name or `operator`), `action` (a name or a dotted prefix: `token` selects
    /// `token.*`), `since` (ms since the epoch), `before` (an entry id, for the next page).
    Audit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        limit: u32,
    },
    /// Who is online in the workspace right now (see the `presence` frame).
    Presence,
}

impl Query {
    /// The wire name of the query, such as `snapshot`.
    pub fn name(&self) -> &'static str {
        match self {
            Query::Snapshot => "snapshot",
            Query::Messages { .. } => "messages",
            Query::Events { .. } => "events",
            Query::Audit { .. } => "audit",
            Query::Presence => "presence",
        }
    }
}

/// How [`Query`] is parsed: `snapshot` is an empty struct variant here so that unknown fields are
/// rejected (serde ignores `deny_unknown_fields` on unit variants of internally tagged enums).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum QueryWire {
    Snapshot {},
    Messages {
        room_id: Id,
        #[serde(default)]
        before: Option<u64>,
        limit: u32,
    },
    Events {
        since: u64,
        limit: u32,
    },
    Audit {
        #[serde(default)]
        actor: Option<String>,
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        since: Option<i64>,
        #[serde(default)]
        before: Option<u64>,
        limit: u32,
    },
    Presence {},
}

impl From<QueryWire> for Query {
    fn from(wire: QueryWire) -> Self {
        match wire {
            QueryWire::Snapshot {} => Query::Snapshot,
            QueryWire::Messages {
                room_id,
                before,
                limit,
            } => Query::Messages {
                room_id,
                before,
                limit,
            },
            QueryWire::Events { since, limit } => Query::Events { since, limit },
            QueryWire::Audit {
                actor,
                action,
                since,
                before,
                limit,
            } => Query::Audit {
                actor,
                action,
                since,
                before,
                limit,
            },
            QueryWire::Presence {} => Query::Presence,
        }
    }
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryResult {
    Snapshot {
        state: WorkspaceState,
    },
    Messages {
        room_id: Id,
        messages: Vec<Message>,
        /// True when older messages exist before the first one returned.
        has_more: bool,
    },
    Events {
        events: Vec<Event>,
        /// The workspace's latest sequence when the page was read.
        head: u64,
    },
    /// Audit entries, newest first.
    Audit {
        entries: Vec<AuditEntry>,
        /// True when older entries match too (ask again with `before` = the last id).
        has_more: bool,
    },
    /// The users online in the workspace now, by id, sorted.
    Presence {
        online: Vec<Id>,
    },
}

/// Limits the server enforces, advertised in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    pub max_frame_bytes: usize,
    /// How far behind (in events) a `subscribe` may be before the server sends a snapshot.
    pub max_replay_events: u64,
    /// How long a request id is remembered for idempotent retries, in seconds.
    pub request_id_ttl_secs: u64,
}

/// A frame from server to client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// The answer to `hello`: who you are and what you can open.
    Welcome {
        protocol: u32,
        server_version: String,
        user: Member,
        workspaces: Vec<Workspace>,
        limits: ServerLimits,
    },
    /// The full state of the subscribed workspace; events that follow have `seq > state.seq`.
    Snapshot { state: WorkspaceState },
    /// One change, in sequence order.
    Event { event: Event },
    /// Replay is complete: everything up to `seq` was sent, and live events follow.
    Synced { workspace_id: Id, seq: u64 },
    /// A command was applied (or had been applied already: `duplicate`), producing `event`.
    Ack {
        request_id: RequestId,
        seq: u64,
        duplicate: bool,
        event: Event,
    },
    /// The answer to a query.
    Result {
        request_id: RequestId,
        result: QueryResult,
    },
    /// Something went wrong. With `request_id`, that request failed and nothing was applied.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<RequestId>,
        code: ErrorCode,
        message: String,
        /// With `rate_limited`: how long to wait before re-sending the request (with the same
        /// request id), in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// This connection fell behind the live stream; the server replays from the store starting
    /// after `from` (the last event it delivered) and carries on. No action is needed; events
    /// keep their order with no gaps.
    Resync {
        workspace_id: Id,
        from: u64,
        reason: String,
    },
    /// The answer to an `account` request.
    AccountResult {
        request_id: RequestId,
        result: AccountResult,
    },
    /// Ephemeral: someone is typing in a room.
    Typing { room_id: Id, user_id: Id },
    /// The answer to `ping`.
    Pong { nonce: u64 },
    /// Ephemeral: who is online in the subscribed workspace — every user (people and bots) with
    /// at least one connection subscribed to it, by id, sorted. Sent after `synced` on every
    /// (re)subscribe and again, to every subscriber, whenever someone comes online or goes
    /// offline. Never stored: it describes connections, not the workspace, and each frame is the
    /// whole list, so the latest one is the truth.
    Presence { workspace_id: Id, online: Vec<Id> },
}
