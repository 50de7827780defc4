//! The steps of an agent run: each model call (provider, model, tokens, cost, latency, why an
//! earlier provider was skipped, the text and the tool calls it asked for) and each tool call
//! (arguments, result, the approval it needed). A finished step is one durable `run_step`
//! event; the text of a model call in progress travels only as ephemeral `agent_delta` frames.

use serde::{Deserialize, Serialize};

use crate::agent::{MicroUsd, ProviderErrorClass, Usage};
use crate::id::Id;
use crate::tool::ToolName;

/// Longest text of one model call that is stored, in bytes (longer text is cut, marked).
pub const MAX_STEP_TEXT_BYTES: usize = 256 * 1024;
/// Longest tool result that is stored and given back to the model, in bytes.
pub const MAX_TOOL_RESULT_BYTES: usize = 16 * 1024;
/// Longest reason of a decision, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One step of an agent run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunStep {
    pub run_id: Id,
    /// 1, 2, 3, … within the run.
    pub n: u32,
    pub status: StepStatus,
    pub started_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    pub detail: StepDetail,
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Under way (a model call streaming, a tool being performed).
    Running,
    /// A tool call waiting for a person's decision.
    AwaitingApproval,
    /// Finished normally (a tool that returned an error to the model is `done` too).
    Done,
    /// The model call failed on every provider, or the tool failed inside warren.
    Failed,
    /// A person refused the tool call (the reason went back to the model).
    Rejected,
    /// The run was cancelled during the step.
    Cancelled,
}

impl StepStatus {
    /// The wire name, such as `awaiting_approval`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::AwaitingApproval => "awaiting_approval",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Rejected => "rejected",
            StepStatus::Cancelled => "cancelled",
        }
    }

    /// True once the step will not change again.
    pub fn is_final(self) -> bool {
        !matches!(self, StepStatus::Running | StepStatus::AwaitingApproval)
    }
}

/// What the step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepDetail {
    ModelCall(ModelCall),
    ToolCall(ToolCallStep),
}

/// A call to a model (through the agent's provider chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCall {
    /// The provider that answered (or was tried last).
    pub provider_id: Id,
    /// Its name when the call was made.
    pub provider: String,
    pub model: String,
    #[serde(default)]
    pub usage: Usage,
    /// `usage` at the provider's prices.
    #[serde(default)]
    pub cost: MicroUsd,
    /// From sending the request to the last byte, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// From sending the request to the first token, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<u64>,
    /// Every failed try before the answer (retries and skipped providers), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<ProviderAttempt>,
    /// The text the model wrote.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The stream broke (or the run was cancelled) before the model finished: `text` is what
    /// arrived, and `error` says what happened.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Tool calls the model asked for, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRequest>,
    /// Why the model stopped (`stop`, `length`, `tool_calls`), as the provider said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// What went wrong, for a failed or partial call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

/// One failed try of a model call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderAttempt {
    pub provider_id: Id,
    pub provider: String,
    pub model: String,
    pub class: ProviderErrorClass,
    /// In words ("HTTP 429, retry after 2s", "circuit open"), without keys.
    pub message: String,
    /// When, in milliseconds after the step started.
    pub after_ms: u64,
}

/// A failure recorded on a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ProviderErrorClass>,
    pub message: String,
}

/// A tool call as the model asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallRequest {
    /// The provider's call id (answers are matched to it).
    pub id: String,
    /// The function name the model used (`card_create`; maybe not a tool that exists).
    pub name: String,
    /// The arguments as the model wrote them (JSON text, maybe invalid).
    pub arguments: String,
}

/// A tool call, performed by the server as the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallStep {
    /// The model's call id ([`ToolCallRequest::id`]).
    pub call_id: String,
    /// The tool, when the name is one (`None`: the model named a tool that does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolName>,
    /// The name the model used.
    pub name: String,
    /// The arguments as the model wrote them.
    pub arguments: String,
    /// What the model is told: the result, or the error ("invalid arguments …", "rejected by
    /// grace: not on Fridays").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// True when `result` is an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// The run a `job.run` call started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_run_id: Option<Id>,
    /// The decision it needed (`None`: it needed none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// A person's decision on a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Perform this call.
    ApproveOnce,
    /// Perform this call and every later call of this tool by this agent in this workspace
    /// (an [`ApprovalGrant`], listed and revocable).
    ApproveAlways,
    /// Refuse it; the reason goes back to the model.
    Reject,
}

impl Decision {
    /// The wire name, such as `approve_once`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::ApproveOnce => "approve_once",
            Decision::ApproveAlways => "approve_always",
            Decision::Reject => "reject",
        }
    }
}

/// The approval a tool call needed and how it was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// When it started waiting.
    pub requested_at: i64,
    /// `None` while waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The standing grant that approved it without asking (then `decided_by` is its giver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<Id>,
}

/// "Approve always": this agent may call this tool in this workspace without asking, until the
/// grant is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalGrant {
    pub id: Id,
    pub agent_id: Id,
    pub tool: ToolName,
    pub granted_by: Id,
    pub granted_at: i64,
    /// The run whose approval created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Id>,
}

/// The text of a model call in progress, as far as it has come (`run_watching`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamPartial {
    pub run_id: Id,
    pub step: u32,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_and_running_steps_are_not_final() {
        assert!(!StepStatus::Running.is_final());
        assert!(!StepStatus::AwaitingApproval.is_final());
        assert!(StepStatus::Rejected.is_final());
        assert!(StepStatus::Done.is_final());
    }
}
