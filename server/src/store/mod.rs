//! The embedded redb store: opening and creating it, its schema, and the reads the services need.
//!
//! Writes happen only through [`Store::begin_write`], and in the running server only on the
//! group-commit writer thread (see [`crate::writer`]). Every write transaction commits durably with
//! redb's two-phase commit; `docs/architecture.md` says why.

mod create;
mod error;
pub mod read;
pub mod records;
pub mod run_reads;
pub mod schema;
pub mod tables;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use create::{create_private_dir, create_with};
pub use error::StoreError;

/// File name of the store inside the data directory.
pub const FILE_NAME: &str = "warren.redb";

/// redb's page cache when no size is given (`warren-server serve --cache-mib`).
pub const DEFAULT_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// A handle to the open store; cheap to clone.
///
/// After an I/O error redb refuses every further transaction until the database is opened
/// again; [`Store::reopen`] does that in place, so every clone sees the fresh database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    cache_bytes: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Creates a new, empty store in `dir` (creating the directory, 0700). Fails if one exists.
    /// See [`create_with`] to fill it before it becomes visible.
    pub fn create(dir: &Path) -> Result<Self, StoreError> {
        create_with(dir, |_| Ok::<_, StoreError>(()))?;
        Self::open(dir)
    }

    fn from_parts(db: Database, path: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(db))),
                path,
                cache_bytes: DEFAULT_CACHE_BYTES,
            }),
        }
    }

    /// Opens the existing store in `dir`, migrating an older schema forward.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let db = open_database(&path, cache_bytes)?;
        let store = Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(db))),
                path,
                cache_bytes,
            }),
        };
        let txn = store.begin_write()?;
        schema::check_and_migrate(&txn)?;
        create_all_tables(&txn)?;
        txn.commit()?;
        Ok(store)
    }

    /// The path of the store file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The page cache the store was opened with, in bytes.
    pub fn cache_bytes(&self) -> usize {
        self.inner.cache_bytes
    }

    fn database(&self) -> Result<Arc<Database>, StoreError> {
        self.inner
            .db
            .read()
            .ok()
            .and_then(|db| db.clone())
            .ok_or(StoreError::Closed)
    }

    /// Closes the database and opens it again (redb asks for this after an I/O error). Readers
    /// still holding the old file are given a moment to finish; fails with the open error if the
    /// file cannot be opened yet, leaving the store closed until the next attempt.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self.inner.db.write().map_err(|_| StoreError::Closed)?;
        // Drop our handle first: redb locks the file, so the old handle must be gone.
        *slot = None;
        let mut attempts = 0;
        let db = loop {
            match open_database(&self.inner.path, self.inner.cache_bytes) {
                Ok(db) => break db,
                Err(StoreError::InUse(_)) if attempts < 100 => {
                    // A read transaction still holds the old file; they are short.
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        };
        *slot = Some(Arc::new(db));
        Ok(())
    }

    /// Begins a durable write transaction (immediate durability, two-phase commit).
    pub fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let mut txn = self.database()?.begin_write()?;
        txn.set_two_phase_commit(true);
        Ok(txn)
    }

    /// Begins a read transaction on the latest committed state.
    pub fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.database()?.begin_read()?)
    }
}

fn open_database(path: &Path, cache_bytes: usize) -> Result<Database, StoreError> {
    let dir = path.parent().unwrap_or(path);
    Database::builder()
        .set_cache_size(cache_bytes)
        .open(path)
        .map_err(|e| open_error(e, dir))
}

fn open_error(e: redb::DatabaseError, dir: &Path) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse(dir.to_path_buf()),
        other => StoreError::from(other),
    }
}

/// Opens every table once so that read transactions never meet a missing table.
fn create_all_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    use tables::*;
    txn.open_table(META)?;
    txn.open_table(USERS)?;
    txn.open_table(TOKENS)?;
    txn.open_table(WORKSPACES)?;
    txn.open_table(MEMBERS)?;
    txn.open_table(HEADS)?;
    txn.open_table(EVENTS)?;
    txn.open_table(COUNTERS)?;
    txn.open_table(BOARDS)?;
    txn.open_table(CARDS)?;
    txn.open_table(COLUMN_CARDS)?;
    txn.open_table(ROOMS)?;
    txn.open_table(MESSAGES)?;
    txn.open_table(MESSAGE_IDS)?;
    txn.open_table(REQUESTS)?;
    txn.open_table(INVITES)?;
    txn.open_table(JOBS)?;
    txn.open_table(RUNS)?;
    txn.open_table(RUN_NUMBERS)?;
    txn.open_table(LOG_PROGRESS)?;
    txn.open_table(WORKERS)?;
    txn.open_table(LOG_CHUNKS)?;
    txn.open_table(PROVIDERS)?;
    txn.open_table(AGENTS)?;
    txn.open_table(STEPS)?;
    txn.open_table(GRANTS)?;
    txn.open_table(BUDGETS)?;
    txn.open_table(USAGE)?;
    Ok(())
}

/// Encodes a record as JSON for a table.
pub fn encode<T: Serialize>(table: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Corrupt { table, source })
}

/// Decodes a JSON record read from a table.
pub fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { table, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_keeps_the_cache_size_and_every_clone_sees_the_new_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(Store::create(dir.path()).expect("create"));
        let store = Store::open_with_cache(dir.path(), 2 * 1024 * 1024).expect("open");
        let clone = store.clone();
        let txn = store.begin_write().expect("write");
        txn.open_table(tables::META)
            .expect("meta")
            .insert("probe", b"1".as_slice())
            .expect("insert");
        txn.commit().expect("commit");
        store.reopen().expect("reopen");
        assert_eq!(clone.cache_bytes(), 2 * 1024 * 1024);
        let read = clone
            .begin_read()
            .expect("the clone reads the reopened store");
        let meta = read.open_table(tables::META).expect("meta");
        let value = meta.get("probe").expect("get").map(|v| v.value().to_vec());
        assert_eq!(
            value,
            Some(b"1".to_vec()),
            "committed data survives a reopen"
        );
    }
}
