//! Files only their owner may read: the profile (with its token) and the outbox of changes not
//! yet sent. Directories are made 0700 and files 0600 from the start (never world-readable, not
//! even briefly), and a file is replaced atomically: written in full to a temporary name, synced,
//! then renamed over the old one, so a crash leaves either the old file or the new one.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) with mode 0700 where it does not exist.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Replaces `path` with `bytes` atomically through `tmp` (a name in the same directory), both
/// 0600; the directory must exist. On failure the temporary file is removed.
pub fn replace(path: &Path, tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let written = write_new(tmp, bytes).and_then(|()| std::fs::rename(tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    written
}

/// Writes `path` (replacing a stale one) with mode 0600 from the start, and syncs it.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
