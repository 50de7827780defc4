//! Answering `account` requests (managing API tokens) on a connection: the work runs on the
//! blocking pool, the answer carries a new token's secret once, and a revoked or rotated token's
//! live connections are told to re-check it.

use warren_protocol::account::AccountOp;
use warren_protocol::{RequestId, ServerMessage};

use super::Conn;
use crate::service::tokens::{self, Caller};
use crate::service::{ApplyError, now_ms};

impl Conn {
    pub(super) async fn account(&mut self, request_id: RequestId, op: AccountOp) {
        let store = self.app.store.clone();
        let (user, token) = (self.user.clone(), self.token.clone());
        let done = tokio::task::spawn_blocking(move || {
            let caller = Caller {
                user: &user,
                token: &token,
            };
            tokens::apply(&store, &caller, &op, now_ms())
        })
        .await;
        match done {
            Ok(Ok(done)) => {
                if let Some(id) = done.changed {
                    // Nobody listening is fine: no connection uses that token.
                    let _ = self.app.token_changes.send(id);
                }
                self.send(&ServerMessage::AccountResult {
                    request_id,
                    result: done.result,
                })
                .await;
            }
            Ok(Err(ApplyError::Rejected(e))) => {
                self.error(Some(request_id), e.code, &e.message).await;
            }
            Ok(Err(ApplyError::Store(e))) => self.internal(Some(request_id), &e).await,
            Ok(Err(ApplyError::Random(e))) => {
                tracing::error!(error = %e, "no randomness for a token");
                self.error(
                    Some(request_id),
                    warren_protocol::ErrorCode::Internal,
                    "the server could not make a token; try again",
                )
                .await;
            }
            Err(e) => {
                tracing::error!(error = %e, "an account request task failed");
                self.error(
                    Some(request_id),
                    warren_protocol::ErrorCode::Internal,
                    "the server could not answer; try again",
                )
                .await;
            }
        }
    }
}
