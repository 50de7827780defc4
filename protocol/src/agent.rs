//! Wire types of model providers and agent runs (issue #9): which API a provider speaks, token
//! usage and prices, and how a failed model call is classified. The agent records, steps and
//! frames build on these.

use serde::{Deserialize, Serialize};

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

/// A provider's prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
}

/// Money in millionths of a US dollar, so sums are exact.
pub type MicroUsd = u64;

impl Price {
    /// What `usage` costs at this price, rounded up to the next micro-dollar.
    pub fn cost(&self, usage: Usage) -> MicroUsd {
        // usd_per_mtok × tokens / 1e6 usd = usd_per_mtok × tokens micro-usd
        let micro = self.input_usd_per_mtok * usage.input_tokens as f64
            + self.output_usd_per_mtok * usage.output_tokens as f64;
        if micro.is_finite() && micro > 0.0 {
            micro.ceil() as MicroUsd
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_tokens_times_price_in_micro_dollars() {
        let price = Price {
            input_usd_per_mtok: 3.0,
            output_usd_per_mtok: 15.0,
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
