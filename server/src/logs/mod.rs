//! Run logs on the server: where each run's log stands ([`progress`]). Log lines are stored in
//! chunks through the writer's group commit, outside the workspace event stream, and reach only
//! the clients that view the run.

pub mod progress;
