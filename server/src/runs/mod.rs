//! In-memory state of the runs domain that the writer and the connections share: the secret
//! parameter values of runs that have not finished (never stored; see [`secrets`]). Durable run
//! records live in the store (`JOBS`, `RUNS`, …) and change only in the writer.

pub mod secrets;

/// What the writer and the connections share about runs.
#[derive(Debug, Default)]
pub struct RunState {
    /// Secret parameter values by run, until the run finishes.
    pub secrets: secrets::SecretVault,
    /// The followers of each run's log, fed by the writer after each commit.
    pub logs: crate::logs::feed::LogFeed,
}
