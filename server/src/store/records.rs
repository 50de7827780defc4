//! Stored records that never travel on the wire as they are.

use serde::{Deserialize, Serialize};
use warren_protocol::Id;
use warren_protocol::account::TokenScope;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Id,
    pub name: String,
    pub created_at: i64,
}

/// An API token. Only the SHA-256 of its secret part is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: Id,
    pub user_id: Id,
    pub label: String,
    /// Lowercase hex SHA-256 of the secret part of the token.
    pub secret_sha256: String,
    pub created_at: i64,
    /// What the token may be used for (tokens from before scopes are full).
    #[serde(default)]
    pub scope: TokenScope,
    /// When the token stops working, in ms since the epoch; `None` for never.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// When a connection last signed in with it, to the minute (see `service::tokens::touch`).
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// An invitation to a workspace. Only the SHA-256 of its code's secret part is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRecord {
    pub id: Id,
    pub workspace_id: Id,
    pub role: warren_protocol::Role,
    pub created_by: Id,
    pub created_at: i64,
    pub expires_at: i64,
    /// How many people it may let in, in all.
    pub uses: u32,
    /// How many it has let in.
    pub used: u32,
    /// When it was revoked; `None` while it is not.
    pub revoked_at: Option<i64>,
    /// Lowercase hex SHA-256 of the secret part of the code.
    pub secret_sha256: String,
}

/// A worker (bot) as its last `worker_hello` described it, for `worker list` when it is not
/// connected (its live state comes from the registry in `crate::runs::workers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRecord {
    pub user_id: Id,
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub concurrency: u32,
    /// Its last hello, heartbeat or goodbye, in ms since the epoch.
    pub last_seen: i64,
    #[serde(default)]
    pub version: String,
}
