//! Stored records that never travel on the wire as they are.

use serde::{Deserialize, Serialize};
use warren_protocol::Id;

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
}
