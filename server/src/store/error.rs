//! Errors of the storage layer.

use std::path::PathBuf;

/// A failure to open, read or write the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No store file exists at the data directory.
    #[error("no warren store in {0}; create one with 'warren-server init --data {0}'")]
    Missing(PathBuf),
    /// `init` was asked to create a store that already exists.
    #[error(
        "{0} already holds a warren store; start it with 'warren-server serve --data {0}' or add a token with 'warren-server token create --data {0}'"
    )]
    AlreadyInitialized(PathBuf),
    /// Another process (usually a running `warren-server serve`) has the file open.
    #[error(
        "the store {0} is in use by another process (is 'warren-server serve' running on it?); stop that process first"
    )]
    InUse(PathBuf),
    /// The store was written by a newer warren-server.
    #[error(
        "the store has schema version {found}, newer than this warren-server understands ({supported}); upgrade warren-server"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    /// The store has no schema version or an unreadable one.
    #[error("the store has no readable schema version; it was not created by warren-server init")]
    SchemaUnknown,
    /// A stored document did not decode.
    #[error("corrupt record in table {table}: {source}")]
    Corrupt {
        table: &'static str,
        source: serde_json::Error,
    },
    /// An I/O error around the store file.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// The store was closed after a storage error and could not be opened again yet.
    #[error(
        "the store is closed after a storage error (a full disk?); free space and the server reopens it on the next write"
    )]
    Closed,
    /// An error from redb.
    #[error("storage error: {0}")]
    Redb(#[from] redb::Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {
        $(impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Redb(e.into())
            }
        })*
    };
}

from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::DatabaseError
);

impl StoreError {
    /// Whether this failure means the disk (or the user's quota) is full.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::Io { source, .. } | StoreError::Redb(redb::Error::Io(source)) => {
                io_full(source)
            }
            _ => false,
        }
    }

    /// Whether redb needs the database opened again before it accepts another transaction.
    pub fn needs_reopen(&self) -> bool {
        matches!(
            self,
            StoreError::Closed
                | StoreError::Redb(redb::Error::Io(_) | redb::Error::PreviousIo)
                | StoreError::Io { .. }
        )
    }
}

/// `ENOSPC` or `EDQUOT`.
fn io_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}
