//! What a worker does with one job run, without any networking: [`exec`] runs the command under
//! `sh -c` in its own process group and reports its [`exec::Outcome`]; its output comes out as
//! numbered, redacted, capped [`line::LogLine`]s in [`line::Batch`]es ready to send.
//!
//! The pieces: [`spec`] (what to run and the limits), [`redact`] (secrets and tokens become
//! `***`), [`splitter`] (raw bytes into lines), [`collect`] (numbering, the log cap, batching),
//! [`group`] (signals to the process group and the check that none of it remains), [`guard`]
//! (a process per job that stops its group should the worker die).
//! The types of those pieces are free of protocol types. On top of them, the worker loop
//! ([`work_loop`]) connects to a server: [`assignment`] maps an `assign` frame to a
//! [`spec::JobSpec`] and an outcome to its report, [`outbox`] numbers and holds a run's log
//! chunks until acknowledged, [`held`] is a run the worker holds until its finish report lands.
//! Agent runs (an `assign` with an `agent` part) are driven by [`agent`] instead: model calls
//! through the provider layer, steps and tool calls as commands, no process and no log.

pub mod agent;
pub mod assignment;
pub mod collect;
pub mod exec;
pub mod group;
pub mod guard;
pub mod held;
pub mod line;
pub mod outbox;
pub mod redact;
pub mod spec;
pub mod splitter;
pub mod work_loop;

pub use exec::{Execution, Outcome, RunHandle};
pub use line::{Batch, LogLine, Stream};
pub use spec::{JobSpec, Limits, Param};

#[cfg(test)]
mod exec_tests;
