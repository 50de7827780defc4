//! Benchmark sizes, read from `WARREN_BENCH_*` environment variables, and the open-file limit.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Every knob of the run. Defaults are the targets' numbers and keep a run under ~3 minutes.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WARREN_BENCH_WRITERS`: concurrent clients sending commands one at a time (phase 1).
    pub writers: usize,
    /// `WARREN_BENCH_COMMANDS`: what the writers send: `mixed` (alternate `create_card` and
    /// `post_message`), `cards` or `messages`.
    pub commands: Commands,
    /// `WARREN_BENCH_WRITE_SECS`: how long the writers run.
    pub write_time: Duration,
    /// `WARREN_BENCH_RAW_SECS`: how long the raw redb baseline commits.
    pub raw_time: Duration,
    /// `WARREN_BENCH_CLIENTS`: subscribed clients for fan-out and latency (phases 2 and 3).
    pub clients: usize,
    /// `WARREN_BENCH_EVENTS`: events in the fan-out burst.
    pub events: usize,
    /// `WARREN_BENCH_SAMPLES`: one-at-a-time events timed for latency.
    pub samples: usize,
    /// `WARREN_BENCH_SERVER_THREADS`: tokio workers of the server runtime.
    pub server_threads: usize,
    /// `WARREN_BENCH_CLIENT_THREADS`: tokio workers of the client runtime.
    pub client_threads: usize,
    /// `WARREN_BENCH_DIR`: where the stores are created (default: the system temp dir).
    pub dir: Option<PathBuf>,
    /// `WARREN_BENCH_TIMEOUT_SECS`: give up on a phase that takes longer than this.
    pub timeout: Duration,
    /// `WARREN_BENCH_STORM_CLIENTS`: clients reconnecting with full snapshots in phase 5.
    pub storm_clients: usize,
    /// `WARREN_BENCH_STORM_SECS`: how long the storm lasts.
    pub storm_time: Duration,
    /// `WARREN_BENCH_STORM_CARDS`: cards in the workspace (the snapshot's size) in phase 5.
    pub storm_cards: usize,
}

impl Config {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            writers: number("WARREN_BENCH_WRITERS", 50)?,
            commands: Commands::from_env()?,
            write_time: Duration::from_secs(number("WARREN_BENCH_WRITE_SECS", 5)? as u64),
            raw_time: Duration::from_secs(number("WARREN_BENCH_RAW_SECS", 3)? as u64),
            clients: number("WARREN_BENCH_CLIENTS", 1000)?,
            events: number("WARREN_BENCH_EVENTS", 1000)?,
            samples: number("WARREN_BENCH_SAMPLES", 200)?,
            server_threads: number("WARREN_BENCH_SERVER_THREADS", 2)?,
            client_threads: number("WARREN_BENCH_CLIENT_THREADS", 2)?,
            dir: std::env::var_os("WARREN_BENCH_DIR").map(PathBuf::from),
            timeout: Duration::from_secs(number("WARREN_BENCH_TIMEOUT_SECS", 120)? as u64),
            storm_clients: number("WARREN_BENCH_STORM_CLIENTS", 200)?,
            storm_time: Duration::from_secs(number("WARREN_BENCH_STORM_SECS", 10)? as u64),
            storm_cards: number("WARREN_BENCH_STORM_CARDS", 2000)?,
        })
    }
}

/// The commands phase 1 sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commands {
    Mixed,
    Cards,
    Messages,
}

impl Commands {
    fn from_env() -> Result<Self> {
        match std::env::var("WARREN_BENCH_COMMANDS").as_deref() {
            Err(_) | Ok("mixed") => Ok(Self::Mixed),
            Ok("cards") => Ok(Self::Cards),
            Ok("messages") => Ok(Self::Messages),
            Ok(other) => bail!("WARREN_BENCH_COMMANDS={other:?}: use mixed, cards or messages"),
        }
    }

    /// Whether the `n`-th command of a writer creates a card (else it posts a message).
    pub fn card(self, n: u64) -> bool {
        match self {
            Self::Mixed => n.is_multiple_of(2),
            Self::Cards => true,
            Self::Messages => false,
        }
    }
}

fn number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => {
            let n: usize = v
                .trim()
                .parse()
                .with_context(|| format!("{name}={v:?} is not a whole number"))?;
            if n == 0 {
                bail!("{name} must be at least 1");
            }
            Ok(n)
        }
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(e) => Err(e).with_context(|| format!("cannot read {name}")),
    }
}

/// Raises the soft open-file limit to what `needed` sockets take, up to the hard limit, and fails
/// with the command to run when even the hard limit is too low. Returns the soft limit in force.
#[cfg(unix)]
pub fn ensure_open_files(needed: u64) -> Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        bail!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        );
    }
    // `rlim_t` is u64 on Linux but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    let (soft, hard) = (limit.rlim_cur as u64, limit.rlim_max as u64);
    if soft >= needed {
        return Ok(soft);
    }
    if hard < needed {
        bail!(
            "this run needs about {needed} open files but the hard limit is {hard}; \
             raise it (e.g. `ulimit -Hn {needed}` as root) or lower WARREN_BENCH_CLIENTS"
        );
    }
    limit.rlim_cur = needed as libc::rlim_t;
    // SAFETY: setrlimit reads one `rlimit` through a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        bail!(
            "the open-file limit is {soft} and raising it to {needed} failed ({}); \
             run `ulimit -n {needed}` first or lower WARREN_BENCH_CLIENTS",
            std::io::Error::last_os_error()
        );
    }
    Ok(needed)
}

#[cfg(not(unix))]
pub fn ensure_open_files(_needed: u64) -> Result<u64> {
    Ok(0)
}
