//! What a batch of the writer does about runs besides its events, once the batch is durable:
//! frames to workers (`assign`, `cancel_run`), secrets to forget, and whether to look at the
//! queue. Collected while commands apply; carried out only after the commit, so nothing leaves
//! the server about a change that was not stored.

use warren_protocol::{Event, Id};

/// Work to do after a batch commits.
#[derive(Debug, Default)]
pub struct Effects {
    /// Frames for workers: (workspace, worker's bot id, frame JSON).
    pub to_workers: Vec<(Id, Id, String)>,
    /// Runs whose secret values are no longer needed.
    pub forget: Vec<Id>,
    /// Something changed that may let a queued run go to a worker (or a lease end).
    pub schedule: bool,
    /// Events made outside the batch's requests (assignment, leases), in order:
    /// (workspace, event, stored JSON).
    pub events: Vec<(Id, Event, String)>,
}

impl Effects {
    /// Queues a frame for a worker.
    pub fn send(&mut self, workspace: &Id, worker: &Id, message: &warren_protocol::ServerMessage) {
        self.to_workers.push((
            workspace.clone(),
            worker.clone(),
            crate::frames::text(message).to_string(),
        ));
    }
}
