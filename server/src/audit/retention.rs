//! Keeping the audit log to `[retention] audit_days` (`--audit-days`, 365 by default; 0 keeps
//! everything): once an hour, entries older than that are deleted, each scope from its oldest
//! entry on (ids increase with time, so the scan stops at the first entry to keep).

use std::sync::Arc;
use std::time::Duration;

use redb::ReadableTable;

use super::Stored;
use crate::app::App;
use crate::store::tables::AUDIT;
use crate::store::{Store, StoreError, decode};

const DAY_MS: i64 = 86_400_000;
/// How often old entries are looked for.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Deletes the entries older than `days` before `now`; returns how many.
pub fn prune(store: &Store, now: i64, days: u32) -> Result<u64, StoreError> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
    let txn = store.begin_write()?;
    let mut removed = 0;
    {
        let mut table = txn.open_table(AUDIT)?;
        let mut old: Vec<(String, u64)> = Vec::new();
        let mut scope: Option<String> = None;
        // Rows are ordered by (scope, id): within a scope, the oldest come first.
        for row in table.iter()? {
            let (key, value) = row?;
            let (s, id) = key.value();
            if scope.as_deref() == Some(s) {
                continue;
            }
            let stored: Stored = decode("audit", value.value())?;
            if stored.entry.at < cutoff {
                old.push((s.to_owned(), id));
            } else {
                // The rest of this scope is newer: skip to the next scope.
                scope = Some(s.to_owned());
            }
        }
        for (s, id) in old {
            table.remove((s.as_str(), id))?;
            removed += 1;
        }
    }
    txn.commit()?;
    Ok(removed)
}

/// Prunes now and then every [`EVERY`], for as long as the server runs (it holds the server
/// weakly, so it never keeps the store open).
pub fn spawn(app: &Arc<App>) {
    let days = app.limits.audit_days;
    if days == 0 {
        return;
    }
    let app = Arc::downgrade(app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = app.upgrade() else {
                return;
            };
            let now = crate::service::now_ms();
            match app.read(move |s| prune(s, now, days)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, days, "old audit entries removed"),
                Err(e) => tracing::warn!(error = %e, "could not remove old audit entries"),
            }
        }
    });
}
