//! The secret vault: values of `secret` job parameters, held in memory from `start_run` until
//! the run finishes, so that the assigned worker can receive them and the log path can redact
//! them. They are never written to the store, logged, or sent to anyone but the assigned worker.
//! A server restart forgets them: a run that still needs them then fails with a reason that says
//! to start it again.

use std::collections::HashMap;
use std::sync::Mutex;

use warren_protocol::Id;

/// One secret parameter value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} = ***)", self.name)
    }
}

/// Secret values by run id.
#[derive(Default)]
pub struct SecretVault {
    runs: Mutex<HashMap<Id, Vec<Secret>>>,
}

impl std::fmt::Debug for SecretVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.runs.lock().map(|r| r.len()).unwrap_or(0);
        write!(f, "SecretVault({runs} runs)")
    }
}

impl SecretVault {
    /// Keeps `secrets` for `run` (replacing what was kept for it). Empty lists keep nothing.
    pub fn put(&self, run: &Id, secrets: Vec<Secret>) {
        let Ok(mut runs) = self.runs.lock() else {
            return;
        };
        if secrets.is_empty() {
            runs.remove(run);
        } else {
            runs.insert(run.clone(), secrets);
        }
    }

    /// The secrets kept for `run`, if any.
    pub fn get(&self, run: &Id) -> Option<Vec<Secret>> {
        self.runs.lock().ok()?.get(run).cloned()
    }

    /// The values only (for redaction).
    pub fn values(&self, run: &Id) -> Vec<String> {
        self.get(run)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.value)
            .collect()
    }

    /// Forgets `run`'s secrets (it finished).
    pub fn forget(&self, run: &Id) {
        if let Ok(mut runs) = self.runs.lock() {
            runs.remove(run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_until_forgotten_and_never_printed() {
        let vault = SecretVault::default();
        let run = Id::from_random("run", [3; 10]);
        vault.put(
            &run,
            vec![Secret {
                name: "api_key".into(),
                value: "sk-live-4f9a".into(),
            }],
        );
        assert_eq!(vault.values(&run), vec!["sk-live-4f9a".to_owned()]);
        let printed = format!("{:?} {:?}", vault, vault.get(&run));
        assert!(!printed.contains("sk-live"), "{printed}");
        vault.forget(&run);
        assert!(vault.get(&run).is_none());
    }
}
