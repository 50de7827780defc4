//! Answering `account` requests (managing API tokens and invites) on a connection: the work runs on the
//! blocking pool, the answer carries a new token's secret once, and a revoked or rotated token's
//! live connections are told to re-check it.

use warren_protocol::account::{AccountOp, AccountResult, TokenInfo, TokenScope};
use warren_protocol::{Change, ErrorCode, RequestId, ServerMessage};

use super::Conn;
use crate::service::tokens::{self, Caller};
use crate::service::{ApplyError, now_ms};

impl Conn {
    pub(super) async fn account(&mut self, request_id: RequestId, op: AccountOp) {
        if let AccountOp::AddBot {
            workspace_id,
            name,
            scope,
        } = op
        {
            return self.add_bot(request_id, workspace_id, name, scope).await;
        }
        if let AccountOp::CreateWorkspace { name } = op {
            return self.create_workspace(request_id, name).await;
        }
        let store = self.app.store.clone();
        let (user, token, from) = (self.user.clone(), self.token.clone(), self.from);
        let done = tokio::task::spawn_blocking(move || {
            if matches!(
                op,
                AccountOp::CreateInvite { .. }
                    | AccountOp::ListInvites { .. }
                    | AccountOp::RevokeInvite { .. }
            ) {
                return crate::service::invites::apply(
                    &store,
                    &user.id,
                    (token.scope, from),
                    &op,
                    now_ms(),
                )
                .map(|result| tokens::Done {
                    result,
                    changed: Vec::new(),
                });
            }
            let caller = Caller {
                user: &user,
                token: &token,
                from,
            };
            tokens::apply(&store, &caller, &op, now_ms())
        })
        .await;
        match done {
            Ok(Ok(done)) => {
                for id in done.changed {
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
                    ErrorCode::Internal,
                    "the server could not make a token; try again",
                )
                .await;
            }
            Err(e) => {
                tracing::error!(error = %e, "an account request task failed");
                self.error(
                    Some(request_id),
                    ErrorCode::Internal,
                    "the server could not answer; try again",
                )
                .await;
            }
        }
    }
}

impl Conn {
    /// `add_bot`: through the writer, since it adds a member (an event) to the workspace.
    async fn add_bot(
        &mut self,
        request_id: RequestId,
        workspace: warren_protocol::Id,
        name: String,
        scope: TokenScope,
    ) {
        let answer = self
            .writer
            .add_bot(
                self.user.id.clone(),
                self.token.scope,
                workspace,
                request_id.clone(),
                (name, scope),
            )
            .await;
        match answer {
            Ok(applied) => {
                let (Change::MemberAdded { member }, Some(minted)) =
                    (&applied.event.change, applied.minted.as_ref())
                else {
                    return self
                        .error(
                            Some(request_id),
                            ErrorCode::Conflict,
                            "this request id already added a bot; its token was shown then — \
                             mint another with create_token for that bot",
                        )
                        .await;
                };
                let token = TokenInfo {
                    id: minted.record.id.clone(),
                    user_id: minted.record.user_id.clone(),
                    name: minted.record.label.clone(),
                    scope: minted.record.scope,
                    created_at: minted.record.created_at,
                    expires_at: minted.record.expires_at,
                    current: false,
                    last_used_at: None,
                };
                self.send(&ServerMessage::AccountResult {
                    request_id,
                    result: AccountResult::BotAdded {
                        member: member.clone(),
                        token,
                        secret: minted.token.clone(),
                    },
                })
                .await;
            }
            Err(e) => self.error(Some(request_id), e.code, &e.message).await,
        }
    }
}

impl Conn {
    /// `create_workspace`: through the writer, which starts the new workspace's event stream.
    async fn create_workspace(&mut self, request_id: RequestId, name: String) {
        if self.token.scope != TokenScope::Full {
            return self
                .error(
                    Some(request_id),
                    ErrorCode::Forbidden,
                    &warren_protocol::permission::scope_denial(
                        self.token.scope,
                        "create_workspace",
                    ),
                )
                .await;
        }
        let workspace = match crate::auth::new_id("ws") {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "no randomness for a workspace id");
                return self
                    .error(Some(request_id), ErrorCode::Internal, "try again")
                    .await;
            }
        };
        let answer = self
            .writer
            .create_workspace(self.user.id.clone(), workspace, request_id.clone(), name)
            .await;
        match answer {
            Ok(applied) => {
                let Change::WorkspaceCreated { workspace } = &applied.event.change else {
                    return self
                        .error(Some(request_id), ErrorCode::Internal, "unexpected event")
                        .await;
                };
                self.send(&ServerMessage::AccountResult {
                    request_id,
                    result: AccountResult::WorkspaceCreated {
                        workspace: workspace.clone(),
                    },
                })
                .await;
            }
            Err(e) => self.error(Some(request_id), e.code, &e.message).await,
        }
    }
}
