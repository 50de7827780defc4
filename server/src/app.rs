//! The state every connection shares, and tracking of live connections for graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

use crate::catch_up::CatchUp;
use crate::health::Health;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::refusals::Refusals;
use crate::store::{Store, StoreError};
use crate::writer::WriterHandle;

/// Shared server state.
pub struct App {
    pub store: Store,
    pub hub: Arc<Hub>,
    /// Who is online in each workspace (pushed to subscribers as `presence` frames).
    pub presence: Arc<crate::presence::Presence>,
    pub writer: WriterHandle,
    /// Becomes `true` when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    pub connections: ConnectionTracker,
    /// Ids of tokens that were revoked or given an expiry; connections using one re-check it.
    pub token_changes: tokio::sync::broadcast::Sender<warren_protocol::Id>,
    /// Deadlines and caps (`warren-server serve` flags).
    pub limits: Limits,
    /// Whether the store accepts writes (reported by `/healthz`).
    pub health: Arc<Health>,
    /// Snapshot cache and the limit on catch-up work at once.
    pub catch_up: CatchUp,
    /// Refused authentications, logged at a bounded rate.
    pub refusals: Arc<Refusals>,
    /// Failed authentications per address, and the addresses refused (HTTP 429) for a while.
    pub failed_auths: crate::auth_limit::FailedAuths,
    /// Failed authentications in the audit log, aggregated per address per minute.
    pub failed_auth: Arc<crate::audit::failed_auth::FailedAuth>,
    /// Counters for `/metrics` and `warren-server status`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Token buckets for commands, queries and new connections.
    pub rates: Arc<crate::rate_limit::Limiter>,
    /// What the writer and the connections share about runs (secrets, workers, log tails).
    pub runs: Arc<crate::runs::RunState>,
}

impl App {
    /// Runs a read against the store on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(result) => result,
            Err(e) => Err(StoreError::Io {
                context: "a store read task failed".into(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

/// Counts open connections so shutdown can wait for them to close.
#[derive(Default)]
pub struct ConnectionTracker {
    open: AtomicUsize,
    idle: Notify,
}

/// Held by a connection while it is open.
pub struct ConnectionGuard<'a>(&'a ConnectionTracker);

impl ConnectionTracker {
    /// Registers an open connection until the guard drops.
    pub fn open(&self) -> ConnectionGuard<'_> {
        self.open.fetch_add(1, Ordering::AcqRel);
        ConnectionGuard(self)
    }

    /// The number of open connections.
    pub fn count(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Waits until no connection is open.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
