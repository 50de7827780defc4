//! Local mode: with no server configured, `warren` runs `warren-server` in-process on a local
//! data dir and connects to it over loopback — the same code path as a remote server. `warren
//! demo` does the same on a throwaway store seeded with a sample workspace.
//!
//! The local data dir is 0700 and its store and token file 0600. While a local server runs it
//! advertises itself in the data dir ([`crate::advert`]), so CLI commands reach it over the socket
//! (see [`crate::local_cli`]).

use std::path::{Path, PathBuf};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warren_protocol::Role;
use warren_server::server::{ServeError, bind_store};
use warren_server::service::workspace;
use warren_server::store::{self, FILE_NAME, Store, StoreError};

use crate::advert;
use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// File in the local data dir holding the local owner's token (mode 0600).
pub const TOKEN_FILE: &str = "local-token";

/// An in-process server on a loopback port.
pub struct LocalServer {
    pub endpoint: Endpoint,
    pub token: String,
    pub data_dir: PathBuf,
    /// Whether this server wrote the data dir's advert (not for the demo).
    advertised: bool,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
    /// The in-process worker, once started.
    #[cfg(unix)]
    worker: Option<crate::local_worker::LocalWorker>,
}

impl LocalServer {
    /// Starts the in-process worker (local mode runs jobs itself): it makes its bot member on
    /// first use and runs jobs in the current directory. Call it for the full-screen client and
    /// for CLI commands that wait for a run (`job run --follow`); a one-shot command without it
    /// leaves queued runs for the next worker.
    #[cfg(unix)]
    pub async fn start_worker(&mut self) -> Result<(), ClientError> {
        if self.worker.is_some() {
            return Ok(());
        }
        let workdir = std::env::current_dir().map_err(|e| local_error(&self.data_dir, e))?;
        let worker = crate::local_worker::LocalWorker::start(
            &self.endpoint,
            &self.token,
            &self.data_dir,
            workdir,
        )
        .await?;
        self.worker = Some(worker);
        Ok(())
    }

    /// Stops the server, letting in-flight commands commit (and the worker, first, letting
    /// running jobs finish for a moment, then cancelling and reporting them).
    pub async fn shutdown(mut self) {
        #[cfg(unix)]
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if self.advertised {
            advert::remove_own(&self.data_dir);
        }
    }
}

fn local_error(dir: &Path, e: impl std::fmt::Display) -> ClientError {
    ClientError::LocalData {
        path: dir.display().to_string(),
        reason: e.to_string(),
    }
}

/// The data dir of local mode.
pub fn default_dir() -> Result<PathBuf, ClientError> {
    if let Ok(dir) = std::env::var("WARREN_DATA_DIR")
        && !dir.is_empty()
    {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "warren", "warren")
        .map(|p| p.data_dir().join("local"))
        .ok_or_else(|| ClientError::LocalData {
            path: "(no data dir)".into(),
            reason: "cannot find a home directory".into(),
        })
}

fn write_token(dir: &Path, token: &str) -> Result<(), ClientError> {
    use std::io::Write;
    let path = dir.join(TOKEN_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| local_error(&path, e))?;
    file.write_all(token.as_bytes())
        .map_err(|e| local_error(&path, e))
}

/// Opens (creating on first use) the local store and its owner token.
fn open_local(dir: &Path) -> Result<(Store, String), ClientError> {
    if !dir.join(FILE_NAME).exists() {
        let owner = std::env::var("USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "me".into());
        let done = store::create_with(dir, |store| workspace::bootstrap(store, &owner, "Local"))
            .map_err(|e| local_error(dir, e))?;
        write_token(dir, &done.token.token)?;
        // The dir may have existed before the store (made by hand or a setup script).
        harden(dir);
        let store = Store::open(dir).map_err(|e| local_error(dir, e))?;
        return Ok((store, done.token.token));
    }
    harden(dir);
    let store = match Store::open(dir) {
        Ok(s) => s,
        Err(StoreError::InUse(_)) => {
            return Err(ClientError::LocalInUse {
                dir: dir.display().to_string(),
                pid: advert::read(dir)
                    .map(|a| a.pid)
                    .filter(|pid| advert::process_alive(*pid)),
            });
        }
        Err(e) => return Err(local_error(dir, e)),
    };
    let token = match std::fs::read_to_string(dir.join(TOKEN_FILE)) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
        _ => {
            let (minted, _) =
                workspace::create_token(&store, None, "local").map_err(|e| local_error(dir, e))?;
            write_token(dir, &minted.token)?;
            minted.token
        }
    };
    Ok((store, token))
}

/// Makes a local data dir private — one made by an older warren, or by hand before warren put
/// its store in it: the dir 0700, the store 0600.
fn harden(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let set = |path: &Path, mode: u32| {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        };
        set(dir, 0o700);
        set(&dir.join(FILE_NAME), 0o600);
    }
    #[cfg(not(unix))]
    let _ = dir;
}

async fn serve(
    store: Store,
    token: String,
    data_dir: PathBuf,
    advertise: bool,
) -> Result<LocalServer, ClientError> {
    let bound = bind_store(store, "127.0.0.1:0")
        .await
        .map_err(|e| local_error(&data_dir, e))?;
    let endpoint = Endpoint::parse(&format!("http://{}", bound.local_addr))?;
    if advertise {
        advert::write(
            &data_dir,
            &advert::Advert::for_this_process(bound.local_addr),
        )
        .map_err(|e| local_error(&data_dir.join(advert::FILE), e))?;
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async {
        let _ = stopped.await;
    }));
    Ok(LocalServer {
        endpoint,
        token,
        data_dir,
        advertised: advertise,
        stop: Some(stop),
        task: Some(task),
        #[cfg(unix)]
        worker: None,
    })
}

/// Starts the local server on `dir`.
/// How long starting waits for the store while another process holds it: a CLI command serving
/// it for one command lets go within moments.
const IN_USE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Starts the local server on `dir`. If another process holds the store, waits up to
/// [`IN_USE_WAIT`] for it to let go, then reports [`ClientError::LocalInUse`].
pub async fn start(dir: PathBuf) -> Result<LocalServer, ClientError> {
    let deadline = tokio::time::Instant::now() + IN_USE_WAIT;
    let (store, token) = loop {
        let d = dir.clone();
        let opened = tokio::task::spawn_blocking(move || open_local(&d))
            .await
            .map_err(|e| local_error(&dir, e))?;
        match opened {
            Err(ClientError::LocalInUse { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other?,
        }
    };
    serve(store, token, dir, true).await
}

/// A demo workspace: a board with cards in every column and two rooms with a conversation.
pub async fn start_demo(dir: PathBuf) -> Result<LocalServer, ClientError> {
    let d = dir.clone();
    let (store, you, others) = tokio::task::spawn_blocking(move || -> Result<_, ClientError> {
        let done = store::create_with(&d, |store| {
            workspace::bootstrap(store, "you", "Demo workspace")
        })
        .map_err(|e| local_error(&d, e))?;
        let store = Store::open(&d).map_err(|e| local_error(&d, e))?;
        let mut others = Vec::new();
        for (name, role) in [
            ("mira", Role::Member),
            ("jon", Role::Member),
            ("ci-bot", Role::Bot),
        ] {
            let (user, token) = workspace::add_member(&store, &done.workspace.id, name, role)
                .map_err(|e| local_error(&d, e))?;
            others.push((user.name, token.token));
        }
        Ok((store, done.token.token, others))
    })
    .await
    .map_err(|e| local_error(&dir, e))??;
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut server = serve(store, you.clone(), dir, false).await?;
    super::demo::seed(&server.endpoint, &you, &others).await?;
    // The demo's runs execute on an in-process worker, as in local mode (without one they
    // wait in the queue; the reason is in the demo store's worker.log).
    #[cfg(unix)]
    let _ = server.start_worker().await;
    Ok(server)
}
