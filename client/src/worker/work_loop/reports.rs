//! The worker loop's two reports per run, `report_run_started` and `report_run_finished`:
//! when each is due, sending it under a request id kept over every re-send, and its answer.

use std::time::Duration;

use warren_protocol::{Command, ErrorCode, Id};

use super::{Internal, Worker};
use crate::connection::{Handle, new_request_id};
use crate::error::ClientError;
use crate::session::is_transient;
use crate::worker::assignment;
use crate::worker::held::Report;

impl Worker {
    pub(super) fn on_reported(
        &mut self,
        run_id: Id,
        finished: bool,
        result: Result<(), ClientError>,
    ) {
        let Some(h) = self.held.get_mut(&run_id) else {
            return;
        };
        let report = if finished {
            &mut h.finished
        } else {
            &mut h.started
        };
        let Report::InFlight(request_id) = report.clone() else {
            return;
        };
        match result {
            Ok(()) => *report = Report::Done,
            // Sent again under the same request id: at once while connected (a timeout, or the
            // answer of a connection that was replaced meanwhile), else after `worker_welcome`.
            Err(e) if is_transient(&e) => {
                *report = Report::Waiting(request_id);
                if self.welcomed {
                    self.send_reports(&run_id);
                }
                return;
            }
            Err(e) => {
                let what = if finished { "finish" } else { "start" };
                if let Some(h) = self.held.remove(&run_id) {
                    h.abandon("the server (it refused the run's report)");
                    self.say(&format!(
                        "{}: the server refused its {what} report ({}); the run is dropped",
                        h.label,
                        crate::sanitize::line(&e.to_string())
                    ));
                }
                return;
            }
        }
        if !finished {
            let label = h.label.clone();
            self.say(&format!("{label}: started"));
            self.send_reports(&run_id);
            return;
        }
        if let Some(h) = self.held.remove(&run_id)
            && let Some(outcome) = &h.outcome
        {
            self.say(&format!(
                "{}: {}",
                h.label,
                assignment::describe(outcome, h.started_at.elapsed())
            ));
        }
    }

    /// Sends whichever of the run's reports is due and not in flight. The finish report is due
    /// once the job ended, every chunk is acknowledged and the start report (if any) is done.
    pub(super) fn send_reports(&mut self, run_id: &Id) {
        let Some(handle) = self.handle() else {
            return;
        };
        let workspace_id = self.workspace_id.clone();
        let Some(h) = self.held.get_mut(run_id) else {
            return;
        };
        let started_done = matches!(h.started, Report::Done | Report::NotDue);
        if h.finished == Report::NotDue
            && started_done
            && h.outbox.is_empty()
            && h.outcome.is_some()
        {
            match new_request_id() {
                Ok(id) => h.finished = Report::Waiting(id),
                Err(e) => (self.options.say)(&format!("{}: {e}", h.label)),
            }
        }
        let (report, finished, command) = match (&h.started, &h.finished, &h.outcome) {
            (Report::Waiting(id), _, _) => (
                id.clone(),
                false,
                Command::ReportRunStarted {
                    run_id: run_id.clone(),
                },
            ),
            (_, Report::Waiting(id), Some(outcome)) => (
                id.clone(),
                true,
                assignment::finished(run_id, outcome, h.outbox.last_line()),
            ),
            _ => return,
        };
        if finished {
            h.finished = Report::InFlight(report.clone());
        } else {
            h.started = Report::InFlight(report.clone());
        }
        let tx = self.internal_tx.clone();
        let run_id = run_id.clone();
        tokio::spawn(async move {
            let result = report_patiently(&handle, report, &workspace_id, command).await;
            let _ = tx.send(Internal::Reported {
                run_id,
                finished,
                result,
            });
        });
    }
}

/// Sends a report under its request id, again after each rate limit or internal error while the
/// connection lasts.
async fn report_patiently(
    handle: &Handle,
    request_id: warren_protocol::RequestId,
    workspace_id: &Id,
    command: Command,
) -> Result<(), ClientError> {
    let mut delay = Duration::from_millis(250);
    loop {
        match handle
            .command_with_id(request_id.clone(), workspace_id, command.clone())
            .await
        {
            Ok(_) => return Ok(()),
            Err(ClientError::Server(wire))
                if matches!(
                    wire.code,
                    ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::ShuttingDown
                ) =>
            {
                let asked = wire.retry_after_ms.map(Duration::from_millis);
                tokio::time::sleep(asked.unwrap_or(delay).max(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}
