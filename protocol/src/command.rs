//! Commands: the only way to change a workspace. Each is validated by the server, applied in one
//! durable transaction together with the event it produces, and answered with that event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agent::{HealthState, MicroUsd, Price, ProviderErrorClass, ProviderKind};
use crate::budget::{BudgetPeriod, BudgetScope};
use crate::id::Id;
use crate::model::{Priority, Role};
use crate::run::{ParamSpec, RunEnd};
use crate::step::{Decision, ModelCall, StepStatus};
use crate::tool::ToolName;

/// Where a card goes within its column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case", deny_unknown_fields)]
#[serde(from = "PositionWire")]
pub enum Position {
    /// First in the column.
    Top,
    /// Last in the column (the default).
    #[default]
    Bottom,
    /// Directly after another card of the same column.
    After { card_id: Id },
    /// Directly before another card of the same column.
    Before { card_id: Id },
}

/// How [`Position`] is parsed. Serde ignores `deny_unknown_fields` on the unit variants of an
/// internally tagged enum, so `{"at":"top","card_id":…}` would parse as `top`; empty struct
/// variants make it an error like any other unknown field.
#[derive(Deserialize)]
#[serde(tag = "at", rename_all = "snake_case", deny_unknown_fields)]
enum PositionWire {
    Top {},
    Bottom {},
    After { card_id: Id },
    Before { card_id: Id },
}

impl From<PositionWire> for Position {
    fn from(wire: PositionWire) -> Self {
        match wire {
            PositionWire::Top {} => Position::Top,
            PositionWire::Bottom {} => Position::Bottom,
            PositionWire::After { card_id } => Position::After { card_id },
            PositionWire::Before { card_id } => Position::Before { card_id },
        }
    }
}

/// A change a client asks for. Optional ids let a client create an entity offline and refer to it
/// in later queued commands; the server mints one when it is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Creates a board. Without `columns` it gets Backlog, Todo, In Progress, Review, Done.
    CreateBoard {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        board_id: Option<Id>,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        columns: Option<Vec<String>>,
    },
    /// Renames a board. Board names are unique in a workspace (ignoring ASCII case).
    RenameBoard { board_id: Id, name: String },
    /// Adds a column to a board: at `index` (0 is the first column), or last without it.
    AddColumn {
        board_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column_id: Option<Id>,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<u32>,
    },
    /// Renames a column. Column names are unique on a board (ignoring ASCII case).
    RenameColumn {
        board_id: Id,
        column_id: Id,
        name: String,
    },
    /// Moves a column to `index` among its board's columns (0 is the first; past the end means
    /// last). Its cards go with it.
    MoveColumn {
        board_id: Id,
        column_id: Id,
        index: u32,
    },
    /// Deletes a column. A column that holds cards is refused unless `move_cards_to` names another
    /// column of the same board: its cards then go to the bottom of that column, in their order.
    /// A board keeps at least one column.
    DeleteColumn {
        board_id: Id,
        column_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        move_cards_to: Option<Id>,
    },
    /// Creates a card. Without `column_id` it lands in the board's first column.
    CreateCard {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card_id: Option<Id>,
        board_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column_id: Option<Id>,
        title: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<Id>,
        #[serde(default)]
        priority: Priority,
        #[serde(default)]
        position: Position,
    },
    /// Changes the given fields of a card; absent fields stay as they are. `assignee: null`
    /// unassigns; leaving `assignee` out keeps it.
    UpdateCard {
        card_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<Vec<String>>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        assignee: Option<Option<Id>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<Priority>,
    },
    /// Moves a card to a column (possibly its own) at a position.
    MoveCard {
        card_id: Id,
        column_id: Id,
        #[serde(default)]
        position: Position,
    },
    /// Deletes a card.
    DeleteCard { card_id: Id },
    /// Creates a chat room. Names are unique in a workspace.
    CreateRoom {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<Id>,
        name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        topic: String,
    },
    /// Posts a message to a room.
    PostMessage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Id>,
        room_id: Id,
        body: String,
    },
    /// Replaces the body of one of your own messages.
    EditMessage { message_id: Id, body: String },
    /// Deletes a message: your own, or anyone's with `chat:moderate`.
    DeleteMessage { message_id: Id },
    /// Renames the workspace.
    RenameWorkspace { name: String },
    /// Gives a member another role. Only owners make owners or change an owner's role; the last
    /// owner keeps the role.
    SetMemberRole { user_id: Id, role: Role },
    /// Removes a member from the workspace (their account and tokens stay; they lose access at
    /// once). The last owner cannot be removed.
    RemoveMember { user_id: Id },
    /// Deletes the workspace and everything in it: boards, cards, rooms, messages, its event log
    /// and every membership (owners only). `name` must be the workspace's current name, so a
    /// script cannot delete the wrong one by id. Every subscriber gets the `workspace_deleted`
    /// event as its last frame of the workspace; afterwards the workspace is `not_found`.
    DeleteWorkspace { name: String },
    /// Creates a job (`job:manage`). Names are unique in a workspace (ignoring ASCII case).
    /// Without `timeout_secs` a run may take 30 minutes.
    CreateJob {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        job_id: Option<Id>,
        name: String,
        command: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        params: Vec<ParamSpec>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_secs: Option<u64>,
        #[serde(default)]
        retries: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        #[serde(default)]
        protected: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        concurrency: Option<u32>,
    },
    /// Changes the given fields of a job; absent fields stay as they are (`concurrency: null`
    /// removes the limit). Runs already created keep what they were started with.
    UpdateJob {
        job_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<Vec<ParamSpec>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_secs: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retries: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        protected: Option<bool>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        concurrency: Option<Option<u32>>,
    },
    /// Deletes a job. Its runs and their logs stay (they keep the job's name).
    DeleteJob { job_id: Id },
    /// Starts a run of a job: `queued`, or `awaiting_approval` for a protected job. `params` maps
    /// parameter names to values (missing ones take their default; unknown names are refused).
    /// Secret values go to the worker only and are `***` everywhere else.
    StartRun {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Id>,
        job_id: Id,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<Id>,
    },
    /// Cancels a run that has not finished: your own with `run:start`, anyone's with
    /// `run:manage`. A running run's worker stops its process group.
    CancelRun {
        run_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Lets a run of a protected job go ahead (`awaiting_approval → queued`).
    ApproveRun { run_id: Id },
    /// Refuses a run of a protected job (`awaiting_approval → rejected`).
    RejectRun {
        run_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Starts a new run of the same job with the same parameters (a finished run only). Secret
    /// values are not kept: give them again in `params`.
    RetryRun {
        run_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_run_id: Option<Id>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        params: BTreeMap<String, String>,
    },
    /// From the worker holding the run: its command started (`assigned → running`).
    ReportRunStarted { run_id: Id },
    /// From the worker holding the run: it ended. `lines` is the number of log lines it
    /// produced; the report is refused until every one of them is stored.
    ReportRunFinished {
        run_id: Id,
        end: RunEnd,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        lines: u64,
    },
    /// Adds a model provider. Its key stays on the workers, named by `key_env`.
    CreateProvider {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_id: Option<Id>,
        name: String,
        kind: ProviderKind,
        base_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_env: Option<String>,
        models: Vec<String>,
        #[serde(default)]
        price: Price,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_tokens: Option<u32>,
    },
    /// Changes a provider (only the fields given; `null` clears `key_env` or `context_tokens`).
    UpdateProvider {
        provider_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_url: Option<String>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        key_env: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        models: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price: Option<Price>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        context_tokens: Option<Option<u32>>,
    },
    /// Deletes a provider no agent's chain names.
    DeleteProvider { provider_id: Id },
    /// Tests a provider from a worker: a run whose one step is a short call to it.
    TestProvider {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Id>,
        provider_id: Id,
    },
    /// Adds an agent and the member it acts as (role `member`; change it with
    /// `set_member_role`). Unset limits take their defaults.
    CreateAgent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_id: Option<Id>,
        name: String,
        providers: Vec<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        prompt: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tools: Vec<ToolName>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        auto_approve: Vec<ToolName>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_steps: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_tokens: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_wall_secs: Option<u64>,
    },
    /// Changes an agent (only the fields given; `null` clears `model` or `max_tokens`).
    UpdateAgent {
        agent_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        providers: Option<Vec<Id>>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        model: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tools: Option<Vec<ToolName>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto_approve: Option<Vec<ToolName>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_steps: Option<u32>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "double_option"
        )]
        max_tokens: Option<Option<u64>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_wall_secs: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disabled: Option<bool>,
    },
    /// Deletes an agent; its member is removed, its runs and messages stay.
    DeleteAgent { agent_id: Id },
    /// Asks an agent: a new agent run with this prompt (and, with `room_id`, the room's recent
    /// messages as context; the answer is posted there). `@name …` in a room does the same.
    AskAgent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<Id>,
        agent_id: Id,
        prompt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card_id: Option<Id>,
        /// A tool of the agent (`card.create`) the run's first model call must call. Text, not
        /// a [`crate::tool::ToolName`], so that an unknown name gets an answer naming the
        /// agent's tools rather than a frame error.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool: Option<String>,
    },
    /// Decides a tool call waiting for approval. The first decision wins; a later one is a
    /// `conflict` naming who decided.
    DecideTool {
        run_id: Id,
        step: u32,
        decision: Decision,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Revokes an "approve always" grant.
    RevokeApproval { grant_id: Id },
    /// Sets (or replaces) a budget. Raising an exhausted one queues the runs it paused again.
    SetBudget {
        scope: BudgetScope,
        limit: MicroUsd,
        period: BudgetPeriod,
    },
    /// Removes a budget.
    ClearBudget { scope: BudgetScope },
    /// From the worker holding an agent run: a model call is about to start as step `step` (the
    /// next number). Refused with `budget_exhausted` (and the run `paused`) when a budget of the
    /// run is spent, and with `validation` past the agent's step or token limits.
    StartModelCall {
        run_id: Id,
        step: u32,
        provider_id: Id,
        model: String,
    },
    /// From the worker holding an agent run: the model call of step `step` ended (`done`,
    /// `failed` or `cancelled`). Its cost counts against the run's budgets.
    FinishModelCall {
        run_id: Id,
        step: u32,
        status: StepStatus,
        call: Box<ModelCall>,
    },
    /// From the worker holding an agent run: the model asked for a tool. The server checks the
    /// arguments, then performs it as the agent (a `done` step with the result), or, when it
    /// needs a decision, stores the step `awaiting_approval` and takes the run from the worker
    /// until someone decides.
    CallTool {
        run_id: Id,
        step: u32,
        call_id: String,
        name: String,
        arguments: String,
    },
    /// From a worker: a provider's breaker changed state (or failed in a new way).
    ReportProviderHealth {
        provider_id: Id,
        state: HealthState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<ProviderErrorClass>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

impl Command {
    /// The wire name of the command, such as `create_card`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateBoard { .. } => "create_board",
            Command::RenameBoard { .. } => "rename_board",
            Command::AddColumn { .. } => "add_column",
            Command::RenameColumn { .. } => "rename_column",
            Command::MoveColumn { .. } => "move_column",
            Command::DeleteColumn { .. } => "delete_column",
            Command::CreateCard { .. } => "create_card",
            Command::UpdateCard { .. } => "update_card",
            Command::MoveCard { .. } => "move_card",
            Command::DeleteCard { .. } => "delete_card",
            Command::CreateRoom { .. } => "create_room",
            Command::PostMessage { .. } => "post_message",
            Command::EditMessage { .. } => "edit_message",
            Command::DeleteMessage { .. } => "delete_message",
            Command::RenameWorkspace { .. } => "rename_workspace",
            Command::SetMemberRole { .. } => "set_member_role",
            Command::RemoveMember { .. } => "remove_member",
            Command::DeleteWorkspace { .. } => "delete_workspace",
            Command::CreateJob { .. } => "create_job",
            Command::UpdateJob { .. } => "update_job",
            Command::DeleteJob { .. } => "delete_job",
            Command::StartRun { .. } => "start_run",
            Command::CancelRun { .. } => "cancel_run",
            Command::ApproveRun { .. } => "approve_run",
            Command::RejectRun { .. } => "reject_run",
            Command::RetryRun { .. } => "retry_run",
            Command::ReportRunStarted { .. } => "report_run_started",
            Command::ReportRunFinished { .. } => "report_run_finished",
            Command::CreateProvider { .. } => "create_provider",
            Command::UpdateProvider { .. } => "update_provider",
            Command::DeleteProvider { .. } => "delete_provider",
            Command::TestProvider { .. } => "test_provider",
            Command::CreateAgent { .. } => "create_agent",
            Command::UpdateAgent { .. } => "update_agent",
            Command::DeleteAgent { .. } => "delete_agent",
            Command::AskAgent { .. } => "ask_agent",
            Command::DecideTool { .. } => "decide_tool",
            Command::RevokeApproval { .. } => "revoke_approval",
            Command::SetBudget { .. } => "set_budget",
            Command::ClearBudget { .. } => "clear_budget",
            Command::StartModelCall { .. } => "start_model_call",
            Command::FinishModelCall { .. } => "finish_model_call",
            Command::CallTool { .. } => "call_tool",
            Command::ReportProviderHealth { .. } => "report_provider_health",
        }
    }
}

/// Serde helper that tells "field absent" (`None`) from "field is null" (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
