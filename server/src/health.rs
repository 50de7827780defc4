//! What `/healthz` reports beyond "running": whether the store accepts writes. The writer sets
//! the store degraded when a commit fails (a full disk, an I/O error) and clears it when a
//! commit succeeds again.

use std::sync::Mutex;

/// Why the store does not accept writes right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    /// A stable code: `storage_full` or `storage_error`.
    pub code: &'static str,
    /// What is wrong and what an operator should do.
    pub reason: String,
}

/// The store's health, shared by the writer and the HTTP routes.
#[derive(Debug, Default)]
pub struct Health {
    degraded: Mutex<Option<Degraded>>,
}

impl Health {
    /// Marks the store degraded.
    pub fn degrade(&self, code: &'static str, reason: impl Into<String>) {
        if let Ok(mut d) = self.degraded.lock() {
            *d = Some(Degraded {
                code,
                reason: reason.into(),
            });
        }
    }

    /// Marks the store healthy; returns whether it was degraded.
    pub fn recover(&self) -> bool {
        self.degraded
            .lock()
            .map(|mut d| d.take().is_some())
            .unwrap_or(false)
    }

    /// Why the store is degraded, if it is.
    pub fn degraded(&self) -> Option<Degraded> {
        self.degraded.lock().ok().and_then(|d| d.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrade_then_recover() {
        let health = Health::default();
        assert_eq!(health.degraded(), None);
        health.degrade("storage_full", "disk full");
        assert_eq!(health.degraded().map(|d| d.code), Some("storage_full"));
        assert!(health.recover());
        assert!(!health.recover());
        assert_eq!(health.degraded(), None);
    }
}
