//! The stored schema version and the forward migrations that bring an older store up to date.

use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::tables::META;

/// The schema this build writes.
pub const CURRENT: u32 = 1;

const KEY: &str = "schema_version";

/// A migration from version `from` to `from + 1`, run inside one write transaction.
type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Forward migrations, by the version they start from. v1 is the first schema, so there are none
/// yet; a v2 adds `(1, migrate_v1_to_v2)` here.
const MIGRATIONS: &[(u32, Migration)] = &[];

/// Writes the current version into a fresh store.
pub fn stamp(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META)?;
    meta.insert(KEY, CURRENT.to_le_bytes().as_slice())?;
    Ok(())
}

/// Reads the stored version.
pub fn read(txn: &WriteTransaction) -> Result<u32, StoreError> {
    let meta = txn.open_table(META)?;
    let value = meta.get(KEY)?.ok_or(StoreError::SchemaUnknown)?;
    let bytes: [u8; 4] = value
        .value()
        .try_into()
        .map_err(|_| StoreError::SchemaUnknown)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Checks the stored version and runs any forward migrations. Refuses a newer schema.
pub fn check_and_migrate(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut version = read(txn)?;
    if version > CURRENT {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported: CURRENT,
        });
    }
    while version < CURRENT {
        let migration = MIGRATIONS
            .iter()
            .find(|(from, _)| *from == version)
            .map(|(_, m)| *m)
            .ok_or(StoreError::SchemaUnknown)?;
        migration(txn)?;
        version += 1;
        let mut meta = txn.open_table(META)?;
        meta.insert(KEY, version.to_le_bytes().as_slice())?;
    }
    Ok(())
}
