//! Creating a store atomically: the new file is built under a temporary name in the data
//! directory (mode 0600, in a 0700 directory), filled by the caller, and only then linked to
//! `warren.redb`. A failure at any step removes the temporary file, so a failed `init` never
//! leaves a half-made store behind.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use redb::Database;

use super::{FILE_NAME, Store, StoreError, create_all_tables, open_error, schema};

fn io_error(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// Creates `dir` (and missing parents) with mode 0700; an existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_error(format!(
        "cannot create data directory {}",
        dir.display()
    )))
}

/// Creates a new file readable and writable by its owner only (0600 from the first byte).
fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A temporary file name in `dir` that no other process picks.
fn temp_path(dir: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(".{FILE_NAME}.new-{}-{nanos}", std::process::id()))
}

/// Removes the temporary file when dropped, unless it was disarmed after the final link.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Creates a store in `dir`, lets `fill` write its first contents, and only when `fill`
/// succeeds makes it `dir/warren.redb`. Fails with [`StoreError::AlreadyInitialized`] if a store
/// exists (also when another process created one meanwhile). On any error nothing is left behind
/// but the (possibly new, empty) directory.
pub fn create_with<T, E>(dir: &Path, fill: impl FnOnce(&Store) -> Result<T, E>) -> Result<T, E>
where
    E: From<StoreError>,
{
    create_private_dir(dir)?;
    let path = dir.join(FILE_NAME);
    if path.exists() {
        return Err(StoreError::AlreadyInitialized(dir.to_path_buf()).into());
    }
    let temp = temp_path(dir);
    let file = create_private_file(&temp).map_err(io_error(format!(
        "cannot create a new store file in {}",
        dir.display()
    )))?;
    let mut guard = TempFile(Some(temp.clone()));
    let db = redb::backends::FileBackend::new(file)
        .and_then(|backend| Database::builder().create_with_backend(backend))
        .map_err(|e| open_error(e, dir))?;
    let store = Store::from_parts(db, path.clone());
    let txn = store.begin_write()?;
    schema::stamp(&txn)?;
    create_all_tables(&txn)?;
    txn.commit().map_err(StoreError::from)?;
    let value = fill(&store)?;
    drop(store);
    // A hard link never replaces an existing file, so two concurrent `init`s cannot both win.
    match std::fs::hard_link(&temp, &path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::AlreadyInitialized(dir.to_path_buf()).into());
        }
        Err(_) => std::fs::rename(&temp, &path).map_err(io_error(format!(
            "cannot move the new store into place at {}",
            path.display()
        )))?,
    }
    drop(guard.0.take().map(std::fs::remove_file));
    sync_dir(dir);
    Ok(value)
}

/// Flushes the directory entry of the new file (best effort; not every platform can).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_leaves_no_store_and_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let result: Result<(), StoreError> = create_with(&data, |_| Err(StoreError::SchemaUnknown));
        assert!(matches!(result, Err(StoreError::SchemaUnknown)));
        let left: Vec<_> = std::fs::read_dir(&data)
            .expect("the directory exists")
            .collect();
        assert!(left.is_empty(), "{left:?}");
        create_with(&data, |_| Ok::<_, StoreError>(())).expect("a second try works");
        assert!(data.join(FILE_NAME).exists());
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_is_0700_and_the_file_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        create_with(&data, |_| Ok::<_, StoreError>(())).expect("create");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join(FILE_NAME)), 0o600);
        let again = create_with(&data, |_| Ok::<_, StoreError>(()));
        assert!(matches!(again, Err(StoreError::AlreadyInitialized(_))));
    }
}
