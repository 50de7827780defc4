//! What a worker does with one job run, without any networking: [`exec`] runs the command under
//! `sh -c` in its own process group and reports its [`exec::Outcome`]; its output comes out as
//! numbered, redacted, capped [`line::LogLine`]s in [`line::Batch`]es ready to send.
//!
//! The pieces: [`spec`] (what to run and the limits), [`redact`] (secrets and tokens become
//! `***`), [`splitter`] (raw bytes into lines), [`collect`] (numbering, the log cap, batching),
//! [`group`] (signals to the process group and the check that none of it remains).
//! The types here are free of protocol types: the worker loop maps them onto the wire.

pub mod collect;
pub mod exec;
pub mod group;
pub mod line;
pub mod redact;
pub mod spec;
pub mod splitter;

pub use exec::{Execution, Outcome, RunHandle};
pub use line::{Batch, LogLine, Stream};
pub use spec::{JobSpec, Limits, Param};

#[cfg(test)]
mod exec_tests;
