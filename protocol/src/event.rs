//! Events: the append-only record of every change to a workspace, numbered by a gap-free sequence.

use serde::{Deserialize, Serialize};

use crate::agent::{Agent, Provider};
use crate::budget::{Budget, BudgetScope};
use crate::id::{Id, RequestId};
use crate::model::{Board, Card, Member, Message, Room, Workspace};
use crate::run::{Job, Run, RunStatus};
use crate::step::{ApprovalGrant, RunStep};

/// One change to a workspace, as stored and as delivered to every subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the workspace's stream: 1, 2, 3, … with no gaps.
    pub seq: u64,
    pub workspace_id: Id,
    /// Milliseconds since the Unix epoch, taken by the server when it applied the command.
    pub at: i64,
    /// The user whose command caused the change.
    pub actor: Id,
    /// The request id of that command, so its sender can match the event to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    pub change: Change,
}

/// What changed, with the data a client needs to update its view without asking again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    WorkspaceCreated {
        workspace: Workspace,
    },
    MemberAdded {
        member: Member,
    },
    /// A member's role changed; `member` is the new state.
    MemberUpdated {
        member: Member,
    },
    /// A member left or was removed; they see no more of the workspace.
    MemberRemoved {
        user_id: Id,
    },
    /// The workspace was renamed; `workspace` is the new state.
    WorkspaceRenamed {
        workspace: Workspace,
    },
    BoardCreated {
        board: Board,
    },
    /// The board was renamed, or a column was added, renamed or moved; `board` is the new state.
    BoardUpdated {
        board: Board,
    },
    /// A column was deleted; `board` is the new state. `moved_cards` are the column's cards in
    /// their new column (`move_cards_to`) with new ranks, in order; empty when it held none.
    ColumnDeleted {
        board: Board,
        column_id: Id,
        moved_cards: Vec<Card>,
    },
    CardCreated {
        card: Card,
    },
    /// Title, description, labels, assignee or priority changed; `card` is the new state.
    CardUpdated {
        card: Card,
    },
    /// The card moved; `card` carries its new column and rank.
    CardMoved {
        card: Card,
        from_column_id: Id,
    },
    CardDeleted {
        card_id: Id,
        board_id: Id,
    },
    RoomCreated {
        room: Room,
    },
    MessagePosted {
        message: Message,
    },
    MessageEdited {
        message: Message,
    },
    MessageDeleted {
        message_id: Id,
        room_id: Id,
    },
    /// The workspace was deleted by `actor` (`delete_workspace`): the last event of its stream.
    /// It is sent to every subscriber and in the ack but never stored, since the whole log goes
    /// with the workspace; the server then ends every subscription to it.
    WorkspaceDeleted {
        workspace: Workspace,
    },
    JobCreated {
        job: Job,
    },
    /// `job` is the new state.
    JobUpdated {
        job: Job,
    },
    JobDeleted {
        job_id: Id,
    },
    /// A run was started (`queued` or `awaiting_approval`).
    RunCreated {
        run: Run,
    },
    /// A run changed status: one event per transition (`from` is the status it left; the event's
    /// `actor` caused it: the member who approved or cancelled, the worker that ran it). `run` is
    /// the new state. Log lines are not events: see `log_subscribe`.
    RunUpdated {
        run: Run,
        from: RunStatus,
    },
    ProviderCreated {
        provider: Provider,
    },
    /// Also when a worker reports a new health state.
    ProviderUpdated {
        provider: Provider,
    },
    ProviderDeleted {
        provider_id: Id,
    },
    AgentCreated {
        agent: Agent,
    },
    AgentUpdated {
        agent: Agent,
    },
    AgentDeleted {
        agent_id: Id,
    },
    /// A step of an agent run began or changed (a model call started or finished, a tool call
    /// was performed, waits for a decision, or was decided).
    RunStep {
        step: RunStep,
    },
    ApprovalGranted {
        grant: ApprovalGrant,
    },
    ApprovalRevoked {
        grant_id: Id,
    },
    BudgetSet {
        budget: Budget,
    },
    BudgetCleared {
        scope: BudgetScope,
    },
}

impl Change {
    /// The wire name of the change, such as `card_created`.
    pub fn name(&self) -> &'static str {
        match self {
            Change::WorkspaceCreated { .. } => "workspace_created",
            Change::MemberAdded { .. } => "member_added",
            Change::MemberUpdated { .. } => "member_updated",
            Change::MemberRemoved { .. } => "member_removed",
            Change::WorkspaceRenamed { .. } => "workspace_renamed",
            Change::BoardCreated { .. } => "board_created",
            Change::BoardUpdated { .. } => "board_updated",
            Change::ColumnDeleted { .. } => "column_deleted",
            Change::CardCreated { .. } => "card_created",
            Change::CardUpdated { .. } => "card_updated",
            Change::CardMoved { .. } => "card_moved",
            Change::CardDeleted { .. } => "card_deleted",
            Change::RoomCreated { .. } => "room_created",
            Change::MessagePosted { .. } => "message_posted",
            Change::MessageEdited { .. } => "message_edited",
            Change::MessageDeleted { .. } => "message_deleted",
            Change::WorkspaceDeleted { .. } => "workspace_deleted",
            Change::JobCreated { .. } => "job_created",
            Change::JobUpdated { .. } => "job_updated",
            Change::JobDeleted { .. } => "job_deleted",
            Change::RunCreated { .. } => "run_created",
            Change::ProviderCreated { .. } => "provider_created",
            Change::ProviderUpdated { .. } => "provider_updated",
            Change::ProviderDeleted { .. } => "provider_deleted",
            Change::AgentCreated { .. } => "agent_created",
            Change::AgentUpdated { .. } => "agent_updated",
            Change::AgentDeleted { .. } => "agent_deleted",
            Change::RunStep { .. } => "run_step",
            Change::ApprovalGranted { .. } => "approval_granted",
            Change::ApprovalRevoked { .. } => "approval_revoked",
            Change::BudgetSet { .. } => "budget_set",
            Change::BudgetCleared { .. } => "budget_cleared",
            Change::RunUpdated { .. } => "run_updated",
        }
    }
}
