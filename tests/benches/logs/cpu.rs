//! The CPU time the in-process server spends, read per thread from `/proc/self/task/*/stat`:
//! its runtime's threads (named [`SERVER_THREAD`], workers and blocking pool) and the writer
//! thread (`warren-writer`). A runtime thread that exits adds its own CPU time on the way out
//! ([`thread_stopped`]), so a blocking-pool thread that idles out is still counted. The rest of
//! the process (the benchmark's worker and viewers) is the whole process's time minus this.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

/// The name of every thread of the server's runtime.
pub const SERVER_THREAD: &str = "server-rt";
/// The writer's thread (named by the server).
const WRITER_THREAD: &str = "warren-writer";

/// CPU nanoseconds of server runtime threads that have exited.
static EXITED_NS: AtomicU64 = AtomicU64::new(0);

/// CPU time so far: the server's threads and the whole process.
#[derive(Debug, Clone, Copy)]
pub struct Cpu {
    pub server: Duration,
    pub process: Duration,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, before: Cpu) -> Cpu {
        Cpu {
            server: self.server.saturating_sub(before.server),
            process: self.process.saturating_sub(before.process),
        }
    }
}

/// The calling thread's CPU time.
fn this_thread() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Call on a server runtime thread as it stops (`on_thread_stop`).
pub fn thread_stopped() {
    let ns = this_thread().as_nanos() as u64;
    EXITED_NS.fetch_add(ns, Ordering::Relaxed);
}

/// User + system ticks of `/proc/self/task/TID/stat` (fields 14 and 15).
fn ticks(stat: &str) -> Option<u64> {
    // The name in parentheses may hold spaces: count fields after its closing one.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // Fields 3.. follow the name; utime is field 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The server's and the process's CPU time now.
pub fn now() -> Result<Cpu> {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let tick = |t: u64| Duration::from_nanos(t * 1_000_000_000 / hz);
    let mut server = Duration::from_nanos(EXITED_NS.load(Ordering::Relaxed));
    for task in std::fs::read_dir("/proc/self/task").context("reading /proc/self/task")? {
        let path = task?.path();
        // A thread may exit between the listing and the read: skip it.
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        let comm = comm.trim_end();
        if (comm.starts_with(SERVER_THREAD) || comm == WRITER_THREAD)
            && let Some(t) = ticks(&stat)
        {
            server += tick(t);
        }
    }
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    let process = tick(ticks(&stat).context("an unreadable /proc/self/stat")?);
    Ok(Cpu { server, process })
}
