//! The `budgets` and `usage` queries, over committed state (a read transaction).

use redb::ReadTransaction;
use warren_protocol::budget::{Budget, UsageRow};

use super::{BudgetRecord, period};
use crate::store::read::list_in_workspace;
use crate::store::tables::{BUDGETS, USAGE};
use crate::store::{StoreError, decode};

/// Most usage rows one `usage` query returns; a longer range is refused with what to do.
pub const MAX_USAGE_ROWS: usize = 5_000;

/// Why a `usage` query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "more than {MAX_USAGE_ROWS} usage rows from {since} to {until}; ask for a shorter range \
         (a later `since`, or an `until`)"
    )]
    TooMany { since: String, until: String },
    #[error("`since` ({since}) is after `until` ({until}); swap them")]
    Backwards { since: String, until: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every budget of the workspace as it stands at `now` (a period that ended counts from 0),
/// the workspace's first, then agents', then rooms'.
pub fn budgets(
    txn: &ReadTransaction,
    workspace: &str,
    now: i64,
) -> Result<Vec<Budget>, StoreError> {
    let records: Vec<BudgetRecord> =
        list_in_workspace(&txn.open_table(BUDGETS)?, "budgets", workspace)?;
    let mut out: Vec<Budget> = records.into_iter().map(|r| r.at(now).budget).collect();
    out.sort_by(|a, b| a.scope.cmp(&b.scope));
    Ok(out)
}

/// The usage rows of the UTC days from `since`'s to `until`'s (default: `now`), ordered by
/// day, then agent, provider and room.
pub fn usage(
    txn: &ReadTransaction,
    workspace: &str,
    since: i64,
    until: Option<i64>,
    now: i64,
) -> Result<Vec<UsageRow>, UsageError> {
    let (first, last) = (period::day(since), period::day(until.unwrap_or(now)));
    if first > last {
        return Err(UsageError::Backwards {
            since: first,
            until: last,
        });
    }
    let table = txn.open_table(USAGE).map_err(StoreError::from)?;
    let mut rows = Vec::new();
    for entry in table
        .range((workspace, first.as_str(), "", "", "")..)
        .map_err(StoreError::from)?
    {
        let (key, value) = entry.map_err(StoreError::from)?;
        let (w, day, ..) = key.value();
        if w != workspace || day > last.as_str() {
            break;
        }
        if rows.len() == MAX_USAGE_ROWS {
            return Err(UsageError::TooMany {
                since: first,
                until: last,
            });
        }
        rows.push(decode::<UsageRow>("usage", value.value())?);
    }
    Ok(rows)
}

/// The `usage` query's answer: the rows, or (inner `Err`) why the query is refused, in words.
pub fn usage_answer(
    store: &crate::store::Store,
    workspace: &warren_protocol::Id,
    since: i64,
    until: Option<i64>,
    now: i64,
) -> Result<Result<Vec<UsageRow>, String>, StoreError> {
    match usage(&store.begin_read()?, workspace.as_str(), since, until, now) {
        Ok(rows) => Ok(Ok(rows)),
        Err(UsageError::Store(e)) => Err(e),
        Err(refusal) => Ok(Err(refusal.to_string())),
    }
}
