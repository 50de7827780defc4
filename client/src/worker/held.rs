//! A run the worker holds, from its `assign` until the server has its finish report: the
//! execution, the run's [`Outbox`], the state of its two reports, and the task that carries the
//! executor's batches to the worker loop — only as fast as the outbox has room, so a full
//! buffer (a long disconnect) holds the job's output back instead of growing without bound.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use warren_protocol::run::Run;
use warren_protocol::{Id, RequestId};

use super::exec::{Outcome, RunHandle};
use super::line::Batch;
use super::outbox::Outbox;

/// What the per-run tasks tell the worker loop.
#[derive(Debug)]
pub enum RunNews {
    /// The executor closed a batch.
    Batch { run_id: Id, batch: Batch },
    /// The execution ended (after its last batch).
    Ended { run_id: Id, outcome: Outcome },
}

/// Where one of a run's reports (`report_run_started`, `report_run_finished`) stands. Its
/// request id stays the same over every re-send, so the server applies it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Not due (yet, or at all: a run that never started sends no started report).
    NotDue,
    /// Due, waiting for a connection.
    Waiting(RequestId),
    /// Sent; the answer is awaited.
    InFlight(RequestId),
    /// The server acknowledged it.
    Done,
}

/// One held run.
pub struct Held {
    pub run: Run,
    /// `r7 deploy`, as the worker's log names it (sanitised).
    pub label: String,
    pub handle: RunHandle,
    pub outbox: Outbox,
    /// Room in the outbox: one permit per chunk the forwarder may still hand over.
    credits: Arc<Semaphore>,
    pub started_at: Instant,
    pub started: Report,
    pub outcome: Option<Outcome>,
    pub finished: Report,
}

impl Held {
    /// Starts carrying `batches` to `news`, at most `buffer` unacknowledged chunks at a time.
    pub fn new(
        run: Run,
        handle: RunHandle,
        batches: mpsc::Receiver<Batch>,
        buffer: usize,
        news: mpsc::Sender<RunNews>,
    ) -> Self {
        let credits = Arc::new(Semaphore::new(buffer.max(1)));
        tokio::spawn(forward(
            run.id.clone(),
            handle.clone(),
            batches,
            credits.clone(),
            news,
        ));
        let label = format!("{} {}", run.label(), crate::sanitize::line(&run.job_name));
        Self {
            outbox: Outbox::new(run.id.clone(), run.lines),
            run,
            label,
            handle,
            credits,
            started_at: Instant::now(),
            started: Report::NotDue,
            outcome: None,
            finished: Report::NotDue,
        }
    }

    /// The server acknowledged `chunk`: room for one more.
    pub fn acked(&mut self, chunk: u64) {
        if self.outbox.ack(chunk) {
            self.credits.add_permits(1);
        }
    }

    /// Chunks below `expected` are stored after all (a refused gap): their room comes back.
    pub fn refused_gap(&mut self, expected: u64) -> bool {
        let before = self.outbox.held();
        let changed = self.outbox.refused_gap(expected);
        self.credits.add_permits(before - self.outbox.held());
        changed
    }

    /// `worker_welcome`: chunks below `acked` are stored.
    pub fn resume(&mut self, acked: u64) {
        let before = self.outbox.held();
        self.outbox.resume(acked);
        self.credits.add_permits(before - self.outbox.held());
    }

    /// True while the command still runs.
    pub fn is_running(&self) -> bool {
        self.outcome.is_none()
    }

    /// Lets go of the run: its job is stopped (if it still runs) and its output dropped.
    pub fn abandon(&self, who: &str) {
        self.handle.cancel(who);
        self.credits.close();
    }
}

/// Carries one run's batches to the loop, each after taking a permit, then its outcome.
async fn forward(
    run_id: Id,
    handle: RunHandle,
    mut batches: mpsc::Receiver<Batch>,
    credits: Arc<Semaphore>,
    news: mpsc::Sender<RunNews>,
) {
    while let Some(batch) = batches.recv().await {
        match credits.acquire().await {
            Ok(permit) => permit.forget(),
            // Abandoned: keep draining so the execution can end, but send nothing more.
            Err(_) => continue,
        }
        let run_id = run_id.clone();
        if news.send(RunNews::Batch { run_id, batch }).await.is_err() {
            return;
        }
    }
    let outcome = handle.wait().await;
    let _ = news.send(RunNews::Ended { run_id, outcome }).await;
}
