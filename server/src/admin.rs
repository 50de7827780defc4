//! The admin socket: a Unix socket in the data directory (`DATA/admin.sock`, mode 0600 in the
//! 0700 data directory) through which `warren-server status` and `warren-server backup` ask the
//! running server. Whoever can open it can already read the store file, so it needs no token;
//! nothing on the network can reach it.
//!
//! One request per connection: the client sends one JSON line (`{"op":"status"}` or
//! `{"op":"backup"}`), the server answers with one JSON line (`{"ok":true,…}` or
//! `{"ok":false,"error":"…"}`); a backup's header is followed by exactly `bytes` bytes of the
//! backup file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::app::App;
use crate::backup::{self, Copied};
use crate::check;
use crate::metrics::{self, Status};

/// The socket's file name inside the data directory.
pub const SOCKET_NAME: &str = "admin.sock";
/// The longest request line accepted.
const MAX_REQUEST: u64 = 1024;

/// The admin socket of the data directory `data`.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join(SOCKET_NAME)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Request {
    Status,
    Backup,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    copied: Option<Copied>,
}

impl Header {
    fn error(message: impl Into<String>) -> Self {
        Header {
            ok: false,
            error: Some(message.into()),
            status: None,
            bytes: None,
            copied: None,
        }
    }
}

/// The listening socket; dropping it stops listening and removes the socket file.
pub struct AdminSocket {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl Drop for AdminSocket {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `path` for the running server `app`. A socket file left by a server that died is
/// replaced: the caller holds the store's lock, so no other server uses this data directory.
pub fn listen(app: &Arc<App>, path: PathBuf) -> std::io::Result<AdminSocket> {
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    let app = Arc::downgrade(app);
    let task = tokio::spawn(accept_loop(listener, app));
    Ok(AdminSocket { path, task })
}

/// Holds only a weak reference, so a listening admin socket never keeps the server (and its
/// writer) alive during shutdown.
async fn accept_loop(listener: UnixListener, app: Weak<App>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "admin socket: accept failed");
                continue;
            }
        };
        let Some(app) = app.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            if let Err(e) = answer(&app, stream).await {
                tracing::debug!(error = %e, "admin socket: the client went away");
            }
        });
    }
}

async fn write_header(stream: &mut UnixStream, header: &Header) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line).await
}

async fn answer(app: &Arc<App>, mut stream: UnixStream) -> std::io::Result<()> {
    let mut line = String::new();
    {
        let mut reader = BufReader::new((&mut stream).take(MAX_REQUEST));
        reader.read_line(&mut line).await?;
    }
    let request: Request = match serde_json::from_str(line.trim()) {
        Ok(r) => r,
        Err(e) => {
            let header = Header::error(format!("bad admin request ({e})"));
            return write_header(&mut stream, &header).await;
        }
    };
    match request {
        Request::Status => {
            let header = match metrics::status(app).await {
                Ok(status) => Header {
                    ok: true,
                    error: None,
                    status: Some(status),
                    bytes: None,
                    copied: None,
                },
                Err(e) => Header::error(format!("cannot read the store: {e}")),
            };
            write_header(&mut stream, &header).await
        }
        Request::Backup => send_backup(app, &mut stream).await,
    }
}

/// Writes a snapshot into a temporary file in the data directory, streams it, removes it.
async fn send_backup(app: &Arc<App>, stream: &mut UnixStream) -> std::io::Result<()> {
    let dir = app
        .store
        .path()
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".backup-{}-{nanos}.redb", std::process::id()));
    let store = app.store.clone();
    let target = temp.clone();
    let made = tokio::task::spawn_blocking(move || -> Result<Copied, String> {
        let txn = store.begin_read().map_err(|e| e.to_string())?;
        backup::copy_snapshot(&txn, &target).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let copied = match made {
        Ok(copied) => copied,
        Err(e) => {
            tracing::error!(error = %e, "backup failed");
            let _ = std::fs::remove_file(&temp);
            return write_header(stream, &Header::error(format!("the backup failed: {e}"))).await;
        }
    };
    let sent = async {
        let mut file = tokio::fs::File::open(&temp).await?;
        let bytes = file.metadata().await?.len();
        let header = Header {
            ok: true,
            error: None,
            status: None,
            bytes: Some(bytes),
            copied: Some(copied.clone()),
        };
        write_header(stream, &header).await?;
        tokio::io::copy(&mut file, stream).await?;
        stream.flush().await?;
        std::io::Result::Ok(bytes)
    }
    .await;
    let _ = tokio::fs::remove_file(&temp).await;
    let bytes = sent?;
    crate::audit::backup_taken(app, bytes, copied.events).await;
    tracing::info!(
        bytes,
        events = copied.events,
        "backup sent over the admin socket"
    );
    Ok(())
}

/// Why asking the running server failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(
        "cannot reach a running server through {path} ({source}); start 'warren-server serve' on that data directory, or pass the --data (or --config) it runs with"
    )]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the admin connection failed: {0}; try again")]
    Io(#[from] std::io::Error),
    #[error("the server answered something unexpected: {0}; are warren-server versions mixed?")]
    Protocol(String),
    #[error("the server refused: {0}")]
    Server(String),
    #[error("{0} already exists; choose a new file name for the backup, or remove that file")]
    Exists(PathBuf),
    #[error(
        "the backup received from the server does not check out, so it was not kept:\n{0}\ntry again; if it happens again, see the server log"
    )]
    Invalid(String),
}

async fn ask(
    socket: &Path,
    request: &Request,
) -> Result<(BufReader<UnixStream>, Header), AdminError> {
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|source| AdminError::Connect {
            path: socket.to_path_buf(),
            source,
        })?;
    let mut line = serde_json::to_vec(request).map_err(|e| AdminError::Protocol(e.to_string()))?;
    line.push(b'\n');
    stream.write_all(&line).await?;
    let mut reader = BufReader::new(stream);
    let mut answer = String::new();
    reader.read_line(&mut answer).await?;
    let header: Header =
        serde_json::from_str(answer.trim()).map_err(|e| AdminError::Protocol(e.to_string()))?;
    if !header.ok {
        return Err(AdminError::Server(header.error.unwrap_or_default()));
    }
    Ok((reader, header))
}

/// Asks the server behind `socket` for its status.
pub async fn request_status(socket: &Path) -> Result<Status, AdminError> {
    let (_, header) = ask(socket, &Request::Status).await?;
    header
        .status
        .ok_or_else(|| AdminError::Protocol("no status in the answer".to_owned()))
}

/// What `warren-server backup` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupDone {
    pub path: PathBuf,
    pub bytes: u64,
    pub events: u64,
    pub workspaces: Vec<check::WorkspaceSummary>,
}

/// Asks the server behind `socket` for a backup, writes it to `to` (which must not exist; the
/// file appears only once complete and checked) and returns what it holds.
pub async fn request_backup(socket: &Path, to: &Path) -> Result<BackupDone, AdminError> {
    if to.exists() {
        return Err(AdminError::Exists(to.to_path_buf()));
    }
    let (mut reader, header) = ask(socket, &Request::Backup).await?;
    let bytes = header
        .bytes
        .ok_or_else(|| AdminError::Protocol("no size in the answer".to_owned()))?;
    let name = to
        .file_name()
        .map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    let partial = to.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let received = async {
        let file = backup::create_private_file(&partial)?;
        let mut file = tokio::fs::File::from_std(file);
        let copied = tokio::io::copy(&mut (&mut reader).take(bytes), &mut file).await?;
        if copied != bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the server sent {copied} of {bytes} bytes"),
            ));
        }
        file.sync_all().await
    }
    .await;
    if let Err(e) = received {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    let checked = partial.clone();
    let report = tokio::task::spawn_blocking(move || check::check_file(&checked))
        .await
        .map_err(|e| AdminError::Io(std::io::Error::other(e.to_string())))?;
    if !report.ok() {
        let _ = std::fs::remove_file(&partial);
        return Err(AdminError::Invalid(report.problems.join("\n")));
    }
    // A hard link never replaces a file that appeared meanwhile; where the file system has
    // none, a rename after one more look.
    let placed = match std::fs::hard_link(&partial, to) {
        Ok(()) => std::fs::remove_file(&partial),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if to.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(&partial, to),
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&partial);
        return Err(match e.kind() {
            std::io::ErrorKind::AlreadyExists => AdminError::Exists(to.to_path_buf()),
            _ => e.into(),
        });
    }
    Ok(BackupDone {
        path: to.to_path_buf(),
        bytes,
        events: report.events,
        workspaces: report.workspaces,
    })
}
