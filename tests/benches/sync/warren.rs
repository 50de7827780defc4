//! The real server, in-process: a fresh store with one workspace, bound to a free port, served on
//! its own tokio runtime.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warren_server::limits::Limits;
use warren_server::server::{ServeError, bind_store_with};
use warren_server::service::workspace::bootstrap;
use warren_server::store::tables::HEADS;
use warren_server::store::{Store, read};
use warren_server::writer::WriterStats;

/// A running server and what a client needs to talk to it.
pub struct Warren {
    pub addr: SocketAddr,
    pub token: String,
    pub workspace: String,
    pub board: String,
    pub room: String,
    pub stats: Arc<WriterStats>,
    store: Store,
    stop: oneshot::Sender<()>,
    served: JoinHandle<Result<(), ServeError>>,
}

impl Warren {
    /// Creates a store in `dir` (bootstrapped with a "Main" board and a "general" room) and starts
    /// serving it on `runtime`.
    pub fn start(runtime: &Runtime, dir: &Path) -> Result<Self> {
        let store = Store::create(dir)?;
        let boot = bootstrap(&store, "bench", "Bench")?;
        let state = read::snapshot(&store.begin_read()?, &boot.workspace.id)?
            .context("the bootstrapped workspace has no snapshot")?;
        let board = state.boards.first().context("no board")?.id.to_string();
        let room = state.rooms.first().context("no room")?.id.to_string();
        // Every client of the benchmark connects from 127.0.0.1 with one token and sends as
        // fast as it can: lift the per-address cap and turn the rate limits off.
        let limits = Limits {
            max_connections_per_ip: usize::MAX,
            rates: warren_server::rate_limit::RateLimits::off(),
            // The log benchmark stores more than the default 100 MiB per run.
            log_cap_bytes: 1 << 30,
            ..Limits::default()
        };
        let bound = runtime.block_on(bind_store_with(store.clone(), "127.0.0.1:0", limits))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let stats = bound.writer_stats();
        let addr = bound.local_addr;
        let served = runtime.spawn(bound.run(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            token: boot.token.token,
            workspace: boot.workspace.id.to_string(),
            board,
            room,
            stats,
            store,
            stop,
            served,
        })
    }

    /// The workspace's latest sequence number.
    pub fn head(&self) -> Result<u64> {
        let txn = self.store.begin_read()?;
        Ok(read::head(&txn.open_table(HEADS)?, &self.workspace)?)
    }

    /// Shuts the server down gracefully and waits for it.
    pub fn stop(self, runtime: &Runtime) -> Result<()> {
        let _ = self.stop.send(());
        runtime.block_on(self.served)??;
        Ok(())
    }
}
