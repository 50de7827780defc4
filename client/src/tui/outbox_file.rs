//! The outbox on disk: changes the server has not confirmed survive quitting warren.
//!
//! One small JSON file per server, user and workspace in the local data dir
//! (`DATA/outbox/<server>-<hash>--<user>--<workspace>.json`, the directory 0700, the file
//! 0600). It is rewritten atomically (a temp file, then a rename) whenever the outbox changes,
//! removed when the outbox is empty, and read when warren connects, so what was waiting is sent again under
//! the same request ids: the server applies each change once, even if it had already applied it
//! before warren quit.

use crate::private_file;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use warren_protocol::{Command, Id, RequestId};

use super::outbox::Pending;

/// The file format version.
const VERSION: u32 = 1;

/// Why the pending changes could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxFileError {
    #[error(
        "cannot save the changes waiting to be sent in {path}: {source} — they are still sent while warren runs; check that the directory is writable"
    )]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "cannot read the changes waiting to be sent from {path}: {reason} — the file was kept as {kept}; look at it, then remove it"
    )]
    Unreadable {
        path: String,
        reason: String,
        kept: String,
    },
}

/// Who the pending changes belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxKey {
    /// The server as the user knows it (its URL, or the local data dir).
    pub server: String,
    pub user: Id,
    pub workspace: Id,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    version: u32,
    server: String,
    user_id: Id,
    workspace_id: Id,
    pending: Vec<StoredCommand>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCommand {
    request_id: RequestId,
    command: Command,
}

/// The directory outbox files live in: `outbox` in `WARREN_DATA_DIR` when that is set, else in
/// the platform's data dir (next to the local workspace's `local`).
pub fn default_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("WARREN_DATA_DIR")
        && !dir.is_empty()
    {
        return Some(PathBuf::from(dir).join("outbox"));
    }
    directories::ProjectDirs::from("dev", "warren", "warren").map(|p| p.data_dir().join("outbox"))
}

/// The file of `key` in `dir`.
pub fn path(dir: &Path, key: &OutboxKey) -> PathBuf {
    // Readable, and unique: two servers whose names read alike still get their own files.
    let readable: String = key
        .server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let server = format!("{readable}-{:016x}", fnv1a(key.server.as_bytes()));
    let name = |id: &Id| -> String {
        id.as_str()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    dir.join(format!(
        "{server}--{}--{}.json",
        name(&key.user),
        name(&key.workspace)
    ))
}

/// FNV-1a, 64 bits: a stable hash for file names (the same on every platform and Rust version).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The pending changes saved for `key` (none if there is no file). A file that cannot be read
/// is renamed aside, never overwritten, and reported.
pub fn load(dir: &Path, key: &OutboxKey) -> Result<Vec<Pending>, OutboxFileError> {
    let file = path(dir, key);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(unreadable(&file, &e.to_string())),
    };
    let stored: Stored = match serde_json::from_str(&text) {
        Ok(stored) => stored,
        Err(e) => return Err(unreadable(&file, &e.to_string())),
    };
    if stored.version != VERSION
        || stored.server != key.server
        || stored.user_id != key.user
        || stored.workspace_id != key.workspace
    {
        return Err(unreadable(
            &file,
            "it was written by another warren version or for another server, user or workspace",
        ));
    }
    Ok(stored
        .pending
        .into_iter()
        .map(|p| Pending {
            request_id: p.request_id,
            command: p.command,
            sent: false,
        })
        .collect())
}

fn unreadable(file: &Path, reason: &str) -> OutboxFileError {
    let kept = file.with_extension("unreadable");
    let kept = match std::fs::rename(file, &kept) {
        Ok(()) => kept,
        Err(_) => file.to_path_buf(),
    };
    OutboxFileError::Unreadable {
        path: file.display().to_string(),
        reason: reason.to_owned(),
        kept: kept.display().to_string(),
    }
}

/// Saves `pending` for `key`, replacing the file atomically; removes it when nothing waits.
pub fn save(dir: &Path, key: &OutboxKey, pending: &[Pending]) -> Result<(), OutboxFileError> {
    let file = path(dir, key);
    let failed = |source| OutboxFileError::Write {
        path: file.display().to_string(),
        source,
    };
    if pending.is_empty() {
        return match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
            _ => Ok(()),
        };
    }
    let stored = Stored {
        version: VERSION,
        server: key.server.clone(),
        user_id: key.user.clone(),
        workspace_id: key.workspace.clone(),
        pending: pending
            .iter()
            .map(|p| StoredCommand {
                request_id: p.request_id.clone(),
                command: p.command.clone(),
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&stored)
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
    private_file::create_dir(dir).map_err(failed)?;
    let tmp = file.with_extension(format!("json.tmp{}", std::process::id()));
    private_file::replace(&file, &tmp, &bytes).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::tests::fixture::id;

    fn key() -> OutboxKey {
        OutboxKey {
            server: "http://127.0.0.1:7878".into(),
            user: id("usr", 1),
            workspace: id("ws", 1),
        }
    }

    fn pending() -> Vec<Pending> {
        vec![Pending {
            request_id: RequestId::parse("req-1").expect("a request id"),
            command: Command::DeleteCard {
                card_id: id("card", 1),
            },
            sent: true,
        }]
    }

    #[test]
    fn round_trips_privately_and_goes_away_when_empty() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let outbox = dir.path().join("outbox");
        save(&outbox, &key(), &pending())?;
        let file = path(&outbox, &key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&file)?.permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(&outbox)?.permissions().mode() & 0o777,
                0o700
            );
        }
        let loaded = load(&outbox, &key())?;
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].request_id, pending()[0].request_id);
        assert_eq!(loaded[0].command, pending()[0].command);
        assert!(!loaded[0].sent, "loaded changes are sent again");
        // Another user, workspace or server has its own file.
        let mut other = key();
        other.user = id("usr", 2);
        assert!(load(&outbox, &other)?.is_empty());
        let mut alike = key();
        alike.server = "http://127.0.0.1/7878".into();
        assert_ne!(path(&outbox, &alike), file);
        assert!(load(&outbox, &alike)?.is_empty());
        save(&outbox, &key(), &[])?;
        assert!(!file.exists());
        assert_eq!(std::fs::read_dir(&outbox)?.count(), 0, "no temp file left");
        Ok(())
    }

    #[test]
    fn an_unreadable_file_is_kept_aside_and_reported() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = path(dir.path(), &key());
        std::fs::write(&file, "{ not json")?;
        let err = load(dir.path(), &key()).expect_err("unreadable");
        assert!(err.to_string().contains("remove it"), "{err}");
        assert!(file.with_extension("unreadable").exists());
        assert!(load(dir.path(), &key())?.is_empty());
        Ok(())
    }
}
