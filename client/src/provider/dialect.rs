//! What every API dialect provides to the call driver ([`super::call`]): the HTTP request for a
//! [`ModelRequest`] ([`Built`]), how its stream is framed (SSE events or JSON lines), and a
//! [`Decode`] that turns each event into text, tool calls, usage and a finish reason on the
//! [`Turn`].

use reqwest::header::{HeaderName, HeaderValue};
use warren_protocol::agent::{ProviderErrorClass, ProviderKind};

use super::config::{ApiKey, ProviderConfig};
use super::error::{CallError, cut};
use super::request::ModelRequest;
use super::turn::Turn;
use super::{anthropic, gemini, ollama, openai};

/// The HTTP request of one call.
pub struct Built {
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: serde_json::Value,
}

/// How the answer's body is cut into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-Sent Events: `(event name, data)` pairs.
    Sse,
    /// One JSON object a line (the event name is empty).
    JsonLines,
}

/// Turns one event of the stream into the turn.
pub trait Decode: Send {
    fn feed(&mut self, event: &str, data: &str, turn: &mut Turn<'_>) -> Result<(), CallError>;
}

/// A dialect's parts for one call.
pub struct Dialect {
    pub framing: Framing,
    /// One streamed piece ≈ one token (for counting usage the provider did not report).
    pub deltas_are_tokens: bool,
    pub decoder: Box<dyn Decode>,
}

impl Dialect {
    pub fn of(kind: ProviderKind) -> Dialect {
        match kind {
            ProviderKind::Openai => Dialect {
                framing: Framing::Sse,
                deltas_are_tokens: true,
                decoder: Box::new(openai::Decoder),
            },
            ProviderKind::Anthropic => Dialect {
                framing: Framing::Sse,
                deltas_are_tokens: false,
                decoder: Box::new(anthropic::Decoder),
            },
            ProviderKind::Gemini => Dialect {
                framing: Framing::Sse,
                deltas_are_tokens: false,
                decoder: Box::new(gemini::Decoder::default()),
            },
            ProviderKind::Ollama => Dialect {
                framing: Framing::JsonLines,
                deltas_are_tokens: true,
                decoder: Box::new(ollama::Decoder::default()),
            },
        }
    }
}

/// The request of `kind` for `request` to `config`.
pub fn build(
    config: &ProviderConfig,
    key: Option<&ApiKey>,
    request: &ModelRequest,
) -> Result<Built, CallError> {
    match config.kind {
        ProviderKind::Openai => openai::build(config, key, request),
        ProviderKind::Anthropic => anthropic::build(config, key, request),
        ProviderKind::Gemini => gemini::build(config, key, request),
        ProviderKind::Ollama => ollama::build(config, key, request),
    }
}

/// A header whose value is a secret: marked sensitive, so reqwest and hyper never print it.
pub fn secret_header(
    name: &'static str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), CallError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        CallError::new(
            ProviderErrorClass::Auth,
            "the provider's key holds characters a header cannot carry; check the key in its \
             environment variable on the worker",
        )
    })?;
    value.set_sensitive(true);
    Ok((HeaderName::from_static(name), value))
}

/// A header whose value is plain text.
pub fn header(name: &'static str, value: &'static str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// A streamed event that does not parse as the dialect's JSON.
pub fn unparsable(data: &str, error: &serde_json::Error) -> CallError {
    CallError::new(
        ProviderErrorClass::BadResponse,
        format!(
            "a streamed event does not parse ({error}): {}",
            cut(data, 120)
        ),
    )
}

/// The arguments of an earlier tool call as a JSON value (the dialects that want an object):
/// what the model wrote when it parses, else an empty object.
pub fn arguments_value(arguments: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(value @ serde_json::Value::Object(_)) => value,
        _ => serde_json::json!({}),
    }
}

/// The class of an error a provider sends inside a stream, from its type or code.
pub fn class_of_error_type(kind: &str) -> ProviderErrorClass {
    let kind = kind.to_ascii_lowercase();
    if kind.contains("rate") || kind.contains("quota") || kind.contains("resource_exhausted") {
        ProviderErrorClass::RateLimit
    } else if kind.contains("auth") || kind.contains("permission") || kind.contains("api_key") {
        ProviderErrorClass::Auth
    } else if kind.contains("invalid_request") || kind.contains("invalid_argument") {
        ProviderErrorClass::BadRequest
    } else {
        ProviderErrorClass::Server
    }
}
