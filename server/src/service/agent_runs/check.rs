//! `warren-server check` for agent runs: the `STEPS` and `GRANTS` tables against what the
//! `run_step`, `approval_granted` and `approval_revoked` events of a workspace say.

use std::collections::BTreeMap;

use redb::ReadTransaction;
use warren_protocol::Change;
use warren_protocol::step::{ApprovalGrant, RunStep};

use crate::store::tables::{GRANTS, STEPS};
use crate::store::{StoreError, decode};

/// Steps and grants rebuilt from a workspace's events.
#[derive(Debug, Default)]
pub struct Replayed {
    /// `(run_id, n) → the latest state of the step`.
    steps: BTreeMap<(String, u32), RunStep>,
    /// `grant_id → grant`.
    grants: BTreeMap<String, ApprovalGrant>,
}

impl Replayed {
    /// Takes one event's change.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::RunStep { step } => {
                self.steps.insert((step.run_id.to_string(), step.n), step);
            }
            Change::ApprovalGranted { grant } => {
                self.grants.insert(grant.id.to_string(), grant);
            }
            Change::ApprovalRevoked { grant_id } => {
                self.grants.remove(grant_id.as_str());
            }
            _ => {}
        }
    }
}

/// What differs between the tables and the events of workspace `ws`, one sentence each.
pub fn compare(
    txn: &ReadTransaction,
    ws: &str,
    replayed: &Replayed,
) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let mut stored_steps = BTreeMap::new();
    for entry in txn.open_table(STEPS)?.range((ws, "", 0)..)? {
        let (key, value) = entry?;
        let (w, run, n) = key.value();
        if w != ws {
            break;
        }
        let step: RunStep = decode("steps", value.value())?;
        stored_steps.insert((run.to_owned(), n), step);
    }
    for (key, step) in &replayed.steps {
        match stored_steps.get(key) {
            None => problems.push(format!(
                "workspace {ws}: step {} of run {} is missing from the steps table though its events stored it",
                key.1, key.0
            )),
            Some(stored) if stored != step => problems.push(format!(
                "workspace {ws}: step {} of run {} in the steps table differs from what its events say",
                key.1, key.0
            )),
            Some(_) => {}
        }
    }
    for key in stored_steps
        .keys()
        .filter(|k| !replayed.steps.contains_key(*k))
    {
        problems.push(format!(
            "workspace {ws}: step {} of run {} is in the steps table but no event stored it",
            key.1, key.0
        ));
    }
    let mut stored_grants = BTreeMap::new();
    for entry in txn.open_table(GRANTS)?.range((ws, "", "")..)? {
        let (key, value) = entry?;
        if key.value().0 != ws {
            break;
        }
        let grant: ApprovalGrant = decode("grants", value.value())?;
        stored_grants.insert(grant.id.to_string(), grant);
    }
    if stored_grants != replayed.grants {
        problems.push(format!(
            "workspace {ws}: the grants table holds {} grants, its events {} (or they differ)",
            stored_grants.len(),
            replayed.grants.len()
        ));
    }
    Ok(problems)
}
