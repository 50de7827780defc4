//! The worker loop's answers to server frames: `worker_welcome`, `assign`, `cancel_run`,
//! `log_ack`, `log_refused` and errors.

use std::time::Duration;

use warren_protocol::run::RunEnd;
use warren_protocol::{ErrorCode, Id, ServerMessage};

use super::{Assignment, Worker, WorkerError};

/// Longest wait a `rate_limited` log refusal is honoured for (a server asking for more is
/// asked again after this).
const MAX_LOG_WAIT_MS: u64 = 60_000;
use crate::error::ClientError;

impl Worker {
    pub(super) fn on_push(
        &mut self,
        push: Result<ServerMessage, ClientError>,
    ) -> Result<(), WorkerError> {
        let message = match push {
            Ok(message) => message,
            // Never the frame's text: an `assign` carries secret values.
            Err(ClientError::Protocol(_)) => {
                self.say(
                    "ignored a frame the worker does not understand (is the server newer than \
                     this warren?)",
                );
                return Ok(());
            }
            Err(e) => {
                self.disconnected(&e);
                return Ok(());
            }
        };
        match message {
            ServerMessage::WorkerWelcome {
                heartbeat_secs,
                held,
                ..
            } => {
                self.heartbeat = Duration::from_secs(heartbeat_secs.max(1));
                for state in held {
                    if state.stop
                        && let Some(run) = self.agents.remove(&state.run_id)
                    {
                        run.abandon();
                        self.say(&format!(
                            "{}: the server no longer gives this run to this worker; stopped",
                            run.label
                        ));
                    }
                    if state.stop {
                        if let Some(h) = self.held.remove(&state.run_id) {
                            h.abandon("the server (the run is no longer this worker's)");
                            self.say(&format!(
                                "{}: the server no longer gives this run to this worker; stopped",
                                h.label
                            ));
                        }
                    } else if let Some(h) = self.held.get_mut(&state.run_id) {
                        h.resume(state.acked_chunks);
                    }
                }
                self.welcomed = true;
                if let Some(conn) = &self.conn {
                    self.handles.send_replace(Some(conn.handle()));
                }
                for run_id in self.held.keys().cloned().collect::<Vec<_>>() {
                    self.send_reports(&run_id);
                }
                self.send_heartbeat();
            }
            ServerMessage::Assign {
                run,
                agent: Some(_),
                ..
            } if self.agent_setup.is_none() => {
                // This worker said `agents: false` in its hello, so the server does not send
                // agent runs; one that arrives anyway is left for the lease to re-queue.
                self.say(&format!(
                    "{}: ignored an agent run (this worker runs no agents: --no-agents)",
                    run.label()
                ));
            }
            ServerMessage::Assign {
                run,
                command,
                params,
                timeout_secs,
                agent,
            } => {
                if self.held.contains_key(&run.id)
                    || self.agents.contains_key(&run.id)
                    || self.waiting.iter().any(|a| a.run.id == run.id)
                {
                    return Ok(());
                }
                self.waiting.push_back(Assignment {
                    run,
                    command,
                    params,
                    timeout_secs,
                    agent,
                });
            }
            ServerMessage::CancelRun { run_id, reason } => {
                // Not started yet (no free slot): the server has already cancelled it.
                self.waiting.retain(|a| a.run.id != run_id);
                let who = reason.map_or_else(
                    || "request".to_owned(),
                    |r| format!("request ({})", crate::sanitize::line(&r)),
                );
                if let Some(h) = self.held.get(&run_id) {
                    h.handle.cancel(&who);
                    self.say(&format!("{}: cancel requested", h.label));
                }
                if let Some(run) = self.agents.get(&run_id) {
                    run.stop(RunEnd::Cancelled, &format!("cancelled by {who}"));
                    self.say(&format!("{}: cancel requested", run.label));
                }
            }
            ServerMessage::LogAck { run_id, chunk } => {
                self.log_window = (self.log_window + 1).min(self.options.window);
                if let Some(h) = self.held.get_mut(&run_id) {
                    h.acked(chunk);
                    self.send_reports(&run_id);
                }
            }
            ServerMessage::LogRefused {
                run_id,
                chunk,
                code,
                message,
                expected,
                retry_after_ms,
            } => {
                if code == ErrorCode::RateLimited {
                    self.on_over_budget(&run_id, chunk, retry_after_ms);
                } else {
                    self.on_refused(run_id, chunk, code, &message, expected);
                }
            }
            ServerMessage::Error { code, message, .. } if !self.welcomed => {
                let message = crate::sanitize::line(&message);
                return Err(match code {
                    ErrorCode::Forbidden | ErrorCode::Unauthorized => {
                        WorkerError::NotAWorker(message)
                    }
                    _ => WorkerError::Unsupported(format!("{code}: {message}")),
                });
            }
            ServerMessage::Error { code, message, .. } => {
                self.say(&format!(
                    "the server said {code}: {}",
                    crate::sanitize::line(&message)
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// A chunk over the token's log budget: it goes again after the wait the server asked for
    /// (every run's chunks wait: the budget is the token's). Nothing is dropped.
    pub(super) fn on_over_budget(&mut self, run_id: &Id, chunk: u64, retry_after_ms: Option<u64>) {
        let Some(h) = self.held.get_mut(run_id) else {
            return;
        };
        if !h.outbox.retry_later(chunk) {
            return;
        }
        self.log_window = (self.log_window / 2).max(1);
        let wait = Duration::from_millis(retry_after_ms.unwrap_or(1000).clamp(1, MAX_LOG_WAIT_MS));
        let until = tokio::time::Instant::now() + wait;
        if self.logs_paused_until.is_none_or(|t| t < until) {
            if self.logs_paused_until.is_none() {
                let label = h.label.clone();
                self.say(&format!(
                    "{label}: the server slowed down this worker's log (log chunk {chunk}); sending again in {:.1} s",
                    wait.as_secs_f64()
                ));
            }
            self.logs_paused_until = Some(until);
        }
    }

    pub(super) fn on_refused(
        &mut self,
        run_id: Id,
        chunk: u64,
        code: ErrorCode,
        message: &str,
        expected: Option<u64>,
    ) {
        let Some(h) = self.held.get_mut(&run_id) else {
            return;
        };
        match (code, expected) {
            (ErrorCode::Conflict, Some(expected)) => {
                if h.refused_gap(expected) {
                    let label = h.label.clone();
                    self.say(&format!(
                        "{label}: the server expects log chunk {expected}; sending again from there"
                    ));
                }
                self.send_reports(&run_id);
            }
            (ErrorCode::NotFound | ErrorCode::Forbidden | ErrorCode::Validation, _)
            | (ErrorCode::Conflict, None) => {
                if let Some(h) = self.held.remove(&run_id) {
                    h.abandon("the server (it refused the run's log)");
                    self.say(&format!(
                        "{}: the server refused log chunk {chunk} ({code}: {}); the run is dropped",
                        h.label,
                        crate::sanitize::line(message)
                    ));
                }
            }
            _ => {
                // The server could not store it now (shutting down, internal): a fresh
                // connection re-sends it.
                let label = h.label.clone();
                self.say(&format!(
                    "{label}: the server could not store log chunk {chunk} ({code}); reconnecting"
                ));
                let why = ClientError::Disconnected(format!("log chunk refused: {code}"));
                self.disconnected(&why);
            }
        }
    }
}
