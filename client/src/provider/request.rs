//! What a model call asks and what it answers, in one vocabulary for every dialect: the
//! conversation ([`ChatMessage`]), the tools offered ([`ToolSpec`], [`ToolChoice`]) and the
//! finished (or partial) answer ([`Completion`]).

use serde::{Deserialize, Serialize};
use warren_protocol::agent::Usage;

/// One model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The model asked for; a provider of the chain that does not serve it uses its own first
    /// model ([`super::ProviderConfig::model_for`]).
    pub model: String,
    /// The system prompt (empty: none).
    pub system: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub tool_choice: ToolChoice,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// A turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    /// What a person (or the room) said.
    User { text: String },
    /// What the model answered before: its text and the tools it called.
    Assistant {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, answering the call `call_id`.
    ToolResult {
        call_id: String,
        name: String,
        content: String,
    },
}

/// A tool the model may call; `parameters` is its arguments' JSON schema (the wire's type, so
/// an agent assignment's tools go to the provider as they are).
pub use warren_protocol::agent::ToolSpec;

/// Whether the model may, must not or must call a tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// No tool call.
    None,
    /// This tool must be called (small models do not choose tools by themselves).
    Required(String),
}

/// A tool call the model made: `arguments` is the JSON text as the model wrote it (it may not
/// parse; the agent loop checks it against the tool's schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It finished its answer (or hit a stop sequence).
    Stop,
    /// It reached `max_tokens`.
    Length,
    /// It called tools and waits for their results.
    ToolCalls,
    /// The provider's filter stopped it.
    ContentFilter,
    /// Anything else, as the provider named it.
    Other(String),
}

impl FinishReason {
    /// The name a step records (`stop`, `length`, `tool_calls`, `content_filter`, or the
    /// provider's own).
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(other) => other,
        }
    }
}

/// A model's answer, whole or (in [`super::CallError::partial`]) as far as it streamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    /// `None` when the stream broke before the provider said why it stopped.
    pub finish_reason: Option<FinishReason>,
    /// From sending the request to the first streamed token (text or tool call).
    pub first_token_ms: Option<u64>,
    /// From sending the request to the end of the stream.
    pub latency_ms: u64,
}
