//! The frames of the protocol: what a client sends ([`ClientMessage`]) and what the server sends
//! ([`ServerMessage`]). Every frame is one JSON object in a WebSocket text frame, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::account::{AccountOp, AccountResult};
use crate::agent::{Agent, AgentAssignment, Provider};
use crate::audit::AuditEntry;
use crate::budget::{Budget, UsageRow};
use crate::command::Command;
use crate::error::ErrorCode;
use crate::event::Event;
use crate::id::{Id, RequestId};
use crate::model::{Member, Message, Workspace, WorkspaceState};
use crate::run::{
    AssignedParam, HeldRun, HeldRunState, Job, LogFilter, LogLine, Run, RunStatus, WorkerInfo,
};
use crate::step::{ApprovalGrant, RunStep, StreamPartial};

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
    /// Receive a run's log (`workspace:read`): the stored lines from `from_line` (1 is the
    /// first; with `tail`, the last `tail` lines instead), through `filter` when given, as
    /// `log_lines` frames; then `log_synced`; then, while the run goes on, its new lines as they
    /// are stored (filtered the same way); then `log_end` once the run has finished and every
    /// line was sent. A connection follows any number of runs; subscribing again to the same run
    /// replaces the earlier subscription. An invalid filter is an `error` with the request id.
    LogSubscribe {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        run_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_line: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tail: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<LogFilter>,
        /// Send this subscription's `log_lines` with each line as an array
        /// (`[n, ts, stream, text]`, plus `true` when continued) instead of an object: about 25
        /// fewer bytes a line. `LogLine` reads both forms.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        compact: bool,
    },
    /// Stop receiving a run's log.
    LogUnsubscribe { run_id: Id },
    /// A worker announces itself (a bot token, `run:execute`), after `hello`: the tags it offers,
    /// how many runs it executes at once, and the runs it still holds from an earlier
    /// connection. Answered by `worker_welcome`; from then on the server sends it `assign` and
    /// `cancel_run`. A newer `worker_hello` from the same bot replaces the older connection.
    WorkerHello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        concurrency: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        held: Vec<HeldRun>,
        /// The worker also executes agent runs (calls model providers with keys from its own
        /// environment). `warren worker --no-agents` says false.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        agents: bool,
    },
    /// A worker is alive (every `heartbeat_secs` of `worker_welcome`), holding `runs`. With
    /// `draining`, it takes no more work (it is shutting down).
    Heartbeat {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        runs: Vec<Id>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        draining: bool,
    },
    /// A batch of log lines of a run the worker holds, numbered per run from 0 with no gaps.
    /// Answered by `log_ack` once durable (re-sending an acknowledged chunk is acknowledged
    /// again and stored once), or `log_refused`.
    LogChunk {
        run_id: Id,
        chunk: u64,
        lines: Vec<LogLine>,
    },
    /// From the worker holding an agent run: more text of the model call in step `step`
    /// (started with `start_model_call`). `offset` is the length in bytes of the step's text
    /// before this piece, so a receiver sees any gap. Relayed to watchers, never stored, never
    /// answered; dropped for watchers that are behind (they get the finished step).
    AgentDelta {
        run_id: Id,
        step: u32,
        offset: u64,
        text: String,
    },
    /// Watch agent runs as they stream: one run (`run_id`), or every agent run answering in a
    /// room (`room_id`). Answered by `run_watching` with the text of the model calls in progress
    /// so far, then `agent_delta` frames as text arrives. Finished steps come as `run_step`
    /// events on the workspace stream as usual. Watching again replaces nothing: a connection
    /// may watch any number of runs and rooms.
    RunWatch {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workspace_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<Id>,
    },
    /// Stop watching a run or a room.
    RunUnwatch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<Id>,
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
    /// Every job of the workspace, by name.
    Jobs,
    /// Runs, newest first: with `status`, `job` (id or name) and `since` (ms since the epoch)
    /// as filters, and `before` (a run number) for the next page.
    Runs {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<RunStatus>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        limit: u32,
    },
    /// One run by number (`r7` is 7).
    Run { number: u64 },
    /// Every worker (bot) that has connected to the workspace, with its state.
    Workers,
    /// A page of a run's stored log: up to `limit` lines from line `from` onwards (or, with
    /// `backward`, from `from` back towards line 1), through `filter` when given. The whole
    /// stored log is searched, never a sample.
    Log {
        run_id: Id,
        from: u64,
        limit: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        backward: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<LogFilter>,
    },
    /// Every model provider of the workspace, by name, with its health.
    Providers,
    /// Every agent of the workspace, by name.
    Agents,
    /// The standing "approve always" grants (of one agent, with `agent_id`).
    Approvals {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_id: Option<Id>,
    },
    /// Every budget with what was spent in its current period.
    Budgets,
    /// Tokens and cost per day, agent, provider and room, from `since` (ms since the epoch) to
    /// `until` (default: now).
    Usage {
        since: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
    },
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
            Query::Jobs => "jobs",
            Query::Runs { .. } => "runs",
            Query::Run { .. } => "run",
            Query::Workers => "workers",
            Query::Log { .. } => "log",
            Query::Providers => "providers",
            Query::Agents => "agents",
            Query::Approvals { .. } => "approvals",
            Query::Budgets => "budgets",
            Query::Usage { .. } => "usage",
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
    Jobs {},
    Runs {
        #[serde(default)]
        status: Option<RunStatus>,
        #[serde(default)]
        job: Option<String>,
        #[serde(default)]
        since: Option<i64>,
        #[serde(default)]
        before: Option<u64>,
        limit: u32,
    },
    Run {
        number: u64,
    },
    Workers {},
    Log {
        run_id: Id,
        from: u64,
        limit: u32,
        #[serde(default)]
        backward: bool,
        #[serde(default)]
        filter: Option<LogFilter>,
    },
    Providers {},
    Agents {},
    Approvals {
        #[serde(default)]
        agent_id: Option<Id>,
    },
    Budgets {},
    Usage {
        since: i64,
        #[serde(default)]
        until: Option<i64>,
    },
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
            QueryWire::Jobs {} => Query::Jobs,
            QueryWire::Runs {
                status,
                job,
                since,
                before,
                limit,
            } => Query::Runs {
                status,
                job,
                since,
                before,
                limit,
            },
            QueryWire::Run { number } => Query::Run { number },
            QueryWire::Workers {} => Query::Workers,
            QueryWire::Log {
                run_id,
                from,
                limit,
                backward,
                filter,
            } => Query::Log {
                run_id,
                from,
                limit,
                backward,
                filter,
            },
            QueryWire::Providers {} => Query::Providers,
            QueryWire::Agents {} => Query::Agents,
            QueryWire::Approvals { agent_id } => Query::Approvals { agent_id },
            QueryWire::Budgets {} => Query::Budgets,
            QueryWire::Usage { since, until } => Query::Usage { since, until },
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
    Jobs {
        jobs: Vec<Job>,
    },
    /// Runs, newest first.
    Runs {
        runs: Vec<Run>,
        /// True when older runs match too (ask again with `before` = the last number).
        has_more: bool,
    },
    Run {
        run: Run,
        /// An agent run's steps, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        steps: Vec<RunStep>,
    },
    Workers {
        workers: Vec<WorkerInfo>,
    },
    /// Log lines in line order (also for a backward page).
    Log {
        run_id: Id,
        lines: Vec<LogLine>,
        /// Where the next page starts (the line after the last one scanned, or before it when
        /// backward); `None` when the scan reached the end (or line 1) of what is stored.
        next: Option<u64>,
        /// Lines stored so far.
        stored: u64,
        /// True when the run has finished, so `stored` is final.
        finished: bool,
    },
    Providers {
        providers: Vec<Provider>,
    },
    Agents {
        agents: Vec<Agent>,
    },
    Approvals {
        grants: Vec<ApprovalGrant>,
    },
    Budgets {
        budgets: Vec<Budget>,
    },
    /// Rows ordered by day, then agent, provider and room.
    Usage {
        rows: Vec<UsageRow>,
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
    /// Lines of a run's log for a `log_subscribe`, in order, gap-free (with a filter, the
    /// matching lines only; their numbers show what was skipped).
    LogLines { run_id: Id, lines: Vec<LogLine> },
    /// Every stored line up to `stored` was sent for a `log_subscribe`; live lines follow.
    LogSynced {
        request_id: RequestId,
        run_id: Id,
        stored: u64,
    },
    /// The run finished and every line of it was sent: the subscription is over.
    LogEnd {
        run_id: Id,
        status: RunStatus,
        lines: u64,
    },
    /// The answer to `worker_hello`: the worker's identity, how often to heartbeat, after how
    /// long without one its runs are taken from it, and what became of each run it holds.
    WorkerWelcome {
        worker_id: Id,
        heartbeat_secs: u64,
        lease_secs: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        held: Vec<HeldRunState>,
    },
    /// To a worker: execute this run (it is `assigned` to you). The parameters carry real values,
    /// secrets included: this frame goes to the assigned worker and nowhere else.
    Assign {
        run: Run,
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        params: Vec<AssignedParam>,
        timeout_secs: u64,
        /// For an agent run (then `command` is empty and there are no parameters): the agent,
        /// its providers, prompt, context, tools and the steps so far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<Box<AgentAssignment>>,
    },
    /// To a worker: stop this run's process group (SIGTERM, then SIGKILL after the grace
    /// period) and report it `cancelled`.
    CancelRun {
        run_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A `log_chunk` is durable (or was already).
    LogAck { run_id: Id, chunk: u64 },
    /// A `log_chunk` was not stored: `not_found`/`forbidden` (not your run: drop it),
    /// `conflict` (a gap: re-send from `expected`), `validation` (bad lines), `rate_limited`
    /// (the token sent log text faster than the server allows: re-send this chunk, and any
    /// later one refused the same way, after `retry_after_ms`).
    LogRefused {
        run_id: Id,
        chunk: u64,
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The answer to `run_watch`: the text so far of every model call in progress among the
    /// watched runs.
    RunWatching {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        partials: Vec<StreamPartial>,
    },
    /// Ephemeral: more text of a model call in progress (see the client frame of that name).
    AgentDelta {
        run_id: Id,
        step: u32,
        offset: u64,
        text: String,
    },
}
