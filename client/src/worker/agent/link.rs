//! An agent run's way to the server: the worker loop's current connection (none while it
//! reconnects), shared through a `watch`, and commands sent under one request id kept over
//! every re-send (a dropped connection, a rate limit, a busy server), so the server applies
//! each once. Frames without an answer (`agent_delta`) go out only while connected: they are
//! ephemeral, and a watcher that misses some gets the finished step.

use std::time::Duration;

use tokio::sync::watch;
use warren_protocol::step::RunStep;
use warren_protocol::{ClientMessage, Command, ErrorCode, Id, Query, QueryResult, WireError};

use crate::connection::{Ack, Handle, new_request_id};
use crate::error::ClientError;
use crate::session::is_transient;

/// Why a command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The server refused it (its code and message).
    #[error("{}: {}", .0.code, .0.message)]
    Refused(WireError),
    /// The worker loop is gone (the worker is stopping).
    #[error("the worker is stopping")]
    Gone,
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Longest pause between two tries of a command the server was too busy for.
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// After a dropped connection, how long to wait for the next one before trying again anyway.
const RECONNECT_WAIT: Duration = Duration::from_secs(5);

/// The current connection and the workspace, for one agent run.
#[derive(Clone)]
pub struct Link {
    handles: watch::Receiver<Option<Handle>>,
    workspace_id: Id,
}

impl Link {
    pub fn new(handles: watch::Receiver<Option<Handle>>, workspace_id: Id) -> Link {
        Link {
            handles,
            workspace_id,
        }
    }

    /// Sends a frame that has no answer now, or not at all while there is no connection.
    pub fn send(&self, frame: ClientMessage) {
        let handle = self.handles.borrow().clone();
        if let Some(handle) = handle {
            let _ = handle.send(frame);
        }
    }

    /// The steps stored for run number `number` (the `run` query).
    pub async fn steps(&mut self, number: u64) -> Result<Vec<RunStep>, LinkError> {
        let handle = self.current().await?;
        match handle
            .query(&self.workspace_id, Query::Run { number })
            .await
        {
            Ok(QueryResult::Run { steps, .. }) => Ok(steps),
            Ok(_) => Ok(Vec::new()),
            Err(ClientError::Server(wire)) => Err(LinkError::Refused(wire)),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection, once there is one.
    async fn current(&mut self) -> Result<Handle, LinkError> {
        let handle = self
            .handles
            .wait_for(Option::is_some)
            .await
            .map_err(|_| LinkError::Gone)?
            .clone();
        handle.ok_or(LinkError::Gone)
    }

    /// Applies `command` and returns its ack: re-sent under the same request id until the
    /// server answers it (so it is applied once), or refuses it.
    pub async fn command(&mut self, command: Command) -> Result<Ack, LinkError> {
        let request_id = new_request_id()?;
        let mut pause = Duration::from_millis(250);
        loop {
            let handle = self.current().await?;
            let sent = handle
                .command_with_id(request_id.clone(), &self.workspace_id, command.clone())
                .await;
            match sent {
                Ok(ack) => return Ok(ack),
                Err(ClientError::Server(wire))
                    if matches!(
                        wire.code,
                        ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::ShuttingDown
                    ) =>
                {
                    let asked = wire.retry_after_ms.map(Duration::from_millis);
                    tokio::time::sleep(asked.unwrap_or(pause).max(pause)).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                Err(ClientError::Server(wire)) => return Err(LinkError::Refused(wire)),
                Err(ClientError::Disconnected(_)) => {
                    // The loop replaces the connection; the same request id goes on the next.
                    let _ = tokio::time::timeout(RECONNECT_WAIT, self.handles.changed()).await;
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_worker_loop_a_command_says_the_worker_is_stopping() {
        let (tx, rx) = watch::channel(None);
        drop(tx);
        let mut link = Link::new(rx, Id::parse("ws_6n1q4s7v0x3z5a8c").expect("an id"));
        let result = link
            .command(Command::ReportRunStarted {
                run_id: Id::parse("run_1h4k7n0q3s6v9x2z").expect("an id"),
            })
            .await;
        assert!(matches!(result, Err(LinkError::Gone)), "{result:?}");
    }
}
