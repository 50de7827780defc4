//! A failed model call ([`CallError`]) and how failures are classified: an HTTP status with its
//! error body and `Retry-After`, a transport failure, a stream that does not parse. Messages are
//! short (cut to [`MESSAGE_CHARS`]), say which provider, and never hold a key: every message is
//! scrubbed of the key before it leaves the call.

use std::time::Duration;

use warren_protocol::agent::ProviderErrorClass;

use super::request::Completion;

/// The longest message kept from a provider's error body.
pub const MESSAGE_CHARS: usize = 300;

/// Why a model call failed, how long the provider asked to wait, and what had streamed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CallError {
    pub class: ProviderErrorClass,
    /// For people: the provider, what happened, and what to do where there is something to do.
    pub message: String,
    /// The wait the provider asked for (`Retry-After`, `retry-after-ms`).
    pub retry_after: Option<Duration>,
    /// What streamed before the failure (marked partial by the agent loop), when anything did.
    /// Boxed: errors travel through many `Result`s and a completion is large.
    pub partial: Option<Box<Completion>>,
}

impl CallError {
    pub fn new(class: ProviderErrorClass, message: impl Into<String>) -> CallError {
        CallError {
            class,
            message: cut(&message.into(), MESSAGE_CHARS),
            retry_after: None,
            partial: None,
        }
    }

    /// The run was cancelled.
    pub fn cancelled() -> CallError {
        CallError::new(ProviderErrorClass::Cancelled, "cancelled")
    }

    /// Whether text had reached the screens before the failure (so it must not be retried).
    pub fn delivered_text(&self) -> bool {
        self.partial.as_ref().is_some_and(|p| !p.text.is_empty())
    }
}

/// The class of an HTTP status that is not a success.
pub fn class_of_status(status: u16) -> ProviderErrorClass {
    match status {
        429 => ProviderErrorClass::RateLimit,
        401 | 403 => ProviderErrorClass::Auth,
        408 => ProviderErrorClass::Timeout,
        500..=599 => ProviderErrorClass::Server,
        _ => ProviderErrorClass::BadRequest,
    }
}

/// What to tell people for a refused request: the status, the provider's own message when its
/// error body has one (`{"error": {"message": …}}`, `{"error": "…"}`, `{"message": …}`), else
/// the start of the body.
pub fn status_message(provider: &str, status: u16, body: &str) -> String {
    let reason = http_reason(status);
    let detail = body_message(body).unwrap_or_else(|| body.trim().to_string());
    let hint = match class_of_status(status) {
        ProviderErrorClass::Auth => {
            " (check the key in the provider's environment variable on the worker)"
        }
        _ => "",
    };
    if detail.is_empty() {
        format!("provider {provider}: HTTP {status} {reason}{hint}")
    } else {
        format!("provider {provider}: HTTP {status} {reason}{hint}: {detail}")
    }
}

/// The provider's own message in an error body, in any of the shapes the dialects use.
pub fn body_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let value = match &value {
        // Gemini answers a refused streamGenerateContent with an array of one error.
        serde_json::Value::Array(items) => items.first()?.clone(),
        _ => value,
    };
    let error = value.get("error").unwrap_or(&value);
    if let Some(text) = error.as_str() {
        return Some(text.to_string());
    }
    error
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_string)
}

fn http_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "",
    }
}

/// The wait a refusal asks for: `retry-after-ms` (OpenAI), else `Retry-After` as seconds or as
/// an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), counted from `now`.
pub fn retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: jiff::Timestamp,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_millis(ms.ceil() as u64));
    }
    let value = retry_after?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A transport failure of reqwest, classified.
pub fn transport(provider: &str, error: &reqwest::Error) -> CallError {
    let class = if error.is_timeout() {
        ProviderErrorClass::Timeout
    } else {
        ProviderErrorClass::Network
    };
    // The innermost cause says most (connection refused, reset by peer); reqwest's own text
    // carries the URL, which holds no key in any dialect (keys travel in headers).
    let mut cause = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(err) = source {
        cause = err.to_string();
        source = err.source();
    }
    CallError::new(class, format!("provider {provider}: {cause}"))
}

/// `text` cut to at most `max` characters, marked with `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// `text` with every occurrence of `secret` replaced (a provider that echoes the key in an
/// error must not put it in our messages).
pub fn scrub(text: &str, secret: &str) -> String {
    if secret.len() < 4 || !text.contains(secret) {
        return text.to_string();
    }
    text.replace(secret, "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert_eq!(class_of_status(429), ProviderErrorClass::RateLimit);
        assert_eq!(class_of_status(401), ProviderErrorClass::Auth);
        assert_eq!(class_of_status(403), ProviderErrorClass::Auth);
        assert_eq!(class_of_status(500), ProviderErrorClass::Server);
        assert_eq!(class_of_status(503), ProviderErrorClass::Server);
        assert_eq!(class_of_status(529), ProviderErrorClass::Server);
        assert_eq!(class_of_status(400), ProviderErrorClass::BadRequest);
        assert_eq!(class_of_status(404), ProviderErrorClass::BadRequest);
        assert_eq!(class_of_status(422), ProviderErrorClass::BadRequest);
        assert_eq!(class_of_status(408), ProviderErrorClass::Timeout);
    }

    #[test]
    fn error_bodies_of_every_dialect_give_their_message() {
        let openai = r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#;
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let gemini =
            r#"[{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}]"#;
        let ollama = r#"{"error":"model \"x\" not found, try pulling it first"}"#;
        assert_eq!(body_message(openai).as_deref(), Some("Rate limit reached"));
        assert_eq!(body_message(anthropic).as_deref(), Some("Overloaded"));
        assert_eq!(body_message(gemini).as_deref(), Some("API key not valid"));
        assert!(body_message(ollama).is_some_and(|m| m.starts_with("model")));
        assert_eq!(body_message("<html>bad gateway</html>"), None);
        let message = status_message("groq", 401, r#"{"error":{"message":"Invalid API Key"}}"#);
        assert!(
            message.starts_with("provider groq: HTTP 401 Unauthorized"),
            "{message}"
        );
        assert!(message.ends_with("Invalid API Key"), "{message}");
        assert_eq!(
            status_message("p", 502, ""),
            "provider p: HTTP 502 Bad Gateway"
        );
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-12-05T14:00:00Z".parse().expect("timestamp");
        assert_eq!(
            retry_after(None, Some("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(None, Some("0.5"), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            retry_after(Some("1500"), Some("3"), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(None, Some("Sat, 05 Dec 2026 14:00:07 GMT"), now),
            Some(Duration::from_secs(7))
        );
        // A date in the past: go now.
        assert_eq!(
            retry_after(None, Some("Sat, 05 Dec 2026 13:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(None, Some("soon"), now), None);
        assert_eq!(retry_after(None, Some("-1"), now), None);
        assert_eq!(retry_after(None, None, now), None);
    }

    #[test]
    fn messages_are_cut_and_scrubbed() {
        let long = "é".repeat(1000);
        let error = CallError::new(ProviderErrorClass::Server, long);
        assert_eq!(error.message.chars().count(), MESSAGE_CHARS + 1);
        assert!(error.message.ends_with('…'));
        assert_eq!(cut("short", 300), "short");
        assert_eq!(
            scrub(
                "Incorrect API key provided: sk-abc123. Check it",
                "sk-abc123"
            ),
            "Incorrect API key provided: ***. Check it"
        );
    }
}
