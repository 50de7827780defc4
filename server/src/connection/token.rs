//! The connection's token while it is open: a revoked token closes its connections at once, and
//! a token with an expiry (set at creation, or by a rotation's grace period) closes them when it
//! ends. Token changes arrive as ids on [`App::token_changes`]; a connection using that token
//! reads it again from the store.

use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use warren_protocol::Id;

use crate::app::App;
use crate::store::read;
use crate::store::records::TokenRecord;

/// Close code for a connection whose token was revoked or expired (application range 4000–4999).
pub const CLOSE_TOKEN: u16 = 4001;

/// What a token change means for this connection.
pub enum Recheck {
    Keep,
    /// The token now ends at this time (ms since the epoch).
    Expires(i64),
    Revoked,
}

/// Re-reads this connection's token if `changed` may concern it (a missed notice counts).
pub async fn recheck(app: &App, token: &TokenRecord, changed: Result<Id, RecvError>) -> Recheck {
    match changed {
        Ok(id) if id != token.id => return Recheck::Keep,
        Err(RecvError::Closed) => return Recheck::Keep,
        Ok(_) | Err(RecvError::Lagged(_)) => {}
    }
    let id = token.id.clone();
    match app
        .read(move |s| read::token(&s.begin_read()?, id.as_str()))
        .await
    {
        Ok(None) => Recheck::Revoked,
        Ok(Some(record)) => record.expires_at.map_or(Recheck::Keep, Recheck::Expires),
        // Unreadable store: keep serving; the next request will fail on its own.
        Err(_) => Recheck::Keep,
    }
}

/// When a token that ends at `expires_at` (ms since the epoch) stops, as a tokio instant.
pub fn deadline(expires_at: Option<i64>) -> Option<Instant> {
    let at = expires_at?;
    let left = at.saturating_sub(crate::service::now_ms()).max(0);
    Some(Instant::now() + std::time::Duration::from_millis(left.unsigned_abs()))
}

/// Sleeps until `at`, or forever without one.
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
