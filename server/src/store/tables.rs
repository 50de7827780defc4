//! Every redb table of the store, declared in one place and named by its key layout.
//!
//! Values are JSON documents of the `warren-protocol` types (or of the private records in
//! [`super::records`]) unless the value type says otherwise. Workspace-scoped tables lead with the
//! workspace id, so a later multi-workspace server needs no re-keying.

use redb::TableDefinition;

/// `name → value`: the schema version and other store-wide settings.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta: name -> value");

/// `user_id → UserRecord`.
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users: user_id -> user");

/// `token_id → TokenRecord` (the SHA-256 of the token's secret, never the secret).
pub const TOKENS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("tokens: token_id -> token record");

/// `workspace_id → Workspace`.
pub const WORKSPACES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("workspaces: workspace_id -> workspace");

/// `(workspace_id, user_id) → Member`.
pub const MEMBERS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("members: (workspace_id, user_id) -> member");

/// `workspace_id → last sequence number`: the head of each event stream.
pub const HEADS: TableDefinition<&str, u64> = TableDefinition::new("heads: workspace_id -> seq");

/// `(workspace_id, seq) → Event`: the append-only, gap-free event log.
pub const EVENTS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("events: (workspace_id, seq) -> event");

/// `(workspace_id, counter name) → next value`, e.g. the next card number.
pub const COUNTERS: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("counters: (workspace_id, name) -> next value");

/// `(workspace_id, board_id) → Board` (with its columns).
pub const BOARDS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("boards: (workspace_id, board_id) -> board");

/// `(workspace_id, card_id) → Card`.
pub const CARDS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("cards: (workspace_id, card_id) -> card");

/// `(workspace_id, column_id, rank) → card_id`: cards of a column in order.
pub const COLUMN_CARDS: TableDefinition<(&str, &str, &str), &str> =
    TableDefinition::new("column_cards: (workspace_id, column_id, rank) -> card_id");

/// `(workspace_id, room_id) → Room`.
pub const ROOMS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("rooms: (workspace_id, room_id) -> room");

/// `(workspace_id, room_id, seq) → Message`: a room's history in order.
pub const MESSAGES: TableDefinition<(&str, &str, u64), &[u8]> =
    TableDefinition::new("messages: (workspace_id, room_id, seq) -> message");

/// `(workspace_id, message_id) → (room_id, seq)`: finds a message by id.
pub const MESSAGE_IDS: TableDefinition<(&str, &str), (&str, u64)> =
    TableDefinition::new("message_ids: (workspace_id, message_id) -> (room_id, seq)");

/// `(user_id, request_id) → (workspace_id, seq, applied_at_ms)`: answered commands, for
/// idempotent retries. Pruned after [`crate::limits::REQUEST_ID_TTL_SECS`].
pub const REQUESTS: TableDefinition<(&str, &str), (&str, u64, i64)> =
    TableDefinition::new("requests: (user_id, request_id) -> (workspace_id, seq, at_ms)");

/// `invite_id → InviteRecord`: invitations with the SHA-256 of their code's secret (never the
/// code), the workspace and role they grant, and their uses; revoked ones stay (marked).
pub const INVITES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("invites: invite_id -> invite record");

/// `(scope, entry_id) → audit entry` (`crate::audit::Stored`): the audit log. The scope is the
/// workspace id, or `""` for server-wide entries; ids increase across the whole server.
pub const AUDIT: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("audit: (workspace_id or \"\", entry_id) -> entry");

/// `(workspace_id, job_id) → Job`.
pub const JOBS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("jobs: (workspace_id, job_id) -> job");

/// `(workspace_id, run_id) → Run` (secret parameter values are `***`; the values themselves are
/// never stored).
pub const RUNS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("runs: (workspace_id, run_id) -> run");

/// `(workspace_id, run number) → run_id`: finds `r7`, and lists runs newest first.
pub const RUN_NUMBERS: TableDefinition<(&str, u64), &str> =
    TableDefinition::new("run_numbers: (workspace_id, number) -> run_id");

/// `(workspace_id, run_id) → log progress` (`crate::logs::progress::Progress`): the next chunk
/// expected, lines and bytes stored, sealed.
pub const LOG_PROGRESS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("log_progress: (workspace_id, run_id) -> progress");

/// `(workspace_id, worker user_id) → WorkerRecord` (`super::records::WorkerRecord`): the
/// name, tags, concurrency, version and last sighting of every worker that said hello.
pub const WORKERS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("workers: (workspace_id, user_id) -> worker record");
/// `(workspace_id, provider_id) → Provider` (never a key: only the name of the variable that
/// holds one on the workers).
pub const PROVIDERS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("providers: (workspace_id, provider_id) -> provider");

/// `(workspace_id, agent_id) → Agent`.
pub const AGENTS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("agents: (workspace_id, agent_id) -> agent");

/// `(workspace_id, run_id, n) → RunStep`: an agent run's steps (model calls, tool calls), in
/// order; the latest state of each (`run_step` events carry every change).
pub const STEPS: TableDefinition<(&str, &str, u32), &[u8]> =
    TableDefinition::new("steps: (workspace_id, run_id, n) -> step");

/// `(workspace_id, agent_id, tool) → ApprovalGrant`: "approve always" grants, one per agent and
/// tool (`card.create`, …).
pub const GRANTS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("grants: (workspace_id, agent_id, tool) -> grant");

/// `(workspace_id, run_id, first line number) → encoded lines` (`crate::logs::codec`): a run's
/// stored log in chunks, one per `log_chunk` that stored lines; finding line N is one range
/// lookup (the last key with `first line ≤ N`).
pub const LOG_CHUNKS: TableDefinition<(&str, &str, u64), &[u8]> =
    TableDefinition::new("log_chunks: (workspace_id, run_id, first_line) -> lines");

/// `(workspace_id, scope key) → budget record` (`crate::service::budgets::BudgetRecord`: the
/// budget and the alerts already posted this period). The scope key is `workspace`,
/// `agent:<agent_id>` or `room:<room_id>`.
pub const BUDGETS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("budgets: (workspace_id, scope) -> budget record");

/// `(workspace_id, day, agent_id, provider_id, room_id or "") → UsageRow`: tokens, cost and
/// calls of the model calls of one UTC day (`2026-12-05`), agent, provider and room.
pub const USAGE: TableDefinition<(&str, &str, &str, &str, &str), &[u8]> =
    TableDefinition::new("usage: (workspace_id, day, agent_id, provider_id, room_id) -> usage row");
