//! HTTP routes: `GET /healthz` and `GET /metrics` without auth, and `GET /ws`, which checks the bearer token before it
//! upgrades to a WebSocket.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use warren_protocol::limits::MAX_FRAME_HARD;
use warren_protocol::{ErrorCode, WireError};

use crate::app::App;
use crate::connection;
use crate::service::workspace::authenticate;

/// The router of the server.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(websocket))
        .route("/metrics", get(crate::metrics::serve_metrics))
        .with_state(app)
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let body = serde_json::json!({
        "status": if *app.shutdown.borrow() { "shutting_down" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": warren_protocol::PROTOCOL_VERSION,
        "connections": app.connections.count(),
    });
    axum::Json(body).into_response()
}

fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, axum::Json(WireError::new(code, message))).into_response()
}

async fn websocket(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(token) = presented else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "no token: send 'Authorization: Bearer wrn_...' (warren login --server URL --token TOKEN)",
        );
    };
    let store = app.store.clone();
    let user = tokio::task::spawn_blocking(move || authenticate(&store, &token)).await;
    let user = match user {
        Ok(Ok(Some(user))) => user,
        Ok(Ok(None)) => {
            tracing::info!("refused a connection with an unknown or revoked token");
            return error_response(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "the token is unknown or revoked; create one with 'warren-server token create'",
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
    upgrade
        .max_frame_size(MAX_FRAME_HARD)
        .max_message_size(MAX_FRAME_HARD)
        .on_upgrade(move |socket| connection::serve(app, user, socket))
}
