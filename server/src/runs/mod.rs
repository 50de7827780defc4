//! In-memory state of the runs domain that the writer and the connections share: the secret
//! parameter values of runs that have not finished (never stored; see [`secrets`]), the
//! registry of connected workers ([`workers`]), the lease settings, and the set of unfinished
//! runs the scheduler looks at. Durable run records live in the store (`JOBS`, `RUNS`, …) and
//! change only in the writer: commands in `service::runs`, assignment and leases in
//! [`assign`].

pub mod agent_assign;
pub mod assign;
pub mod cancels;
pub mod effects;
pub mod relay;
pub mod secrets;
pub mod workers;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use warren_protocol::Id;

/// How often a worker is told to heartbeat, by default.
pub const HEARTBEAT_SECS: u64 = 5;
/// How long a silent worker keeps its runs, by default.
pub const LEASE_SECS: u64 = 30;
/// How often the writer looks at the queue and the leases when nothing else happens.
pub const TICK: Duration = Duration::from_millis(500);
/// Longest backoff before a re-queued run may be assigned again, in seconds.
pub const MAX_BACKOFF_SECS: u64 = 5 * 60;
pub use cancels::CANCEL_DEADLINE;

/// What the writer and the connections share about runs.
#[derive(Debug)]
pub struct RunState {
    /// Secret parameter values by run, until the run finishes.
    pub secrets: secrets::SecretVault,
    /// Connected workers and their outbound senders.
    pub workers: workers::Registry,
    /// Seconds between a worker's heartbeats (`worker_welcome`).
    pub heartbeat_secs: u64,
    /// Seconds of silence after which a worker loses its runs.
    pub lease_secs: u64,
    /// When this server started (ms): leases of workers not heard from since count from here.
    pub started_at: i64,
    /// `(workspace, run)` of every unfinished run; `None` until the writer first reads them
    /// from the store (and again after a failed commit, so it re-reads).
    active: Mutex<Option<BTreeSet<(Id, Id)>>>,
    /// The followers of each run's log, fed by the writer after each commit.
    pub logs: crate::logs::feed::LogFeed,
    /// Cancelled runs waiting for their worker's report, each with a deadline.
    pub cancels: cancels::Cancels,
    /// The text of agent model calls in progress and who watches them (`run_watch`).
    pub relay: relay::Relay,
}

impl Default for RunState {
    fn default() -> Self {
        Self::new(HEARTBEAT_SECS, LEASE_SECS)
    }
}

impl RunState {
    /// Run state with the given heartbeat and lease, in seconds.
    pub fn new(heartbeat_secs: u64, lease_secs: u64) -> Self {
        Self::with_cancel_deadline(heartbeat_secs, lease_secs, CANCEL_DEADLINE)
    }

    /// Run state with the given heartbeat and lease (seconds) and the time a worker has to
    /// confirm a cancel.
    pub fn with_cancel_deadline(
        heartbeat_secs: u64,
        lease_secs: u64,
        cancel_deadline: Duration,
    ) -> Self {
        Self {
            secrets: secrets::SecretVault::default(),
            workers: workers::Registry::default(),
            heartbeat_secs: heartbeat_secs.max(1),
            lease_secs: lease_secs.max(1),
            started_at: crate::service::now_ms(),
            active: Mutex::new(None),
            logs: crate::logs::feed::LogFeed::default(),
            cancels: cancels::Cancels::new(cancel_deadline),
            relay: relay::Relay::default(),
        }
    }

    /// The unfinished runs, if known (else the caller reads them from the store and calls
    /// [`RunState::set_active`]).
    pub fn active(&self) -> Option<BTreeSet<(Id, Id)>> {
        self.active.lock().ok()?.clone()
    }

    /// Replaces the set of unfinished runs.
    pub fn set_active(&self, runs: Option<BTreeSet<(Id, Id)>>) {
        if let Ok(mut active) = self.active.lock() {
            *active = runs;
        }
    }

    /// Notes a run's new status: unfinished runs are kept in the set, finished ones leave it.
    pub fn track(&self, workspace: &Id, run: &Id, finished: bool) {
        if let Ok(mut active) = self.active.lock()
            && let Some(set) = active.as_mut()
        {
            let key = (workspace.clone(), run.clone());
            if finished {
                set.remove(&key);
            } else {
                set.insert(key);
            }
        }
    }
}

/// Starts the writer's timer: every [`TICK`] the writer looks at the queue (backoffs that ran
/// out) and the leases. Stops when the server shuts down.
pub fn spawn_ticker(app: &std::sync::Arc<crate::app::App>) {
    let app = std::sync::Arc::downgrade(app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = app.upgrade() else {
                return;
            };
            if *app.shutdown.borrow() {
                return;
            }
            let writer = app.writer.clone();
            drop(app);
            writer.tick().await;
        }
    });
}
