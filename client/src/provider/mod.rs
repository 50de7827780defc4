//! Model providers (issue #9): the HTTP clients an agent run's worker uses to call a language
//! model, with the provider's key read from the worker's own environment.
//!
//! - [`config`]: what a provider is (`ProviderConfig`) and how its key is read.
//! - [`request`]: what is asked ([`ModelRequest`], [`ChatMessage`], [`ToolSpec`]) and what comes
//!   back ([`Completion`], [`ToolCall`]).
//! - [`error`]: [`CallError`] and how HTTP answers and transport failures are classified.
//! - [`call`]: one streamed call to one provider ([`Provider::stream`]): timeouts, cancel, the
//!   stream decoded by its dialect ([`openai`], [`anthropic`], [`ollama`], [`gemini`]) into a
//!   [`turn::Turn`], usage counted when the provider reports none ([`count`]).
//! - [`backoff`]: exponential backoff with full jitter and `Retry-After`.
//! - [`breaker`]: one circuit breaker per provider, shared by every call of the process.
//! - [`chain`]: [`Chain::call`], the fallback chain the agent loop uses.

pub mod anthropic;
pub mod backoff;
pub mod breaker;
pub mod call;
pub mod cancel;
pub mod chain;
pub mod config;
pub mod count;
pub mod dialect;
pub mod error;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod request;
#[cfg(test)]
mod stream_tests;
pub mod turn;

pub use backoff::RetryPolicy;
pub use breaker::{BreakerPolicy, Breakers, Health, HealthState};
pub use call::{Provider, Timeouts};
pub use cancel::Cancel;
pub use chain::{Attempt, Chain, ChainOutcome, ChainSettings};
pub use config::ProviderConfig;
pub use error::CallError;
pub use request::{
    ChatMessage, Completion, FinishReason, ModelRequest, ToolCall, ToolChoice, ToolSpec,
};
