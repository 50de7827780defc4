//! A job's guard, so that no process of a job outlives its worker, however the worker ends
//! (SIGKILL included). Per job the worker starts a tiny process — the `warren` binary itself,
//! run again as `warren __job-guard PGID GRACE_MS` — whose stdin is the read end of a pipe. Only
//! the worker holds the write end (close-on-exec: neither the job nor another guard inherits
//! it). When the job's group is gone the worker writes one byte and the guard exits; when the
//! worker dies, the kernel closes the write end, the guard reads end-of-file and stops the job's
//! process group (SIGTERM, SIGKILL after the grace). A guard runs in its own process group, so a
//! Ctrl-C at the worker's terminal does not reach it.
//!
//! Each guarded job is also recorded as a small file (`<records>/<worker pid>-<pgid>`, holding
//! `WARREN_RUN_ID=…`). A worker starting up stops the groups that a dead earlier instance left
//! behind (if their guards died too) when they are still that run's ([`leftovers`]).

use std::ffi::OsString;
use std::io::{PipeWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::group::{Group, Stopped, living_members};

/// The hidden subcommand that makes `warren` a guard.
pub const SUBCOMMAND: &str = "__job-guard";

/// The directory, in a data dir, of the records of guarded job groups.
pub const RECORDS_DIR: &str = "worker-jobs";

/// How long the worker waits for a released guard to exit.
const EXIT_BOUND: Duration = Duration::from_secs(2);

/// What guards jobs: the program to run as the guard and where to record guarded groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSetup {
    /// The `warren` binary.
    pub program: PathBuf,
    /// The directory of the records of guarded groups; `None` keeps none.
    pub records: Option<PathBuf>,
}

impl GuardSetup {
    /// The running `warren` binary as the guard (on Linux through `/proc/self/exe`, which still
    /// works after the binary on disk was replaced by an upgrade).
    pub fn this_program(records: Option<PathBuf>) -> Option<Self> {
        let proc_exe = Path::new("/proc/self/exe");
        let program = if proc_exe.exists() {
            proc_exe.to_path_buf()
        } else {
            std::env::current_exe().ok()?
        };
        Some(Self { program, records })
    }
}

/// Why a job could not be guarded; the job still runs.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("could not make the guard's pipe: {0}")]
    Pipe(std::io::Error),
    #[error("could not start the guard {program}: {error}")]
    Spawn {
        program: String,
        error: std::io::Error,
    },
}

/// A running guard, held by the worker for as long as the job's group may live. Dropping it
/// without [`Guard::release`] counts as the worker dying: the guard stops the group.
#[derive(Debug)]
pub struct Guard {
    release: Option<PipeWriter>,
    child: Child,
    record: Option<PathBuf>,
}

impl Guard {
    /// Starts a guard for `group`, which stops it with `grace` between SIGTERM and SIGKILL.
    /// `marker` (`WARREN_RUN_ID=…`, in the job's environment) is recorded when the setup keeps
    /// records.
    pub fn start(
        setup: &GuardSetup,
        group: Group,
        grace: Duration,
        marker: Option<&str>,
    ) -> Result<Self, GuardError> {
        let (reader, writer) = std::io::pipe().map_err(GuardError::Pipe)?;
        let child = Command::new(&setup.program)
            .arg(SUBCOMMAND)
            .arg(group.id().to_string())
            .arg(grace.as_millis().to_string())
            // It needs nothing of the worker's environment (its token least of all).
            .env_clear()
            .stdin(Stdio::from(reader))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|error| GuardError::Spawn {
                program: setup.program.display().to_string(),
                error,
            })?;
        let record = match (&setup.records, marker) {
            (Some(dir), Some(marker)) => write_record(dir, group, marker),
            _ => None,
        };
        Ok(Self {
            release: Some(writer),
            child,
            record,
        })
    }

    /// The job's group is gone: the guard exits without touching anything, and its record goes.
    pub async fn release(mut self) {
        if let Some(mut writer) = self.release.take() {
            let _ = writer.write_all(b"x");
        }
        let _ = tokio::time::timeout(EXIT_BOUND, self.child.wait()).await;
        if let Some(record) = self.record.take() {
            let _ = std::fs::remove_file(record);
        }
    }
}

/// Records a guarded group; the record's name says which worker and which group.
fn write_record(dir: &Path, group: Group, marker: &str) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{}-{}", std::process::id(), group.id()));
    std::fs::write(&path, format!("{marker}\n")).ok()?;
    Some(path)
}

/// How a guard's watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// The worker let go: the job had ended.
    Released,
    /// The worker died; the group was stopped (or was already gone).
    Stopped(Stopped),
}

/// The guard's whole work: blocks until the worker lets go (a byte on `input`) or dies (end of
/// file, or a broken read), and then stops `group`.
pub fn watch(mut input: impl Read, group: Group, grace: Duration) -> Watched {
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => return Watched::Released,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    Watched::Stopped(group.stop_blocking(grace))
}

/// `warren __job-guard PGID GRACE_MS` (`args` without the program name): the guard process's
/// life, and its exit code; `None` when `args` do not ask for a guard.
pub fn main_if_guard(args: &[OsString]) -> Option<u8> {
    if args.first().is_none_or(|a| a != SUBCOMMAND) {
        return None;
    }
    let number = |i: usize| args.get(i)?.to_str()?.parse::<u64>().ok();
    let group = number(1)
        .and_then(|pgid| i32::try_from(pgid).ok())
        .and_then(Group::new);
    let (Some(group), Some(grace)) = (group, number(2)) else {
        eprintln!(
            "usage: warren {SUBCOMMAND} PGID GRACE_MS (the worker starts it; not for people)"
        );
        return Some(1);
    };
    watch(std::io::stdin(), group, Duration::from_millis(grace));
    Some(0)
}

/// A group an earlier worker left running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub group: Group,
    /// The recorded `WARREN_RUN_ID=…`.
    pub marker: String,
}

/// At start-up: the recorded groups whose worker is gone and that are still alive and still
/// that run's (a living member's environment holds the recorded marker; where that cannot be
/// read, nothing counts as ours). Their records are removed; those of live workers are kept.
pub fn leftovers(records: &Path) -> Vec<Leftover> {
    let Ok(entries) = std::fs::read_dir(records) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Some((worker, pgid)) = name.to_str().and_then(|n| n.split_once('-')) else {
            continue;
        };
        let (Ok(worker), Some(group)) = (
            worker.parse::<i32>(),
            pgid.parse::<i32>().ok().and_then(Group::new),
        ) else {
            continue;
        };
        if worker == std::process::id() as i32 || process_alive(worker) {
            continue;
        }
        let marker = std::fs::read_to_string(&path).unwrap_or_default();
        let marker = marker.trim().to_owned();
        let _ = std::fs::remove_file(&path);
        if !marker.is_empty() && holds_marker(group, &marker) {
            found.push(Leftover { group, marker });
        }
    }
    found
}

/// True while process `pid` exists and is not a zombie.
fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next()),
            Some("Z" | "X")
        ),
        // Without /proc: `kill(pid, 0)`.
        Err(_) => rustix::process::Pid::from_raw(pid)
            .is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok()),
    }
}

/// True when a living member of `group` has `marker` in its environment.
fn holds_marker(group: Group, marker: &str) -> bool {
    let Some(members) = living_members(group.id()) else {
        return false;
    };
    members.iter().any(|pid| {
        std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
            environ
                .split(|&b| b == 0)
                .any(|entry| entry == marker.as_bytes())
        })
    })
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
