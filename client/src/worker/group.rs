//! A job's process group: signals to all of it, and whether any of it is still alive (zombies,
//! which only wait for their parent to reap them, do not count).

use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use tokio::time::{Instant, sleep};

/// How often a stopping group is checked.
const POLL: Duration = Duration::from_millis(20);

/// How long to wait for the group to vanish after SIGKILL (it cannot be ignored, but a process
/// in uninterruptible sleep dies only when it wakes).
const AFTER_KILL: Duration = Duration::from_secs(5);

/// How a group was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Nothing of the group was left to stop.
    AlreadyGone,
    /// The group ended within the grace period after SIGTERM.
    Terminated,
    /// The group needed SIGKILL.
    Killed,
    /// Something survived SIGKILL for the whole wait (uninterruptible sleep?).
    Survived,
}

/// A process group, by the id of its leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pgid: i32,
}

impl Group {
    /// The group led by `pgid`; `None` for an id that cannot be a group (0 or negative).
    pub fn new(pgid: i32) -> Option<Self> {
        Pid::from_raw(pgid).map(|_| Self { pgid })
    }

    pub fn id(&self) -> i32 {
        self.pgid
    }

    fn pid(&self) -> Option<Pid> {
        Pid::from_raw(self.pgid)
    }

    /// Sends a signal to every process of the group (a vanished group is not an error).
    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill_process_group(pid, signal);
        }
    }

    /// True while a process of the group lives (`kill(-pgid, 0)`, and on Linux no member in
    /// `/proc` other than zombies).
    pub fn alive(&self) -> bool {
        group_alive(self.pgid)
    }

    /// Waits until the group is gone or `bound` passed; true if it is gone.
    async fn gone_within(&self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        loop {
            if !self.alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(POLL).await;
        }
    }

    /// Like [`Group::stop`], for a thread that may block (the job guard has nothing else to do).
    pub fn stop_blocking(&self, grace: Duration) -> Stopped {
        let gone_within = |bound: Duration| {
            let deadline = std::time::Instant::now() + bound;
            loop {
                if !self.alive() {
                    return true;
                }
                if std::time::Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(POLL);
            }
        };
        if !self.alive() {
            return Stopped::AlreadyGone;
        }
        self.signal(Signal::TERM);
        if gone_within(grace) {
            return Stopped::Terminated;
        }
        self.signal(Signal::KILL);
        if gone_within(AFTER_KILL) {
            Stopped::Killed
        } else {
            Stopped::Survived
        }
    }

    /// SIGTERM to the whole group, SIGKILL after `grace` if any of it remains; returns once
    /// the group is gone (or survived SIGKILL for a few seconds).
    pub async fn stop(&self, grace: Duration) -> Stopped {
        if !self.alive() {
            return Stopped::AlreadyGone;
        }
        self.signal(Signal::TERM);
        if self.gone_within(grace).await {
            return Stopped::Terminated;
        }
        self.signal(Signal::KILL);
        if self.gone_within(AFTER_KILL).await {
            Stopped::Killed
        } else {
            Stopped::Survived
        }
    }
}

/// True while a process of group `pgid` lives. `kill(-pgid, 0)` also finds zombies (whose
/// parent, perhaps a container's init, has not reaped them yet), so on Linux the members found
/// in `/proc` decide.
pub fn group_alive(pgid: i32) -> bool {
    let Some(pid) = Pid::from_raw(pgid) else {
        return false;
    };
    if test_kill_process_group(pid).is_err() {
        return false;
    }
    match living_members(pgid) {
        Some(members) => !members.is_empty(),
        None => true,
    }
}

/// The processes of group `pgid` that are alive and not zombies, from `/proc`; `None` without
/// it.
pub fn living_members(pgid: i32) -> Option<Vec<i32>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        if pgrp == Some(pgid) && !matches!(state, Some("Z" | "X")) {
            members.push(pid);
        }
    }
    Some(members)
}
