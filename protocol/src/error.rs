//! Structured errors: a stable machine code plus a human message that says what to do next.

use serde::{Deserialize, Serialize};

/// Stable error codes. Clients branch on the code; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not JSON, or not a JSON object. The connection stays open.
    BadFrame,
    /// The frame is binary; the protocol is JSON text frames only.
    BinaryFrame,
    /// The `type` field is missing or names no message this server knows.
    UnknownType,
    /// A field is missing, has the wrong type, or is not allowed.
    InvalidField,
    /// An id does not have the `prefix_body` form.
    InvalidId,
    /// The frame is larger than the server's `max_frame_bytes`.
    FrameTooLarge,
    /// The token is missing, unknown or revoked. Sent as an HTTP 401 body before any upgrade.
    Unauthorized,
    /// The client speaks a protocol version the server does not.
    UnsupportedProtocol,
    /// `hello` must be the first message.
    HelloRequired,
    /// The command needs a workspace and none was named or subscribed.
    NoWorkspace,
    /// The named entity does not exist (or was deleted).
    NotFound,
    /// The change conflicts with current state (a duplicate name or id, say).
    Conflict,
    /// A value is out of range: empty title, too-long name, and so on.
    Validation,
    /// The user may not do this (editing someone else's message, say).
    Forbidden,
    /// The server is shutting down; reconnect later.
    ShuttingDown,
    /// Something failed inside the server. Nothing was applied; retry with the same request id.
    Internal,
    /// The server's disk is full. Nothing was applied; retry with the same request id once an
    /// operator has freed space (`/healthz` says `degraded` until then).
    StorageFull,
    /// The server holds as many connections as it allows (from this address or in total). Sent
    /// as an HTTP 503 body before any upgrade.
    TooManyConnections,
    /// The invite is known but can no longer be used: expired, used up or revoked (the message
    /// says which). Sent as an HTTP 410 body by `POST /join`; ask for a new invite.
    InviteUnusable,
    /// Too many failed authentications (bad tokens, wrong invite codes) came from this address
    /// recently. Sent as an HTTP 429 body with a `Retry-After` header (seconds); every
    /// authentication from the address is refused until then.
    AuthRateLimited,
    /// The token (or, for connections, the address) sent requests or opened connections faster
    /// than the server allows. Nothing was applied; wait `retry_after_ms` and re-send with the
    /// **same** request id (an HTTP 429 body, with a `Retry-After` header, for connections).
    RateLimited,
    /// A budget of the agent run is spent: the model call was not made and the run is `paused`
    /// until an admin raises the budget (`set_budget`).
    BudgetExhausted,
}

impl ErrorCode {
    /// The wire name, such as `bad_frame`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::BinaryFrame => "binary_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UnsupportedProtocol => "unsupported_protocol",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::NoWorkspace => "no_workspace",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Validation => "validation",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Internal => "internal",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::InviteUnusable => "invite_unusable",
            ErrorCode::AuthRateLimited => "auth_rate_limited",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BudgetExhausted => "budget_exhausted",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as it travels on the wire (inside `error` messages and HTTP error bodies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(deny_unknown_fields)]
#[error("{code}: {message}")]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    /// With `rate_limited`: how long to wait before re-sending, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl WireError {
    /// Builds an error from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same error, saying how long to wait before re-sending (`rate_limited`).
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}
