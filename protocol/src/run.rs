//! Jobs, runs, workers and log lines: the wire types of issue 8's runs.
//!
//! A [`Job`] is a named shell command with typed parameters. Starting it makes a [`Run`], one
//! durable record whose [`RunStatus`] moves through one state machine (see [`RunStatus::can_become`])
//! and whose every transition is one `run_updated` event. Workers are bot members that execute
//! runs; their log output travels as [`LogLine`]s outside the event stream.

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// Longest job name, in characters (names are unique in a workspace, ignoring ASCII case).
pub const MAX_JOB_NAME_CHARS: usize = 64;
/// Longest job command, in bytes.
pub const MAX_COMMAND_BYTES: usize = 16 * 1024;
/// Most parameters a job declares.
pub const MAX_PARAMS: usize = 32;
/// Longest parameter value, in bytes.
pub const MAX_PARAM_VALUE_BYTES: usize = 4 * 1024;
/// Most tags on a job or worker.
pub const MAX_TAGS: usize = 16;
/// Most retries a job may ask for after a lost run.
pub const MAX_RETRIES: u32 = 10;
/// Timeout of a job that names none, in seconds (30 minutes).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30 * 60;
/// Longest timeout a job may have, in seconds (7 days).
pub const MAX_TIMEOUT_SECS: u64 = 7 * 24 * 60 * 60;
/// Most log lines in one `log_chunk` or `log_lines` frame.
pub const MAX_LINES_PER_FRAME: usize = 4096;
/// Most log bytes (line text) in one `log_chunk` frame: the worker's batch size.
pub const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// Longest log line, in bytes; the worker splits longer ones.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The type of a job parameter. Values always travel as strings; the server checks that they
/// parse as the kind says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// Any text.
    String,
    /// A whole number (`-3`, `42`).
    Int,
    /// `true` or `false`.
    Bool,
    /// One of the parameter's `choices`.
    Choice,
    /// Text that is never stored, logged or shown: the worker gets it, every record says `***`.
    /// A secret parameter has no default.
    Secret,
}

impl ParamKind {
    /// The wire name, such as `int`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Int => "int",
            ParamKind::Bool => "bool",
            ParamKind::Choice => "choice",
            ParamKind::Secret => "secret",
        }
    }
}

/// One parameter a job declares. Without a default the parameter is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// `[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters; reaches the command as the environment
    /// variable `WARREN_PARAM_<NAME>` (upper-cased).
    pub name: String,
    pub kind: ParamKind,
    /// The allowed values of a `choice` parameter (empty for other kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A named shell command that runs on a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub id: Id,
    pub name: String,
    /// Run under `sh -c` on the worker; parameters arrive as environment variables, never
    /// spliced into this text.
    pub command: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    /// Wall-clock limit of one run, in seconds.
    pub timeout_secs: u64,
    /// How often a lost run (its worker went silent) is queued again before it stays `lost`.
    #[serde(default)]
    pub retries: u32,
    /// A worker takes the job's runs only if its tags include all of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Runs wait in `awaiting_approval` until someone with `run:approve` approves them.
    #[serde(default)]
    pub protected: bool,
    /// Most runs of this job executing at once (`None`: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    pub created_by: Id,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a run is in its life. Transitions (each one `run_updated` event):
/// `awaiting_approval → queued | rejected | cancelled`; `queued → assigned | cancelled`;
/// `assigned → running | queued | lost | cancelled | failed`;
/// `running → succeeded | failed | cancelled | timed_out | lost | queued` (queued again: lost
/// with retries left). Agent runs also go `running → awaiting_approval` (a tool call waits for a
/// decision; the decision queues the run again) and `running → paused → queued | cancelled`
/// (a budget was exhausted; raising it queues the run again). Succeeded, failed, cancelled,
/// timed out, lost and rejected are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    AwaitingApproval,
    Queued,
    Assigned,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
    Lost,
    Rejected,
    /// An agent run stopped before a model call because a budget is exhausted
    /// ([`crate::agent::AgentRun::paused_reason`] says which).
    Paused,
}

impl RunStatus {
    /// Every status, in life order.
    pub const ALL: [RunStatus; 11] = [
        RunStatus::AwaitingApproval,
        RunStatus::Queued,
        RunStatus::Assigned,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::TimedOut,
        RunStatus::Lost,
        RunStatus::Rejected,
        RunStatus::Paused,
    ];

    /// The wire name, such as `timed_out`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::AwaitingApproval => "awaiting_approval",
            RunStatus::Queued => "queued",
            RunStatus::Assigned => "assigned",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Lost => "lost",
            RunStatus::Rejected => "rejected",
            RunStatus::Paused => "paused",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }

    /// True for the statuses a run never leaves.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded
                | RunStatus::Failed
                | RunStatus::Cancelled
                | RunStatus::TimedOut
                | RunStatus::Lost
                | RunStatus::Rejected
        )
    }

    /// Whether a run may go from `self` to `next` (the state machine above).
    pub fn can_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        match self {
            AwaitingApproval => matches!(next, Queued | Rejected | Cancelled),
            Queued => matches!(next, Assigned | Cancelled),
            Assigned => matches!(next, Running | Queued | Lost | Cancelled | Failed),
            Running => matches!(
                next,
                Succeeded
                    | Failed
                    | Cancelled
                    | TimedOut
                    | Lost
                    | Queued
                    | AwaitingApproval
                    | Paused
            ),
            Paused => matches!(next, Queued | Cancelled),
            Succeeded | Failed | Cancelled | TimedOut | Lost | Rejected => false,
        }
    }
}

/// A parameter value a run was started with. A secret's value is never in a record: it reads
/// `***`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunParam {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// What a secret value reads as in every record, frame and log line.
pub const MASK: &str = "***";

/// What a warren token looks like to redaction (a regular expression): `wrn_` and at least the 16
/// characters of a token id (a whole token has 48). Workers and the server replace every match in
/// log lines by [`MASK`].
pub const TOKEN_PATTERN: &str = "wrn_[0-9A-Za-z]{16,}";

/// One execution of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub id: Id,
    /// Short and unique in the workspace: `r7` on a command line.
    pub number: u64,
    pub job_id: Id,
    /// The job's name when the run was created.
    pub job_name: String,
    /// Every declared parameter with the value used (defaults filled in, secrets `***`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<RunParam>,
    pub status: RunStatus,
    /// Who started it (a person, an agent, or the member who asked for the retry).
    pub requested_by: Id,
    /// The card it was started from or for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<Id>,
    /// The room that hears "started" and "finished" about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<Id>,
    /// The run this one re-runs (`retry_run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<Id>,
    /// 1 for the first execution, +1 each time a lost run is queued again.
    pub attempt: u32,
    /// The worker (bot user) that holds it, from `assigned` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<Id>,
    /// Who approved or rejected it (protected jobs), or cancelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Id>,
    pub created_at: i64,
    /// When it (last) entered `queued`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<i64>,
    /// A re-queued run is not assigned before this time (exponential backoff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// The command's exit code (`succeeded` and `failed` runs that exited on their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it ended as it did, in words ("timed out after 30m", "rejected: not today").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Log lines stored so far.
    #[serde(default)]
    pub lines: u64,
    /// Log bytes stored so far.
    #[serde(default)]
    pub log_bytes: u64,
    /// The agent run this run was started by (a `job.run` tool call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<Id>,
    /// Present on an agent run: then `job_id` and `job_name` are the agent's id and name, and
    /// there is no command, no parameters and no log (its steps are its record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Box<crate::agent::AgentRun>>,
}

impl Run {
    /// `r7`.
    pub fn label(&self) -> String {
        format!("r{}", self.number)
    }

    /// True for an agent run.
    pub fn is_agent(&self) -> bool {
        self.agent.is_some()
    }
}

/// How a worker says its run ended (`report_run_finished`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// Exit code 0.
    Succeeded,
    /// A non-zero exit code, killed by a signal, or could not start (`reason` says which).
    Failed,
    /// Stopped after a cancel (its `cancel_run` frame).
    Cancelled,
    /// Stopped after the job's timeout.
    TimedOut,
}

impl RunEnd {
    /// The run status this ending gives.
    pub fn status(self) -> RunStatus {
        match self {
            RunEnd::Succeeded => RunStatus::Succeeded,
            RunEnd::Failed => RunStatus::Failed,
            RunEnd::Cancelled => RunStatus::Cancelled,
            RunEnd::TimedOut => RunStatus::TimedOut,
        }
    }
}

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// The command's standard output.
    Out,
    /// The command's standard error.
    Err,
    /// Written by warren itself: start, exit, truncation, cancel.
    Sys,
}

/// One line of a run's log. On the wire an object, or for a `compact` log subscription an array
/// of the fields in this order, `continued` only when true: `[41, 1795264891000, "out", "ok"]`
/// (serde reads a struct from either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    /// 1, 2, 3, … with no gaps within a run.
    pub n: u64,
    /// When the worker read it, in milliseconds since the Unix epoch.
    pub ts: i64,
    pub stream: LogStream,
    /// The line without its newline, as the command wrote it (ANSI sequences included; bytes
    /// that are not UTF-8 become U+FFFD). Clients must sanitise it before drawing.
    pub text: String,
    /// This line continues the previous line of the same stream: that one was cut (at the
    /// 64 KiB line limit, or when the output paused mid-line), so the command wrote the two
    /// with no newline between. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
}

/// A regular expression (Rust `regex` syntax) that selects log lines, or with `invert` the lines
/// it does not match. Clients that want smart case add `(?i)` themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFilter {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invert: bool,
}

/// What a worker is doing, as `worker list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Connected, with room for another run.
    Idle,
    /// Connected and running as many runs as its concurrency allows.
    Busy,
    /// Connected but not taking work (shutting down).
    Draining,
    /// Not connected (or silent past its lease).
    Offline,
}

/// A worker as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerInfo {
    /// The bot member that the worker signs in as.
    pub user_id: Id,
    pub name: String,
    pub state: WorkerState,
    /// The tags its last `worker_hello` declared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub concurrency: u32,
    /// Its last heartbeat (or hello), in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    /// The runs it holds now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Id>,
    /// Its client name and version (`worker_hello`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// A run a worker still holds when it (re)connects: running, or finished with log chunks or its
/// finish report not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldRun {
    pub run_id: Id,
    /// The next chunk number it would send (chunks below were all sent at least once).
    pub next_chunk: u64,
}

/// The server's answer about one [`HeldRun`] in `worker_welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldRunState {
    pub run_id: Id,
    /// Chunks `0..acked_chunks` are stored; re-send from there.
    pub acked_chunks: u64,
    /// The run is not this worker's any more (lost, cancelled, unknown): stop it and drop it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop: bool,
}

/// A parameter as the assigned worker receives it: the real value, secrets included. This is the
/// only frame that carries a secret value, and only to the worker that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedParam {
    pub name: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_lead_nowhere() {
        for from in RunStatus::ALL {
            for to in RunStatus::ALL {
                if from.is_final() {
                    assert!(!from.can_become(to), "{from:?} -> {to:?}");
                }
            }
            assert!(!from.can_become(from), "{from:?} -> itself");
        }
    }

    #[test]
    fn every_status_round_trips_its_name() {
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
    }

    #[test]
    fn a_run_can_reach_every_final_status_from_queued() {
        use RunStatus::*;
        assert!(Queued.can_become(Assigned));
        assert!(Assigned.can_become(Running));
        for end in [Succeeded, Failed, Cancelled, TimedOut, Lost] {
            assert!(Running.can_become(end));
        }
        assert!(AwaitingApproval.can_become(Rejected));
        assert!(!Queued.can_become(Running));
    }
}
