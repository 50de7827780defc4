//! `POST /join`: a newcomer uses an invite code. Without a token it makes a user (whose name
//! must be free on the server) and their first token; with `Authorization: Bearer` it adds the
//! signed-in user to the invite's workspace. The change goes through the writer
//! ([`crate::writer::WriteOp::Join`]). A wrong code or a bad token counts as a failed
//! authentication of the address ([`crate::auth_limit`]); the code itself is never logged.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use warren_protocol::account::TokenScope;
use warren_protocol::invite::{JoinRequest, Joined, JoinedUser};
use warren_protocol::{Change, ErrorCode, WireError, Workspace};

use crate::app::App;
use crate::gate::Refused;
use crate::http::{error_response, too_many_failures};
use crate::listen::Overflow;
use crate::refusals;
use crate::service::invites::{self, Joiner};
use crate::service::workspace::authenticate;
use crate::store::read::get_json;
use crate::store::tables::WORKSPACES;

/// Largest `POST /join` body read, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

/// The `POST /join` handler.
pub async fn join(
    State(app): State<Arc<App>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    overflow: Option<Extension<Overflow>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if overflow.is_some() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TooManyConnections,
            Refused::Total.message(),
        );
    }
    if let Some(wait) = app.failed_auths.blocked(ip) {
        app.refusals.record(ip);
        return too_many_failures(&app, wait);
    }
    if *app.shutdown.borrow() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "the server is shutting down; try again in a moment",
        );
    }
    if body.len() > MAX_BODY {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::FrameTooLarge,
            "the join request is too large; send {\"invite\": \"wri_...\", \"name\": \"...\"}",
        );
    }
    let request: JoinRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidField,
                &format!(
                    "the body must be JSON like {{\"invite\": \"wri_...\", \"name\": \"...\"}} ({e})"
                ),
            );
        }
    };
    let failed = |why: &str| {
        if app.refusals.record(ip) {
            tracing::warn!(
                "refused a join from {} ({why}); more from it are counted",
                refusals::describe(ip)
            );
        }
        app.failed_auths.failed(ip)
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let bearer_copy = bearer.clone();
    let joiner = match bearer {
        Some(token) => {
            let store = app.store.clone();
            match tokio::task::spawn_blocking(move || authenticate(&store, &token)).await {
                Ok(Ok(Some((user, token)))) => {
                    if token.scope != TokenScope::Full {
                        return error_response(
                            StatusCode::FORBIDDEN,
                            ErrorCode::Forbidden,
                            &warren_protocol::permission::scope_denial(token.scope, "join"),
                        );
                    }
                    Joiner::Existing { id: user.id }
                }
                Ok(Ok(None)) => {
                    crate::audit::failed_auth::refused(&app, ip, bearer_copy.clone()).await;
                    if let Some(wait) = failed("unknown or revoked token") {
                        return too_many_failures(&app, wait);
                    }
                    return error_response(
                        StatusCode::UNAUTHORIZED,
                        ErrorCode::Unauthorized,
                        "the token is unknown, revoked or expired; join without it to make a new \
                         user, or sign in again ('warren login')",
                    );
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "token check failed");
                    return internal();
                }
                Err(_) => return internal(),
            }
        }
        None => {
            let Some(name) = request.name.clone().filter(|n| !n.trim().is_empty()) else {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::Validation,
                    "give the name you want here: \"name\" in the body ('warren join --name NAME')",
                );
            };
            match crate::auth::new_id("usr") {
                Ok(id) => Joiner::New { id, name },
                Err(e) => {
                    tracing::error!(error = %e, "no randomness for a user id");
                    return internal();
                }
            }
        }
    };
    let store = app.store.clone();
    let code = request.invite;
    let found = tokio::task::spawn_blocking(move || invites::find(&store, &code)).await;
    let (invite, secret) = match found {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => {
            crate::audit::failed_auth::refused_invite(&app, ip).await;
            if let Some(wait) = failed("not a valid invite code") {
                return too_many_failures(&app, wait);
            }
            return error_response(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                invites::NOT_VALID,
            );
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "invite lookup failed");
            return internal();
        }
        Err(_) => return internal(),
    };
    let answer = app
        .writer
        .with_source(crate::audit::Source::peer(ip))
        .join(
            invite.workspace_id.clone(),
            invite.id.clone(),
            secret,
            joiner,
        )
        .await;
    let applied = match answer {
        Ok(applied) => applied,
        Err(e) => return wire_error(&e),
    };
    let Change::MemberAdded { member } = &applied.event.change else {
        return internal();
    };
    let workspace_id = invite.workspace_id.clone();
    let workspace = app
        .read(move |store| {
            let txn = store.begin_read()?;
            get_json::<_, Workspace>(
                &txn.open_table(WORKSPACES)?,
                "workspaces",
                workspace_id.as_str(),
            )
        })
        .await;
    let Ok(Some(workspace)) = workspace else {
        return internal();
    };
    tracing::info!(
        user = %member.user_id,
        workspace = %workspace.id,
        invite = %invite.id,
        new_user = applied.minted.is_some(),
        "joined with an invite"
    );
    axum::Json(Joined {
        user: JoinedUser {
            id: member.user_id.clone(),
            name: member.name.clone(),
        },
        workspace,
        role: member.role,
        token: applied.minted.as_ref().map(|m| m.token.clone()),
    })
    .into_response()
}

fn internal() -> Response {
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "the server could not answer; nothing was changed; try again",
    )
}

/// The HTTP status for an error the writer answered a join with.
fn wire_error(e: &WireError) -> Response {
    let status = match e.code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InviteUnusable => StatusCode::GONE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Validation | ErrorCode::InvalidField => StatusCode::BAD_REQUEST,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::ShuttingDown | ErrorCode::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_response(status, e.code, &e.message)
}
