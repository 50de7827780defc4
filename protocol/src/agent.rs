//! Wire types of model providers and agent runs (issue #9): which API a provider speaks, token
//! usage and prices, and how a failed model call is classified. The agent records, steps and
//! frames build on these.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::tool::ToolName;

/// The HTTP API a provider speaks. `openai` covers every OpenAI-compatible server (OpenAI, Groq,
/// OpenRouter, vLLM, llama.cpp, Ollama's `/v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions`, Server-Sent Events.
    Openai,
    /// `POST {base_url}/messages` (Anthropic Messages API), Server-Sent Events.
    Anthropic,
    /// `POST {base_url}/models/{model}:streamGenerateContent?alt=sse` (Gemini API).
    Gemini,
    /// `POST {base_url}/api/chat` (Ollama's native API), newline-delimited JSON.
    Ollama,
}

impl ProviderKind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Openai,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::Ollama,
    ];

    /// The name on the wire and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
        }
    }
}

/// Why a model call failed. Transient classes are retried with backoff and then the next provider
/// of the chain is tried; `auth` and `bad_request` are not retried on the same provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderErrorClass {
    /// HTTP 429 (honouring `Retry-After`).
    RateLimit,
    /// HTTP 401/403: a missing or wrong key. Never retried.
    Auth,
    /// Connection refused, reset, DNS, TLS: nothing or not all of the answer arrived.
    Network,
    /// HTTP 5xx (and 529 overloaded).
    Server,
    /// No first byte, or no next byte, within the time allowed.
    Timeout,
    /// An answer that does not parse: malformed SSE/JSON, an unknown shape.
    BadResponse,
    /// HTTP 400/404/422: the request itself was refused (unknown model, context too long). Not
    /// retried on the same provider; the next provider may accept it.
    BadRequest,
    /// The run was cancelled while the call was under way.
    Cancelled,
}

impl ProviderErrorClass {
    /// Worth trying the same provider again after a pause.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ProviderErrorClass::RateLimit
                | ProviderErrorClass::Network
                | ProviderErrorClass::Server
                | ProviderErrorClass::Timeout
                | ProviderErrorClass::BadResponse
        )
    }
}

/// Tokens one model call used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// True when the provider did not report usage and warren counted the tokens itself (the
    /// prompt estimated, the streamed deltas counted), so the figure is approximate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
}

/// Money in millionths of a US dollar, so sums are exact (`1_500_000` is $1.50).
pub type MicroUsd = u64;

/// A provider's prices per million tokens, in micro-dollars (`3_000_000` is $3 per million).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    #[serde(default)]
    pub input_per_mtok: MicroUsd,
    #[serde(default)]
    pub output_per_mtok: MicroUsd,
}

impl Price {
    /// What `usage` costs at this price, in micro-dollars, rounded up.
    pub fn cost(&self, usage: Usage) -> MicroUsd {
        // price µ$/Mtok × tokens / 1e6 = µ$
        let micro = u128::from(self.input_per_mtok) * u128::from(usage.input_tokens)
            + u128::from(self.output_per_mtok) * u128::from(usage.output_tokens);
        u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }
}

/// Formats micro-dollars for people: `$0`, `$0.0045` (under a cent: four decimals), `$1.50`.
pub fn format_usd(micro: MicroUsd) -> String {
    let usd = micro as f64 / 1_000_000.0;
    match micro {
        0 => "$0".to_owned(),
        1..10_000 => format!("${usd:.4}"),
        _ => format!("${usd:.2}"),
    }
}

/// Longest provider or agent name, in characters (unique in a workspace, ignoring ASCII case;
/// an agent's name is also its member name, so `@name` reaches it).
pub const MAX_AGENT_NAME_CHARS: usize = 64;
/// Longest agent system prompt, in bytes.
pub const MAX_PROMPT_BYTES: usize = 32 * 1024;
/// Longest question to an agent (`ask_agent`, or the `@name …` message), in bytes.
pub const MAX_ASK_BYTES: usize = 16 * 1024;
/// Most providers in an agent's chain, and most models a provider lists.
pub const MAX_CHAIN: usize = 8;
/// Steps (model calls plus tool calls) of one agent run when the agent names no limit.
pub const DEFAULT_MAX_STEPS: u32 = 20;
/// Most steps an agent may allow itself.
pub const MAX_STEPS: u32 = 200;
/// Wall-clock limit of one agent run when the agent names none, in seconds (10 minutes).
pub const DEFAULT_AGENT_WALL_SECS: u64 = 10 * 60;
/// Room messages before the question that an agent run gets as context.
pub const CONTEXT_MESSAGES: usize = 20;

/// A model provider the workspace's agents may call. The key is never here: workers read it from
/// the environment variable `key_env` where they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: Id,
    pub name: String,
    pub kind: ProviderKind,
    /// Such as `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// The environment variable holding the API key on the workers (`None`: no key, as for a
    /// local llama.cpp or Ollama).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// The models it serves, the default first (an agent may name another).
    pub models: Vec<String>,
    #[serde(default)]
    pub price: Price,
    /// The context window of its models, in tokens (for the "% of context used" figure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
    /// What the workers last reported about it (`None`: not called yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<ProviderHealth>,
    pub created_by: Id,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A provider's circuit breaker as a worker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// The last calls succeeded.
    Ok,
    /// Recent calls failed, but fewer in a row than open the breaker.
    Degraded,
    /// Calls are not sent to it until a probe succeeds (the next provider answers instead).
    CircuitOpen,
}

impl HealthState {
    /// The wire name, such as `circuit_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Degraded => "degraded",
            HealthState::CircuitOpen => "circuit_open",
        }
    }
}

/// The latest health report of a provider (`report_provider_health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderHealth {
    pub state: HealthState,
    /// The class of the last failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ProviderErrorClass>,
    /// The last failure in words (no keys, at most 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the state was reported.
    pub at: i64,
    /// The worker that reported it.
    pub worker_id: Id,
}

/// An AI agent: a member of the workspace (`member_id`, role `member` unless changed) that
/// answers `@name` in rooms and `ask_agent`, runs on workers, and acts only through its tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: Id,
    /// Also its member name.
    pub name: String,
    /// The member it acts as (tools run with this member's role).
    pub member_id: Id,
    /// Providers to try in order (the first that answers wins).
    pub providers: Vec<Id>,
    /// The model to ask for (`None`: each provider's default, its first model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The system prompt (warren adds its own rules before it: see docs/agents.md).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    /// The tools it may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolName>,
    /// Tools it calls without asking (tools that only read never ask). Every other tool call
    /// waits for a person's decision unless an "approve always" grant covers it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_approve: Vec<ToolName>,
    pub max_steps: u32,
    /// Most tokens (in + out) one run may use (`None`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Wall-clock limit of one run, in seconds.
    pub max_wall_secs: u64,
    /// A disabled agent ignores mentions and refuses `ask_agent`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    pub created_by: Id,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Agent {
    /// Whether calling `tool` needs a person's decision (before any grant is considered).
    pub fn asks_for(&self, tool: ToolName) -> bool {
        tool.changes_state() && !self.auto_approve.contains(&tool)
    }
}

/// What the server gives a worker with an agent run (`assign`): everything needed to continue
/// the run from where its stored steps end. Provider keys are not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentAssignment {
    pub agent: Agent,
    /// The agent's chain, in order, with what the worker needs to call them.
    pub providers: Vec<Provider>,
    /// The system prompt to send: warren's rules, then the agent's own prompt.
    pub system: String,
    /// The room's recent messages before the question (oldest first), as data for the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<ContextMessage>,
    /// The tools the model may call, with their JSON schemas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// The steps stored so far (empty for a new run; a resumed run continues after them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<crate::step::RunStep>,
    /// A provider test (`test_provider`): one short call to `providers[0]`, no tools.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
    /// The tool the run's first model call must call (`ask_agent`'s `tool`; the model sees
    /// its [`ToolName::model_name`]). A run whose first model call is already a stored step
    /// is not forced again; later calls choose freely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_tool: Option<ToolName>,
}

/// A room message given to an agent as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextMessage {
    /// The author's member name.
    pub author: String,
    /// True when the author is this agent (its earlier answers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_agent: bool,
    pub body: String,
    pub at: i64,
}

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// The name the model calls (`card_create`: see [`ToolName::model_name`]).
    pub name: String,
    pub description: String,
    /// A JSON schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// What an agent run adds to its [`crate::run::Run`] record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentRun {
    pub agent_id: Id,
    /// The question (the `@name …` message without the mention, or `ask_agent`'s prompt).
    pub prompt: String,
    /// The message that asked (for `@name` in a room).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Id>,
    /// The answer posted in the room once the run succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_message_id: Option<Id>,
    /// A `test_provider` run: one short call to this provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_provider_id: Option<Id>,
    /// Steps stored so far.
    #[serde(default)]
    pub steps: u32,
    /// Tokens of every model call so far.
    #[serde(default)]
    pub usage: Usage,
    /// Cost of every model call so far.
    #[serde(default)]
    pub cost: MicroUsd,
    /// Why the run waits (`paused`): "budget exhausted: …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    /// The tool `ask_agent` asked the first model call to call (never set by `@name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_tool: Option<ToolName>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_tokens_times_price_in_micro_dollars() {
        let price = Price {
            input_per_mtok: 3_000_000,
            output_per_mtok: 15_000_000,
        };
        let usage = Usage {
            input_tokens: 1_000,
            output_tokens: 100,
            counted: false,
        };
        // 1000 × 3 µ$ + 100 × 15 µ$
        assert_eq!(price.cost(usage), 4_500);
        assert_eq!(Price::default().cost(usage), 0);
    }

    #[test]
    fn transient_classes_are_the_retryable_ones() {
        assert!(ProviderErrorClass::RateLimit.is_transient());
        assert!(!ProviderErrorClass::Auth.is_transient());
        assert!(!ProviderErrorClass::BadRequest.is_transient());
        assert!(!ProviderErrorClass::Cancelled.is_transient());
    }
}
