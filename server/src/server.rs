//! Running the server: bind, serve until a shutdown signal, then drain and stop in order.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{App, ConnectionTracker};
use crate::catch_up::CatchUp;
use crate::gate::Gate;
use crate::health::Health;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::refusals::Refusals;
use crate::store::{Store, StoreError};
use crate::{http, listen, writer};

/// How long shutdown waits for connections to finish their in-flight commands.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}; pick another address with --listen")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the writer thread: {0}")]
    Thread(std::io::Error),
    #[error("the HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error(
        "cannot open the admin socket {path}: {source}; use a shorter data directory path (Unix sockets allow about 100 bytes)"
    )]
    Admin {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A server bound to its address, ready to run.
pub struct Bound {
    listener: TcpListener,
    app: Arc<App>,
    shutdown_tx: watch::Sender<bool>,
    writer_thread: std::thread::JoinHandle<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    admin_socket: Option<PathBuf>,
    pub local_addr: SocketAddr,
}

/// Opens the store in `data` and binds `listen`.
pub async fn bind(data: PathBuf, listen: &str) -> Result<Bound, ServeError> {
    bind_with(data, listen, Limits::default()).await
}

/// [`bind`] with the given limits (page cache size, deadlines, connection caps).
pub async fn bind_with(data: PathBuf, listen: &str, limits: Limits) -> Result<Bound, ServeError> {
    let cache = limits.cache_bytes();
    let store = tokio::task::spawn_blocking(move || Store::open_with_cache(&data, cache))
        .await
        .map_err(|e| ServeError::Thread(std::io::Error::other(e.to_string())))??;
    bind_store_with(store, listen, limits).await
}

/// Binds `listen` over an already open store (used by embedded servers).
pub async fn bind_store(store: Store, listen: &str) -> Result<Bound, ServeError> {
    bind_store_with(store, listen, Limits::default()).await
}

/// [`bind_store`] with the given limits.
pub async fn bind_store_with(
    store: Store,
    listen: &str,
    limits: Limits,
) -> Result<Bound, ServeError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen.to_owned(),
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: listen.to_owned(),
        source,
    })?;
    let hub = Arc::new(Hub::default());
    let health = Arc::new(Health::default());
    let runs = Arc::new(crate::runs::RunState::with_cancel_deadline(
        limits.worker_heartbeat_secs,
        limits.worker_lease_secs,
        limits.cancel_deadline,
    ));
    let (writer, writer_thread) =
        writer::spawn_with(store.clone(), hub.clone(), health.clone(), runs.clone())
            .map_err(ServeError::Thread)?;
    let (shutdown_tx, shutdown) = watch::channel(false);
    let refusals = Arc::new(Refusals::new(limits.auth_log_interval));
    refusals.spawn_reporter();
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let rates = Arc::new(crate::rate_limit::Limiter::new(
        &limits.rates,
        metrics.clone(),
    ));
    rates.spawn_forgetting();
    let failed_auth = Arc::new(crate::audit::failed_auth::FailedAuth::new(store.clone()));
    let presence = Arc::new(crate::presence::Presence::new(hub.clone()));
    let app = Arc::new(App {
        store,
        hub,
        presence,
        writer,
        shutdown,
        connections: ConnectionTracker::default(),
        token_changes: tokio::sync::broadcast::channel(64).0,
        catch_up: CatchUp::new(limits.max_catch_ups),
        health,
        refusals,
        failed_auths: crate::auth_limit::FailedAuths::new(
            limits.failed_auth_per_minute,
            limits.failed_auth_window,
        ),
        failed_auth: failed_auth.clone(),
        limits,
        metrics,
        rates,
        runs,
    });
    failed_auth.spawn_flusher(app.limits.auth_log_interval);
    crate::audit::retention::spawn(&app);
    crate::runs::spawn_ticker(&app);
    Ok(Bound {
        listener,
        app,
        shutdown_tx,
        writer_thread,
        tls: None,
        admin_socket: None,
        local_addr,
    })
}

impl Bound {
    /// The writer's counters (commits and commands), for benchmarks.
    pub fn writer_stats(&self) -> Arc<writer::WriterStats> {
        self.app.writer.stats.clone()
    }

    /// What the writer and the connections share about runs (the secret vault, the log
    /// feed), for embedding and tests.
    pub fn runs(&self) -> Arc<crate::runs::RunState> {
        self.app.runs.clone()
    }

    /// Serves HTTPS and WSS only: every connection must complete a TLS handshake first.
    pub fn with_tls(mut self, acceptor: tokio_rustls::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Also answers `warren-server status` and `backup` on a Unix socket at `path` while it
    /// serves (see [`crate::admin`]).
    pub fn with_admin_socket(mut self, path: PathBuf) -> Self {
        self.admin_socket = Some(path);
        self
    }

    /// Serves until `signal` completes, then: stops accepting, tells every connection to finish,
    /// waits for in-flight commands to be committed and answered, closes sockets with code 1001,
    /// and lets the writer drain and stop.
    pub async fn run(
        self,
        signal: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Bound {
            listener,
            app,
            shutdown_tx,
            writer_thread,
            tls,
            admin_socket,
            local_addr,
        } = self;
        #[cfg(unix)]
        let admin = match admin_socket {
            Some(path) => Some(
                crate::admin::listen(&app, path.clone())
                    .map_err(|source| ServeError::Admin { path, source })?,
            ),
            None => None,
        };
        #[cfg(not(unix))]
        let _ = admin_socket;
        let sampler = tokio::spawn(crate::metrics::sample(
            app.metrics.clone(),
            app.writer.stats.clone(),
        ));
        let router = http::router(app.clone());
        let mut down = app.shutdown.clone();
        let gate = Gate::new(
            app.limits.max_connections_per_ip,
            app.limits.total_connections(),
        );
        let served = listen::serve(listener, router, &app.limits, gate, tls, async move {
            signal.await;
            tracing::info!(%local_addr, "shutting down: no new connections");
            let _ = shutdown_tx.send(true);
        });
        let ((), ()) = tokio::join!(served, async {
            let _ = down.wait_for(|d| *d).await;
            if tokio::time::timeout(DRAIN_TIMEOUT, app.connections.wait_idle())
                .await
                .is_err()
            {
                tracing::warn!(
                    open = app.connections.count(),
                    "connections still open after the drain timeout"
                );
            }
            app.hub.clear();
        });
        sampler.abort();
        #[cfg(unix)]
        drop(admin);
        // Dropping the last writer handle lets the writer finish its queue and stop.
        drop(app);
        let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
