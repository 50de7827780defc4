//! HTTP routes: `GET /healthz` and `GET /metrics` without auth, `GET /ws`, which checks the bearer
//! token before it upgrades to a WebSocket, and `POST /join` ([`crate::join`]). An address with
//! too many failed authentications gets 429 on both until it may try again
//! ([`crate::auth_limit`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use warren_protocol::account::TokenScope;
use warren_protocol::limits::MAX_FRAME_HARD;
use warren_protocol::{ErrorCode, WireError};

use crate::app::App;
use crate::audit::failed_auth;
use crate::gate::Refused;
use crate::listen::Overflow;
use crate::service::workspace::authenticate;
use crate::{connection, refusals};

/// The router of the server.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(websocket))
        .route("/metrics", get(crate::metrics::serve_metrics))
        .route("/join", post(crate::join::join))
        .with_state(app)
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let degraded = app.health.degraded();
    let status = if *app.shutdown.borrow() {
        "shutting_down"
    } else if degraded.is_some() {
        "degraded"
    } else {
        "ok"
    };
    let mut body = serde_json::json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": warren_protocol::PROTOCOL_VERSION,
        "connections": app.connections.count(),
    });
    if let Some(d) = degraded {
        body["code"] = d.code.into();
        body["reason"] = d.reason.into();
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    axum::Json(body).into_response()
}

/// An error answer to an HTTP request. The connection is closed after it (no keep-alive), so a
/// refused peer cannot park on the socket.
pub(crate) fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (
        status,
        [(header::CONNECTION, "close")],
        axum::Json(WireError::new(code, message)),
    )
        .into_response()
}

/// The answer to an address that must wait before it may authenticate again: 429 with
/// `Retry-After` (whole seconds) and the wait in words; counted in `warren_rate_limited_total`.
pub(crate) fn too_many_failures(app: &App, wait: std::time::Duration) -> Response {
    app.metrics
        .rate_limited
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::AuthRateLimited,
        &crate::auth_limit::message(wait),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(crate::auth_limit::retry_after_secs(wait)),
    );
    response
}

/// HTTP 429 for a connection over a rate limit: `Retry-After` in whole seconds, and the wait in
/// milliseconds in the body (`retry_after_ms`).
fn rate_limited_response(error: &WireError) -> Response {
    let secs = crate::rate_limit::retry_after_secs(error.retry_after_ms.unwrap_or(1000));
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONNECTION, "close".to_owned()),
            (header::RETRY_AFTER, secs.to_string()),
        ],
        axum::Json(error.clone()),
    )
        .into_response()
}

/// Read buffer of an upgraded socket. Our frames are small; a larger one is read in several
/// chunks. tungstenite's default (128 KiB, allocated up front) was most of an idle
/// connection's memory.
pub const WS_READ_BUFFER: usize = 4 * 1024;
/// Read buffer of a socket signed in with a `runs`-scoped token (what `warren worker add` makes):
/// workers send log chunks of up to 64 KiB of text, which the 4 KiB buffer would read in 20–30
/// pieces (one `recv` each). Such connections are few, so the memory is no concern.
pub const WS_READ_BUFFER_WORKER: usize = 64 * 1024;
/// Bytes collected before a write goes to the socket; every frame is flushed right away anyway.
pub const WS_WRITE_BUFFER: usize = 4 * 1024;

async fn websocket(
    State(app): State<Arc<App>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    overflow: Option<Extension<Overflow>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if overflow.is_some() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TooManyConnections,
            Refused::Total.message(),
        );
    }
    if let Some(ip) = ip
        && let Err(limited) = app.rates.connection_from(ip)
    {
        return rate_limited_response(&limited);
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    if let Some(wait) = app.failed_auths.blocked(ip) {
        app.refusals.record(ip);
        return too_many_failures(&app, wait);
    }
    let Some(token) = presented else {
        if app.refusals.record(ip) {
            tracing::warn!(
                "refused authentication from {} (no token); more from it are counted",
                refusals::describe(ip)
            );
        }
        failed_auth::refused(&app, ip, None).await;
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "no token: send 'Authorization: Bearer wrn_...' (warren login --server URL --token TOKEN)",
        );
    };
    let store = app.store.clone();
    let presented = token.clone();
    let user = tokio::task::spawn_blocking(move || {
        let found = authenticate(&store, &token)?;
        if let Some((_, record)) = &found {
            // Only bookkeeping: a store that cannot take the write (full disk) still signs in.
            if let Err(e) = crate::service::tokens::touch(&store, record, crate::service::now_ms())
            {
                tracing::warn!(error = %e, "could not record a token's last use");
            }
        }
        Ok::<_, crate::store::StoreError>(found)
    })
    .await;
    let user = match user {
        Ok(Ok(Some(user))) => user,
        Ok(Ok(None)) => {
            if app.refusals.record(ip) {
                tracing::warn!(
                    "refused authentication from {} (unknown or revoked token); more from it are counted",
                    refusals::describe(ip)
                );
            }
            failed_auth::refused(&app, ip, Some(presented)).await;
            if let Some(wait) = app.failed_auths.failed(ip) {
                return too_many_failures(&app, wait);
            }
            return error_response(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "the token is unknown, revoked or expired; ask an admin for a new one ('warren token create --user NAME')",
            );
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "token check failed");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "the server could not check the token; try again",
            );
        }
        Err(_) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "the server could not check the token; try again",
            );
        }
    };
    if let Err(limited) = app.rates.connection_with(&user.1.id) {
        tracing::debug!(user = %user.0.id, "a token opened connections too fast");
        return rate_limited_response(&limited);
    }
    if *app.shutdown.borrow() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "the server is shutting down; reconnect in a moment",
        );
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadFrame,
                &format!("this endpoint speaks WebSocket only: {rejection}"),
            );
        }
    };
    let read_buffer = if user.1.scope == TokenScope::Runs {
        WS_READ_BUFFER_WORKER
    } else {
        WS_READ_BUFFER
    };
    upgrade
        .read_buffer_size(read_buffer)
        .write_buffer_size(WS_WRITE_BUFFER)
        .max_frame_size(MAX_FRAME_HARD)
        .max_message_size(MAX_FRAME_HARD)
        .on_upgrade(move |socket| connection::serve(app, user.0, user.1, ip, socket))
}
