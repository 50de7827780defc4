//! One job run from start to outcome: `sh -c COMMAND` in its own process group with parameters
//! as `WARREN_PARAM_*` variables, both output streams read line by line into batches, timeout
//! and cancel by SIGTERM to the group then SIGKILL after a grace period, and an [`Outcome`].
//!
//! ```text
//! let (handle, mut batches) = Execution::start(spec);
//! while let Some(batch) = batches.recv().await { /* send it */ }
//! let outcome = handle.wait().await;
//! ```

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout};

use super::collect::{self, Collector, Event};
use super::group::{Group, Stopped};
use super::guard::Guard;
use super::line::{Batch, Stream, now_ms};
use super::redact::Redactor;
use super::spec::{JobSpec, param_env_name};
use super::splitter::{LineSplitter, Piece};

/// How much of a stream one read takes.
const READ_SIZE: usize = 64 * 1024;

/// How long output may stay open after the whole group is gone (a process that left the
/// group with `setsid` can hold the pipes) before the worker stops reading.
const DRAIN_BOUND: Duration = Duration::from_secs(5);

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Succeeded,
    /// A non-zero exit code; death by signal N counts as 128 + N, as in a shell.
    Failed { exit_code: i32 },
    /// Stopped by `RunHandle::cancel`.
    Cancelled { by: String },
    /// Stopped when its timeout passed.
    TimedOut { after: Duration },
    /// The command never ran.
    FailedToStart { reason: String },
}

/// The running job, for the worker loop: cancel it, learn how it ended.
#[derive(Debug, Clone)]
pub struct RunHandle {
    cancel: Arc<watch::Sender<Option<String>>>,
    outcome: watch::Receiver<Option<Outcome>>,
    group: Option<i32>,
}

impl RunHandle {
    /// Stops the run (SIGTERM to its group, SIGKILL after the grace period); `who` is named in
    /// the log and the outcome. Only the first cancel counts; after the end it does nothing.
    pub fn cancel(&self, who: &str) {
        self.cancel.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(who.to_owned());
            true
        });
    }

    /// The job's process group id (its shell's pid), if it started.
    pub fn process_group(&self) -> Option<i32> {
        self.group
    }

    /// How the run ended, once it has and its last batch has been taken from the stream (keep
    /// receiving batches while waiting, or this waits for room in the stream).
    pub async fn wait(&self) -> Outcome {
        let mut outcome = self.outcome.clone();
        let value = outcome.wait_for(Option::is_some).await.map(|v| v.clone());
        value.ok().flatten().unwrap_or_else(lost)
    }
}

fn lost() -> Outcome {
    Outcome::FailedToStart {
        reason: "the run's supervisor ended without an outcome".into(),
    }
}

/// Starts job runs.
pub struct Execution;

impl Execution {
    /// Starts `spec` (within a tokio runtime) and returns its handle and the stream of its log
    /// batches, which ends after the run's last line. A run that cannot start still yields a
    /// batch with the reason and `Outcome::FailedToStart`.
    pub fn start(spec: JobSpec) -> (RunHandle, mpsc::Receiver<Batch>) {
        let limits = spec.limits;
        let (batches_tx, batches_rx) = mpsc::channel(limits.batch_queue.max(1));
        let (events_tx, events_rx) = mpsc::channel(1024);
        let collector = Collector::new(limits.log_cap_bytes, limits.batch_max_bytes);
        let collecting = tokio::spawn(collect::run(
            collector,
            events_rx,
            batches_tx,
            limits.batch_max_age,
        ));
        let (cancel_tx, cancel_rx) = watch::channel(None);
        let (outcome_tx, outcome_rx) = watch::channel(None);

        let started = spawn(&spec);
        let group = started.as_ref().ok().map(|s| s.group.id());
        let guard = started.as_ref().ok().and_then(|s| guard(&spec, s.group));
        tokio::spawn(async move {
            let outcome = match started {
                Ok(started) => {
                    if let Some(Err(e)) = &guard {
                        let _ = events_tx
                            .send(Event::System(format!(
                                "{e}; should the worker die, this job's processes may outlive it"
                            )))
                            .await;
                    }
                    let outcome = supervise(started, &spec, events_tx.clone(), cancel_rx).await;
                    // The group is gone (or survived SIGKILL): the guard may go.
                    if let Some(Ok(guard)) = guard {
                        guard.release().await;
                    }
                    outcome
                }
                Err(reason) => {
                    let reason = reason.to_string();
                    let _ = events_tx
                        .send(Event::System(format!("failed to start: {reason}")))
                        .await;
                    Outcome::FailedToStart { reason }
                }
            };
            drop(events_tx);
            let _ = collecting.await;
            outcome_tx.send_replace(Some(outcome));
        });

        let handle = RunHandle {
            cancel: Arc::new(cancel_tx),
            outcome: outcome_rx,
            group,
        };
        (handle, batches_rx)
    }
}

/// The job's guard, when the spec asks for one (see [`super::guard`]).
fn guard(spec: &JobSpec, group: Group) -> Option<Result<Guard, super::guard::GuardError>> {
    let setup = spec.guard.as_ref()?;
    let marker = spec
        .env
        .iter()
        .find(|(name, _)| name == "WARREN_RUN_ID")
        .map(|(name, value)| format!("{name}={value}"));
    Some(Guard::start(
        setup,
        group,
        spec.limits.kill_grace,
        marker.as_deref(),
    ))
}

/// Why a run could not start; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "working directory {0} does not exist or is not a directory; create it or give the \
         worker another --workdir"
    )]
    Workdir(String),
    #[error("parameter {0} contains a NUL byte, which an environment variable cannot hold")]
    NulInParam(String),
    #[error(transparent)]
    Redact(#[from] super::redact::RedactError),
    #[error("could not start `sh -c`: {0}; is /bin/sh installed and the workdir readable?")]
    Spawn(std::io::Error),
    #[error("the job's shell has no process id (it ended at once)")]
    NoPid,
}

/// A started job: its shell, its group and what redacts its output.
struct Started {
    child: Child,
    group: Group,
    redactor: Arc<Redactor>,
}

fn spawn(spec: &JobSpec) -> Result<Started, StartError> {
    if !spec.workdir.is_dir() {
        return Err(StartError::Workdir(spec.workdir.display().to_string()));
    }
    let secrets = spec
        .params
        .iter()
        .filter(|p| p.secret)
        .map(|p| p.value.as_str());
    let redactor = Arc::new(Redactor::new(secrets)?);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&spec.command)
        .current_dir(&spec.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // The worker's own WARREN_* settings (its token above all) never reach a job.
    for name in withheld_vars(std::env::vars_os().map(|(name, _)| name)) {
        command.env_remove(name);
    }
    for param in &spec.params {
        if param.value.contains('\0') {
            return Err(StartError::NulInParam(param.name.clone()));
        }
        command.env(param_env_name(&param.name), &param.value);
    }
    for (name, value) in &spec.env {
        command.env(name, value);
    }
    let child = command.spawn().map_err(StartError::Spawn)?;
    let group = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(Group::new)
        .ok_or(StartError::NoPid)?;
    Ok(Started {
        child,
        group,
        redactor,
    })
}

/// The inherited variables a job does not get: the worker's own `WARREN_*` settings.
pub fn withheld_vars(
    names: impl IntoIterator<Item = std::ffi::OsString>,
) -> impl Iterator<Item = std::ffi::OsString> {
    names
        .into_iter()
        .filter(|name| name.to_string_lossy().starts_with("WARREN_"))
}

/// How the job's shell came to an end.
enum Ending {
    Exited,
    Cancelled(String),
    TimedOut(Duration),
}

async fn supervise(
    started: Started,
    spec: &JobSpec,
    events: mpsc::Sender<Event>,
    mut cancel: watch::Receiver<Option<String>>,
) -> Outcome {
    let Started {
        mut child,
        group,
        redactor,
    } = started;
    let _ = events.send(Event::System("started".into())).await;
    let max_line = spec.limits.max_line_bytes;
    let pause = spec.limits.batch_max_age;
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let splitter = LineSplitter::new(max_line, redactor.clone());
        readers.push(tokio::spawn(read(
            out,
            Stream::Stdout,
            splitter,
            events.clone(),
            pause,
        )));
    }
    if let Some(err) = child.stderr.take() {
        let splitter = LineSplitter::new(max_line, redactor.clone());
        readers.push(tokio::spawn(read(
            err,
            Stream::Stderr,
            splitter,
            events.clone(),
            pause,
        )));
    }

    let deadline = spec.timeout.map(|t| (Instant::now() + t, t));
    let ending = tokio::select! {
        _ = child.wait() => Ending::Exited,
        who = cancelled(&mut cancel) => Ending::Cancelled(who),
        after = timed_out(deadline) => Ending::TimedOut(after),
    };
    // On cancel and timeout the whole group is stopped; after a normal end, whatever the job
    // left running in its group is stopped the same way.
    let (status, stopped) = tokio::join!(child.wait(), group.stop(spec.limits.kill_grace));
    if matches!(ending, Ending::Exited) && stopped != Stopped::AlreadyGone {
        let _ = events
            .send(Event::System(
                "the job's shell ended but left processes running; they were stopped".into(),
            ))
            .await;
    }
    if matches!(stopped, Stopped::Killed | Stopped::Survived) {
        let _ = events
            .send(Event::System(format!(
                "the job's processes did not stop within {} of SIGTERM; sent SIGKILL",
                format_duration(spec.limits.kill_grace)
            )))
            .await;
    }
    if stopped == Stopped::Survived {
        let _ = events
            .send(Event::System(
                "some of the job's processes survived SIGKILL (uninterruptible sleep?)".into(),
            ))
            .await;
    }

    let mut drained = true;
    for reader in readers {
        let abort = reader.abort_handle();
        if timeout(DRAIN_BOUND, reader).await.is_err() {
            abort.abort();
            drained = false;
        }
    }
    if !drained {
        let _ = events
            .send(Event::System(
                "the job's output stayed open after it ended (a process left its group?); \
                 the rest was not read"
                    .into(),
            ))
            .await;
    }

    let (outcome, line) = match ending {
        Ending::Cancelled(by) => (
            Outcome::Cancelled { by: by.clone() },
            format!("cancelled by {by}"),
        ),
        Ending::TimedOut(after) => (
            Outcome::TimedOut { after },
            format!("timed out after {}", format_duration(after)),
        ),
        Ending::Exited => exited(status),
    };
    let line = String::from_utf8_lossy(&redactor.redact(line.as_bytes())).into_owned();
    let _ = events.send(Event::System(line)).await;
    outcome
}

/// The outcome and log line of a shell that ended by itself.
fn exited(status: std::io::Result<ExitStatus>) -> (Outcome, String) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(0), _) => (Outcome::Succeeded, "exit code 0".into()),
            (Some(code), _) => (
                Outcome::Failed { exit_code: code },
                format!("exit code {code}"),
            ),
            (None, Some(signal)) => (
                Outcome::Failed {
                    exit_code: 128 + signal,
                },
                format!("killed by signal {signal} (exit code {})", 128 + signal),
            ),
            (None, None) => (
                Outcome::Failed { exit_code: -1 },
                "ended without an exit code".into(),
            ),
        },
        Err(e) => (
            Outcome::Failed { exit_code: -1 },
            format!("could not learn the exit code: {e}"),
        ),
    }
}

/// Resolves with the canceller's name once `cancel` is called (never if the handle is gone).
async fn cancelled(cancel: &mut watch::Receiver<Option<String>>) -> String {
    let who = cancel
        .wait_for(Option::is_some)
        .await
        .map(|who| who.clone().unwrap_or_default());
    match who {
        Ok(who) => who,
        Err(_) => std::future::pending().await,
    }
}

/// Resolves when the timeout passes (never without one).
async fn timed_out(deadline: Option<(Instant, Duration)>) -> Duration {
    match deadline {
        Some((at, after)) => {
            sleep_until(at).await;
            after
        }
        None => std::future::pending().await,
    }
}

/// Reads one stream to its end, sending its pieces as events (and draining it even when the
/// log no longer takes them).
async fn read(
    mut pipe: impl AsyncRead + Unpin,
    stream: Stream,
    mut splitter: LineSplitter,
    events: mpsc::Sender<Event>,
    pause: Duration,
) {
    let mut buf = vec![0u8; READ_SIZE];
    let mut pieces: Vec<Piece> = Vec::new();
    loop {
        // A pause in the middle of a line sends what there is, so a prompt or a progress bar
        // does not look hung. (`read` loses nothing when the timeout drops it.)
        let read = match timeout(pause, pipe.read(&mut buf)).await {
            Ok(read) => read,
            Err(_) => {
                splitter.flush_partial(&mut pieces);
                send(&events, stream, &mut pieces).await;
                continue;
            }
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        splitter.push(&buf[..n], &mut pieces);
        send(&events, stream, &mut pieces).await;
    }
    splitter.finish(&mut pieces);
    send(&events, stream, &mut pieces).await;
}

async fn send(events: &mpsc::Sender<Event>, stream: Stream, pieces: &mut Vec<Piece>) {
    let ts_ms = now_ms();
    for piece in pieces.drain(..) {
        let _ = events
            .send(Event::Output {
                stream,
                ts_ms,
                bytes: piece.bytes,
                continued: piece.continued,
            })
            .await;
    }
}

/// `30m`, `2h`, `45s`, `1500ms`: a timeout as a person would write it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".into(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}
