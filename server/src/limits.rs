//! The server's limits and deadlines: how long a peer may take to send its request headers and
//! its `hello`, how long a socket may refuse to take our frames, how many connections one address
//! and all addresses together may hold, how much page cache redb gets, and how many snapshot or
//! replay jobs run at once. `warren-server serve` takes each as a flag (or environment variable);
//! embedded servers use [`Limits::default`].

use std::time::Duration;

/// Connections kept free below the open-file limit for the store, the listener and answering
/// (or refusing) new connections, so the server never runs out of descriptors.
pub const RESERVED_FILES: usize = 64;

/// Largest request head (request line and headers) a client may send, in bytes. hyper's own
/// minimum is 8 KiB; browsers and our clients send well under 2 KiB.
pub const HEADER_BUFFER: usize = 16 * 1024;

/// Every limit the running server enforces.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Seconds a client may take to send a complete HTTP request head (also how long an idle
    /// keep-alive connection is kept).
    #[arg(long, env = "WARREN_HEADER_TIMEOUT", default_value = "10", value_parser = parse_secs)]
    pub header_timeout: Duration,
    /// Seconds an upgraded WebSocket may take to say `hello` before it is closed.
    #[arg(long, env = "WARREN_HELLO_TIMEOUT", default_value = "10", value_parser = parse_secs)]
    pub hello_timeout: Duration,
    /// Seconds a client may leave a frame unread (its socket full) before it is disconnected.
    /// Memory is bounded without it; this frees the socket of a client that stopped reading.
    #[arg(long, env = "WARREN_WRITE_TIMEOUT", default_value = "120", value_parser = parse_secs)]
    pub write_timeout: Duration,
    /// Most open connections in total [default: the open-file limit minus 64].
    #[arg(long, env = "WARREN_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most open connections from one IP address.
    #[arg(long, env = "WARREN_MAX_CONNECTIONS_PER_IP", default_value_t = 512)]
    pub max_connections_per_ip: usize,
    /// redb's page cache, in MiB.
    #[arg(long, env = "WARREN_CACHE_MIB", default_value_t = 64)]
    pub cache_mib: u64,
    /// Seconds over which refused authentications are counted into one log line per address.
    #[arg(long, env = "WARREN_AUTH_LOG_INTERVAL", default_value = "10", value_parser = parse_secs)]
    pub auth_log_interval: Duration,
    /// Snapshot builds and store replays that may run at once (reconnect storms queue behind).
    #[arg(long, env = "WARREN_MAX_CATCH_UPS", default_value_t = 4)]
    pub max_catch_ups: usize,
    /// Failed authentications (bad tokens, wrong invite codes) one IP address may make per
    /// window before it gets HTTP 429 for every authentication until a place refills; 0: off.
    #[arg(long, env = "WARREN_FAILED_AUTH_PER_MINUTE", default_value_t = 5)]
    pub failed_auth_per_minute: u32,
    /// The window of --failed-auth-per-minute, in seconds (a minute; shorter only for tests).
    #[arg(long, env = "WARREN_FAILED_AUTH_WINDOW", default_value = "60", value_parser = parse_secs)]
    pub failed_auth_window: Duration,
    /// Requests and new connections per token and per address (`rate_limit`).
    #[command(flatten)]
    pub rates: crate::rate_limit::RateLimits,
    /// Days audit entries are kept (0: forever).
    #[arg(long, env = "WARREN_AUDIT_DAYS", default_value_t = 365)]
    pub audit_days: u32,
    /// Seconds between a worker's heartbeats (told to each worker in `worker_welcome`).
    #[arg(long, env = "WARREN_WORKER_HEARTBEAT_SECS", default_value_t = crate::runs::HEARTBEAT_SECS)]
    pub worker_heartbeat_secs: u64,
    /// Seconds a worker may stay silent before its runs are taken from it (lost, or queued
    /// again while the job's retries last).
    #[arg(long, env = "WARREN_WORKER_LEASE_SECS", default_value_t = crate::runs::LEASE_SECS)]
    pub worker_lease_secs: u64,
    /// Most bytes of log text stored per run; past it one line says the log was truncated and
    /// later lines are dropped.
    #[arg(long, env = "WARREN_LOG_CAP_BYTES", default_value_t = crate::logs::ingest::DEFAULT_CAP_BYTES)]
    pub log_cap_bytes: u64,
    /// Seconds a worker has to confirm a cancel (`report_run_finished`) before the server ends
    /// the run itself: seals its log, forgets its secrets and takes no more of its output. The
    /// default is the worker's kill grace (10 s) plus 20 s to deliver the last output.
    #[arg(long, env = "WARREN_CANCEL_DEADLINE", default_value = "30", value_parser = parse_secs)]
    pub cancel_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(120),
            max_connections: None,
            max_connections_per_ip: 512,
            cache_mib: 64,
            auth_log_interval: Duration::from_secs(10),
            max_catch_ups: 4,
            failed_auth_per_minute: 5,
            failed_auth_window: Duration::from_secs(60),
            rates: crate::rate_limit::RateLimits::default(),
            audit_days: 365,
            worker_heartbeat_secs: crate::runs::HEARTBEAT_SECS,
            worker_lease_secs: crate::runs::LEASE_SECS,
            log_cap_bytes: crate::logs::ingest::DEFAULT_CAP_BYTES,
            cancel_deadline: crate::runs::CANCEL_DEADLINE,
        }
    }
}

impl Limits {
    /// The total connection cap: the configured one, never above the open-file limit minus
    /// [`RESERVED_FILES`].
    pub fn total_connections(&self) -> usize {
        let ceiling = open_file_limit()
            .saturating_sub(RESERVED_FILES)
            .max(RESERVED_FILES);
        self.max_connections.map_or(ceiling, |m| m.min(ceiling))
    }

    /// The redb page cache in bytes.
    pub fn cache_bytes(&self) -> usize {
        usize::try_from(self.cache_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

/// Parses seconds, with a fraction if wanted ("10", "0.5").
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds; write e.g. 10 or 0.5"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!(
            "{text:?} is out of range; give seconds between 0 and 86400"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The soft limit on open files (`RLIMIT_NOFILE`), read from `/proc/self/limits`; 1024 (the
/// usual default) where that cannot be read.
pub fn open_file_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| parse_open_files(&text))
        .unwrap_or(1024)
}

fn parse_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(usize::MAX / 2);
    }
    soft.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    #[test]
    fn flags_set_every_limit() {
        let cli = Cli::try_parse_from([
            "x",
            "--header-timeout",
            "0.5",
            "--hello-timeout",
            "2",
            "--write-timeout",
            "3",
            "--max-connections",
            "100",
            "--max-connections-per-ip",
            "7",
            "--cache-mib",
            "16",
            "--auth-log-interval",
            "1",
            "--max-catch-ups",
            "2",
            "--failed-auth-per-minute",
            "0",
            "--failed-auth-window",
            "2",
            "--commands-per-second",
            "5",
            "--commands-burst",
            "6",
            "--queries-per-second",
            "7",
            "--queries-burst",
            "8",
            "--connections-per-token-per-minute",
            "9",
            "--connections-per-ip-per-minute",
            "0",
            "--log-mib-per-second",
            "0.5",
            "--log-burst-mib",
            "3",
            "--log-subscribes-per-second",
            "4",
            "--log-subscribes-burst",
            "5",
            "--delta-kib-per-second",
            "12.5",
            "--delta-burst-kib",
            "64",
            "--cancel-deadline",
            "1.5",
        ])
        .expect("flags parse");
        let l = cli.limits;
        assert_eq!(l.header_timeout, Duration::from_millis(500));
        assert_eq!(l.hello_timeout, Duration::from_secs(2));
        assert_eq!(l.write_timeout, Duration::from_secs(3));
        assert_eq!(l.total_connections(), 100);
        assert_eq!(l.max_connections_per_ip, 7);
        assert_eq!(l.cache_bytes(), 16 * 1024 * 1024);
        assert_eq!(l.auth_log_interval, Duration::from_secs(1));
        assert_eq!(l.max_catch_ups, 2);
        assert_eq!(l.failed_auth_per_minute, 0);
        assert_eq!(l.failed_auth_window, Duration::from_secs(2));
        assert_eq!(
            l.rates,
            crate::rate_limit::RateLimits {
                commands_per_second: 5.0,
                commands_burst: 6,
                queries_per_second: 7.0,
                queries_burst: 8,
                connections_per_token_per_minute: 9,
                connections_per_ip_per_minute: 0,
                log_mib_per_second: 0.5,
                log_burst_mib: 3,
                log_subscribes_per_second: 4.0,
                log_subscribes_burst: 5,
                delta_kib_per_second: 12.5,
                delta_burst_kib: 64,
            }
        );
        assert_eq!(l.cancel_deadline, Duration::from_millis(1500));
    }

    #[test]
    fn defaults_match_the_flags_defaults() {
        let parsed = Cli::try_parse_from(["x"]).expect("no flags parse").limits;
        let default = Limits::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
        assert_eq!(default.cache_bytes(), 64 * 1024 * 1024);
    }

    #[test]
    fn bad_seconds_say_what_to_write() {
        assert!(parse_secs("soon").unwrap_err().contains("e.g. 10"));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
    }

    #[test]
    fn the_total_cap_stays_below_the_open_file_limit() {
        let huge = Limits {
            max_connections: Some(usize::MAX),
            ..Limits::default()
        };
        assert!(huge.total_connections() <= open_file_limit().saturating_sub(RESERVED_FILES));
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max open files            1024                 4096                 files\n";
        assert_eq!(parse_open_files(text), Some(1024));
    }
}
