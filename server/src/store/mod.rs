//! The embedded redb store: opening and creating it, its schema, and the reads the services need.
//!
//! Writes happen only through [`Store::begin_write`], and in the running server only on the
//! group-commit writer thread (see [`crate::writer`]). Every write transaction commits durably with
//! redb's two-phase commit; `docs/architecture.md` says why.

mod create;
mod error;
pub mod read;
pub mod records;
pub mod schema;
pub mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use create::{create_private_dir, create_with};
pub use error::StoreError;

/// File name of the store inside the data directory.
pub const FILE_NAME: &str = "warren.redb";

/// A handle to the open store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
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
            db: Arc::new(db),
            path,
        }
    }

    /// Opens the existing store in `dir`, migrating an older schema forward.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, None)
    }

    /// Opens the existing store in `dir` with a page cache of `cache_bytes` (redb's default,
    /// 1 GiB, when `None`), migrating an older schema forward.
    pub fn open_with_cache(dir: &Path, cache_bytes: Option<usize>) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let mut builder = Database::builder();
        if let Some(bytes) = cache_bytes {
            builder.set_cache_size(bytes);
        }
        let db = builder.open(&path).map_err(|e| open_error(e, dir))?;
        let store = Self {
            db: Arc::new(db),
            path,
        };
        let txn = store.begin_write()?;
        schema::check_and_migrate(&txn)?;
        create_all_tables(&txn)?;
        txn.commit()?;
        Ok(store)
    }

    /// The path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Begins a durable write transaction (immediate durability, two-phase commit).
    pub fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write()?;
        txn.set_two_phase_commit(true);
        Ok(txn)
    }

    /// Begins a read transaction on the latest committed state.
    pub fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.db.begin_read()?)
    }
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
