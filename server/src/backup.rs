//! Backups and restores of the store.
//!
//! A backup is a new redb file holding every table exactly as one read transaction saw it, so
//! it is a consistent snapshot (every workspace's events up to its head, and the state those
//! events made) taken while the writer goes on committing. The running server writes it when
//! asked over its admin socket ([`crate::admin`]); nothing goes around the store's file lock.
//!
//! A restore checks the file first ([`crate::check`]), refuses to replace a store unless asked
//! to (and then keeps the replaced file), and never touches a store a running server holds.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use redb::{
    Database, Key, MultimapTableHandle, ReadTransaction, ReadableTable, TableDefinition,
    TableHandle, Value,
};

use crate::check;
use crate::store::tables::*;
use crate::store::{FILE_NAME, StoreError, create_private_dir};

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// The store has a table this build does not know how to copy.
    #[error(
        "the store has a table this warren-server does not back up ({0}); use the warren-server that wrote the store"
    )]
    UnknownTable(String),
    #[error(
        "{0} already holds a warren store; pass --force to replace it (the old file is kept as warren.redb.replaced-TIME)"
    )]
    Exists(PathBuf),
    #[error(
        "the store in {0} is in use (is 'warren-server serve' running on it?); stop that server before restoring"
    )]
    InUse(PathBuf),
    #[error("{path} is not a usable warren backup:\n{problems}")]
    NotValid { path: PathBuf, problems: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Copied {
    /// Rows copied, all tables.
    pub rows: u64,
    /// Events copied, all workspaces.
    pub events: u64,
}

/// Creates `path` (which must not exist) readable and writable by its owner only.
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Copies everything `txn` sees into a new store file at `dest` (which must not exist).
pub fn copy_snapshot(txn: &ReadTransaction, dest: &Path) -> Result<Copied, BackupError> {
    let file = create_private_file(dest).map_err(io(format!(
        "cannot create the backup file {}",
        dest.display()
    )))?;
    let result = write_tables(txn, file);
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

fn write_tables(txn: &ReadTransaction, file: File) -> Result<Copied, BackupError> {
    let db = redb::backends::FileBackend::new(file)
        .and_then(|backend| Database::builder().create_with_backend(backend))
        .map_err(StoreError::from)?;
    let out = db.begin_write().map_err(StoreError::from)?;
    let mut copied = Copied { rows: 0, events: 0 };
    let mut names = Vec::new();
    macro_rules! copy {
        ($($table:ident),* $(,)?) => {
            $(
                copied.rows += copy_table(txn, &out, $table)?;
                names.push($table.name().to_owned());
            )*
        };
    }
    copy!(
        META,
        USERS,
        TOKENS,
        WORKSPACES,
        MEMBERS,
        HEADS,
        EVENTS,
        COUNTERS,
        BOARDS,
        CARDS,
        COLUMN_CARDS,
        ROOMS,
        MESSAGES,
        MESSAGE_IDS,
        REQUESTS,
        INVITES,
        AUDIT,
        JOBS,
        RUNS,
        RUN_NUMBERS,
        LOG_PROGRESS,
        WORKERS,
        LOG_CHUNKS,
        PROVIDERS,
        AGENTS,
        STEPS,
        GRANTS,
        BUDGETS,
        USAGE,
    );
    // A table added to the store but not to the list above would be lost silently: refuse.
    for table in txn.list_tables().map_err(StoreError::from)? {
        if !names.iter().any(|n| n == table.name()) {
            return Err(BackupError::UnknownTable(table.name().to_owned()));
        }
    }
    if let Some(table) = txn.list_multimap_tables().map_err(StoreError::from)?.next() {
        return Err(BackupError::UnknownTable(table.name().to_owned()));
    }
    for entry in txn
        .open_table(HEADS)
        .map_err(StoreError::from)?
        .iter()
        .map_err(StoreError::from)?
    {
        let (_, seq) = entry.map_err(StoreError::from)?;
        copied.events += seq.value();
    }
    out.commit().map_err(StoreError::from)?;
    Ok(copied)
}

fn copy_table<K: Key + 'static, V: Value + 'static>(
    from: &ReadTransaction,
    to: &redb::WriteTransaction,
    table: TableDefinition<K, V>,
) -> Result<u64, BackupError> {
    let source = match from.open_table(table) {
        Ok(t) => t,
        // A store from before this table existed: nothing to copy.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(StoreError::from(e).into()),
    };
    let mut target = to.open_table(table).map_err(StoreError::from)?;
    let mut rows = 0;
    for entry in source.iter().map_err(StoreError::from)? {
        let (key, value) = entry.map_err(StoreError::from)?;
        target
            .insert(key.value(), value.value())
            .map_err(StoreError::from)?;
        rows += 1;
    }
    Ok(rows)
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub path: PathBuf,
    /// Where the store that was replaced now is, with `--force`.
    pub replaced: Option<PathBuf>,
}

/// Restores the backup `from` as the store of `data`: checks it, then moves it into place.
/// Refuses to replace an existing store unless `force`, and never replaces one that is open.
pub fn restore(from: &Path, data: &Path, force: bool) -> Result<Restored, BackupError> {
    create_private_dir(data)?;
    let target = data.join(FILE_NAME);
    let exists = target.exists();
    if exists {
        if !force {
            return Err(BackupError::Exists(data.to_path_buf()));
        }
        // A file we cannot open for another reason is moved aside like any other.
        if let Err(redb::DatabaseError::DatabaseAlreadyOpen) =
            Database::builder().open_read_only(&target)
        {
            return Err(BackupError::InUse(data.to_path_buf()));
        }
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let temp = data.join(format!(".{FILE_NAME}.restore-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let copy = (|| -> std::io::Result<()> {
        let mut source = File::open(from)?;
        let mut dest = create_private_file(&temp)?;
        std::io::copy(&mut source, &mut dest)?;
        dest.sync_all()
    })();
    if let Err(e) = copy {
        let _ = std::fs::remove_file(&temp);
        return Err(io(format!(
            "cannot copy {} into {}",
            from.display(),
            data.display()
        ))(e));
    }
    let report = check::check_file(&temp);
    if !report.ok() {
        let _ = std::fs::remove_file(&temp);
        return Err(BackupError::NotValid {
            path: from.to_path_buf(),
            problems: report.problems.join("\n"),
        });
    }
    let mut replaced = None;
    if exists {
        let aside = data.join(format!("{FILE_NAME}.replaced-{stamp}"));
        std::fs::rename(&target, &aside).map_err(io(format!(
            "cannot move the old store {} aside",
            target.display()
        )))?;
        replaced = Some(aside);
    }
    std::fs::rename(&temp, &target).map_err(io(format!(
        "cannot move the restored store into place at {}",
        target.display()
    )))?;
    if let Ok(dir) = File::open(data) {
        let _ = dir.sync_all();
    }
    Ok(Restored {
        path: target,
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_copy_holds_every_table_of_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::create(&dir.path().join("data")).expect("create");
        crate::service::workspace::bootstrap(&store, "ada", "Acme").expect("bootstrap");
        let dest = dir.path().join("copy.redb");
        let txn = store.begin_read().expect("read");
        let copied = copy_snapshot(&txn, &dest).expect("copy");
        assert!(copied.events >= 2, "{copied:?}");
        let names = |txn: &ReadTransaction| -> Vec<String> {
            let mut v: Vec<String> = txn
                .list_tables()
                .expect("list")
                .map(|t| t.name().to_owned())
                .collect();
            v.sort();
            v
        };
        let copy = Database::builder().open_read_only(&dest).expect("opens");
        let copy_txn = redb::ReadableDatabase::begin_read(&copy).expect("read");
        assert_eq!(names(&copy_txn), names(&txn));
        assert!(check::check_file(&dest).ok());
        assert!(copy_snapshot(&txn, &dest).is_err(), "never overwrites");
    }
}
