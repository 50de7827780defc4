//! The local server's advert: while `warren` serves the local workspace in-process, it writes
//! its process id and loopback address to `DATA/local-server.json` (mode 0600), so a CLI command
//! run meanwhile connects to it instead of opening the store a second time, and so a second
//! `warren` can say which process holds the workspace. The file is removed when that server
//! stops; a file left by a crashed process names a pid that is gone, or an address that refuses.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the advert inside the local data dir.
pub const FILE: &str = "local-server.json";

/// Which process serves the local workspace, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advert {
    /// The process id of the `warren` that serves it.
    pub pid: u32,
    /// Its loopback address, such as `127.0.0.1:40123`.
    pub addr: String,
}

impl Advert {
    /// An advert for this process serving at `addr`.
    pub fn for_this_process(addr: std::net::SocketAddr) -> Self {
        Self {
            pid: std::process::id(),
            addr: addr.to_string(),
        }
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Writes the advert atomically (a fresh 0600 file renamed into place).
pub fn write(dir: &Path, advert: &Advert) -> std::io::Result<()> {
    let json = serde_json::to_vec(advert).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&tmp)
        .and_then(|mut file| file.write_all(&json))
        .and_then(|()| std::fs::rename(&tmp, path(dir)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Reads the advert, if there is a readable one.
pub fn read(dir: &Path) -> Option<Advert> {
    let bytes = std::fs::read(path(dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Removes the advert if this process wrote it.
pub fn remove_own(dir: &Path) {
    if read(dir).is_some_and(|a| a.pid == std::process::id()) {
        let _ = std::fs::remove_file(path(dir));
    }
}

/// Whether a process with this id exists (on Linux, by `/proc`; elsewhere it is assumed, and
/// connecting to the advertised address decides).
pub fn process_alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc/self");
    if proc_root.exists() {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_privately_and_only_its_writer_removes_it() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(read(dir.path()), None);
        let mine = Advert::for_this_process(([127, 0, 0, 1], 4000).into());
        write(dir.path(), &mine)?;
        assert_eq!(read(dir.path()), Some(mine.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(process_alive(mine.pid));
        let other = Advert {
            pid: mine.pid + 1,
            addr: mine.addr.clone(),
        };
        write(dir.path(), &other)?;
        remove_own(dir.path());
        assert_eq!(
            read(dir.path()),
            Some(other),
            "another process's advert stays"
        );
        write(dir.path(), &mine)?;
        remove_own(dir.path());
        assert_eq!(read(dir.path()), None);
        Ok(())
    }
}
