//! `warren-server serve --config FILE`: the server's settings in one TOML file, and how they
//! combine with command-line flags (a flag always beats the file, the file beats the default).
//!
//! The file is strict (`deny_unknown_fields` everywhere): a misspelt key is an error that names
//! the file, the line and the key, never a setting silently ignored. `docs/deploy.md` has the
//! reference of every key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::limits::{Limits, parse_secs};

/// The address `serve` listens on when neither the file nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// The log filter when neither the file, `--log-level` nor `RUST_LOG` says.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// The contents of the config file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `host:port` to listen on.
    pub listen: Option<String>,
    /// The data directory holding `warren.redb` (relative paths are relative to the file).
    pub data: Option<PathBuf>,
    /// `error`, `warn`, `info`, `debug` or `trace` (or a `tracing` filter).
    pub log_level: Option<String>,
    /// `[tls]`: serve HTTPS/WSS with this certificate and key.
    pub tls: Option<TlsSection>,
    /// `[store]`: storage tuning.
    pub store: Option<StoreSection>,
    /// `[limits]`: deadlines and connection caps (the `serve` flags of the same names).
    pub limits: Option<LimitsSection>,
    /// `[rate_limits]`: failed authentications per address, token buckets per token and
    /// connection rates (the `serve` flags of the same names).
    pub rate_limits: Option<RateLimitsSection>,
    /// `[retention]`: how long old records are kept.
    pub retention: Option<RetentionSection>,
}

/// `[tls]`: PEM files of the certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// `[store]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// The redb page cache in MiB.
    pub cache_mib: Option<u64>,
}

/// `[limits]`: each key is the `serve` flag of the same name (seconds for the timeouts).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub header_timeout: Option<Seconds>,
    pub hello_timeout: Option<Seconds>,
    pub write_timeout: Option<Seconds>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub auth_log_interval: Option<Seconds>,
    pub max_catch_ups: Option<usize>,
}

/// A number of seconds, written as an integer or a fraction (`10`, `0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Seconds {
    Whole(u64),
    Fraction(f64),
}

impl Seconds {
    fn text(self) -> String {
        match self {
            Seconds::Whole(n) => n.to_string(),
            Seconds::Fraction(f) => f.to_string(),
        }
    }
}

/// `[rate_limits]`: each key is the `serve` flag of the same name; `0` turns a limit off.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsSection {
    /// Failed authentications per IP address per window (0: off).
    pub failed_auth_per_minute: Option<u32>,
    /// The window of `failed_auth_per_minute`, in seconds.
    pub failed_auth_window: Option<Seconds>,
    /// Fractions allowed (`0.5`: one every two seconds).
    pub commands_per_second: Option<f64>,
    pub commands_burst: Option<u32>,
    pub queries_per_second: Option<f64>,
    pub queries_burst: Option<u32>,
    pub connections_per_token_per_minute: Option<u32>,
    pub connections_per_ip_per_minute: Option<u32>,
    /// MiB of log text per token per second (fractions allowed).
    pub log_mib_per_second: Option<f64>,
    pub log_burst_mib: Option<u32>,
    /// `log_subscribe` frames per token per second (fractions allowed).
    pub log_subscribes_per_second: Option<f64>,
    pub log_subscribes_burst: Option<u32>,
    /// KiB of agent reply text (`agent_delta`) per token per second (fractions allowed).
    pub delta_kib_per_second: Option<f64>,
    pub delta_burst_kib: Option<u32>,
}

/// `[retention]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    /// Days audit entries are kept (`--audit-days`; 0 keeps them forever).
    pub audit_days: Option<u32>,
}

/// Why the config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}; check the path given to --config")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// toml's message names the line and column, draws the line with a caret under the
    /// mistake, and for an unknown key names the key and the keys that exist.
    #[error(
        "config file {path}: {message}\nfix it (docs/deploy.md lists every key), or leave the key out"
    )]
    Parse { path: PathBuf, message: String },
    #[error(
        "TLS needs both a certificate and a key: pass --tls-cert and --tls-key (or set both in [tls])"
    )]
    HalfTls,
    #[error("cache size must be at least 1 MiB ([store] cache_mib or --cache-mib)")]
    ZeroCache,
    #[error("[limits] {key}: {reason}")]
    BadLimit { key: &'static str, reason: String },
    #[error("[rate_limits] {key}: {reason}")]
    BadRate { key: &'static str, reason: String },
}

impl ConfigFile {
    /// Reads and parses the file; relative paths in it become relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(data) = &mut file.data {
            rebase(data);
        }
        if let Some(tls) = &mut file.tls {
            rebase(&mut tls.cert);
            rebase(&mut tls.key);
        }
        Ok(file)
    }

    /// Parses the text of a config file; the error is toml's message (line, column, key).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }
}

/// The settings given as flags; `None` means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub log_level: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The certificate chain and key files to serve TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What `serve` runs with, after flags, file and defaults are combined.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    /// `None`: the platform's data directory.
    pub data: Option<PathBuf>,
    pub log_level: String,
    pub tls: Option<TlsFiles>,
    /// Deadlines, caps and the page cache, with the file applied (see [`apply_limits`]).
    pub limits: Limits,
}

/// Sets every limit the file names and `given` (set by flag or environment) does not, from
/// `[limits]` and `[store] cache_mib`.
pub fn apply_limits(
    file: &ConfigFile,
    limits: &mut Limits,
    given: impl Fn(&str) -> bool,
) -> Result<(), ConfigError> {
    let secs = |key: &'static str, value: Seconds| {
        parse_secs(&value.text()).map_err(|reason| ConfigError::BadLimit { key, reason })
    };
    if let Some(l) = &file.limits {
        if let (Some(v), false) = (l.header_timeout, given("header_timeout")) {
            limits.header_timeout = secs("header_timeout", v)?;
        }
        if let (Some(v), false) = (l.hello_timeout, given("hello_timeout")) {
            limits.hello_timeout = secs("hello_timeout", v)?;
        }
        if let (Some(v), false) = (l.write_timeout, given("write_timeout")) {
            limits.write_timeout = secs("write_timeout", v)?;
        }
        if let (Some(v), false) = (l.auth_log_interval, given("auth_log_interval")) {
            limits.auth_log_interval = secs("auth_log_interval", v)?;
        }
        if let (Some(v), false) = (l.max_connections, given("max_connections")) {
            limits.max_connections = Some(v);
        }
        if let (Some(v), false) = (l.max_connections_per_ip, given("max_connections_per_ip")) {
            limits.max_connections_per_ip = v;
        }
        if let (Some(v), false) = (l.max_catch_ups, given("max_catch_ups")) {
            limits.max_catch_ups = v;
        }
    }
    if let Some(r) = &file.rate_limits {
        if let (Some(v), false) = (r.failed_auth_per_minute, given("failed_auth_per_minute")) {
            limits.failed_auth_per_minute = v;
        }
        if let (Some(v), false) = (r.failed_auth_window, given("failed_auth_window")) {
            limits.failed_auth_window =
                parse_secs(&v.text()).map_err(|reason| ConfigError::BadRate {
                    key: "failed_auth_window",
                    reason,
                })?;
        }
        let rates = &mut limits.rates;
        let per_second = [
            (
                "commands_per_second",
                r.commands_per_second,
                &mut rates.commands_per_second,
            ),
            (
                "queries_per_second",
                r.queries_per_second,
                &mut rates.queries_per_second,
            ),
            (
                "log_mib_per_second",
                r.log_mib_per_second,
                &mut rates.log_mib_per_second,
            ),
            (
                "log_subscribes_per_second",
                r.log_subscribes_per_second,
                &mut rates.log_subscribes_per_second,
            ),
            (
                "delta_kib_per_second",
                r.delta_kib_per_second,
                &mut rates.delta_kib_per_second,
            ),
        ];
        for (key, value, setting) in per_second {
            if let (Some(v), false) = (value, given(key)) {
                *setting = crate::rate_limit::parse_rate(&v.to_string())
                    .map_err(|reason| ConfigError::BadRate { key, reason })?;
            }
        }
        let keys = [
            (
                "commands_burst",
                r.commands_burst,
                &mut rates.commands_burst,
            ),
            ("queries_burst", r.queries_burst, &mut rates.queries_burst),
            (
                "connections_per_token_per_minute",
                r.connections_per_token_per_minute,
                &mut rates.connections_per_token_per_minute,
            ),
            (
                "connections_per_ip_per_minute",
                r.connections_per_ip_per_minute,
                &mut rates.connections_per_ip_per_minute,
            ),
            ("log_burst_mib", r.log_burst_mib, &mut rates.log_burst_mib),
            (
                "log_subscribes_burst",
                r.log_subscribes_burst,
                &mut rates.log_subscribes_burst,
            ),
            (
                "delta_burst_kib",
                r.delta_burst_kib,
                &mut rates.delta_burst_kib,
            ),
        ];
        for (key, value, setting) in keys {
            if let (Some(v), false) = (value, given(key)) {
                *setting = v;
            }
        }
    }
    if let (Some(v), false) = (
        file.store.as_ref().and_then(|s| s.cache_mib),
        given("cache_mib"),
    ) {
        limits.cache_mib = v;
    }
    if let (Some(v), false) = (
        file.retention.as_ref().and_then(|r| r.audit_days),
        given("audit_days"),
    ) {
        limits.audit_days = v;
    }
    if limits.cache_mib == 0 {
        return Err(ConfigError::ZeroCache);
    }
    Ok(())
}

/// Combines flags over the file over the defaults; `limits` already has the file applied.
pub fn resolve(file: &ConfigFile, flags: Flags, limits: Limits) -> Result<Settings, ConfigError> {
    let file_tls = file.tls.as_ref();
    let cert = flags.tls_cert.or_else(|| file_tls.map(|t| t.cert.clone()));
    let key = flags.tls_key.or_else(|| file_tls.map(|t| t.key.clone()));
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(ConfigError::HalfTls),
    };
    Ok(Settings {
        listen: flags
            .listen
            .or_else(|| file.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
        data: flags.data.or_else(|| file.data.clone()),
        log_level: flags
            .log_level
            .or_else(|| file.log_level.clone())
            .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned()),
        tls,
        limits,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const GOOD: &str = r#"
listen = "0.0.0.0:443"
data = "/var/lib/warren"
log_level = "warn"

[tls]
cert = "/etc/warren/cert.pem"
key = "/etc/warren/key.pem"

[store]
cache_mib = 256

[limits]
header_timeout = 5
hello_timeout = 2.5
write_timeout = 60
max_connections = 900
max_connections_per_ip = 50
auth_log_interval = 30
max_catch_ups = 2

[rate_limits]
failed_auth_per_minute = 10
failed_auth_window = 30
commands_per_second = 10
commands_burst = 50
queries_per_second = 0.5
queries_burst = 60
connections_per_token_per_minute = 12
connections_per_ip_per_minute = 0
log_mib_per_second = 4.5
log_burst_mib = 64
log_subscribes_per_second = 2
log_subscribes_burst = 20
delta_kib_per_second = 8
delta_burst_kib = 32

[retention]
audit_days = 90
"#;

    fn nothing_given(_: &str) -> bool {
        false
    }

    fn settings(text: &str, flags: Flags, given: impl Fn(&str) -> bool) -> Settings {
        let file = ConfigFile::parse(text).expect("parses");
        let mut limits = Limits::default();
        apply_limits(&file, &mut limits, given).expect("limits apply");
        resolve(&file, flags, limits).expect("resolves")
    }

    #[test]
    fn a_good_file_sets_everything() {
        let s = settings(GOOD, Flags::default(), nothing_given);
        assert_eq!(s.listen, "0.0.0.0:443");
        assert_eq!(s.data, Some("/var/lib/warren".into()));
        assert_eq!(s.log_level, "warn");
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: "/etc/warren/cert.pem".into(),
                key: "/etc/warren/key.pem".into(),
            })
        );
        let l = &s.limits;
        assert_eq!(l.cache_bytes(), 256 * 1024 * 1024);
        assert_eq!(l.header_timeout, Duration::from_secs(5));
        assert_eq!(l.hello_timeout, Duration::from_millis(2500));
        assert_eq!(l.write_timeout, Duration::from_secs(60));
        assert_eq!(l.max_connections, Some(900));
        assert_eq!(l.max_connections_per_ip, 50);
        assert_eq!(l.auth_log_interval, Duration::from_secs(30));
        assert_eq!(l.max_catch_ups, 2);
        assert_eq!(l.failed_auth_per_minute, 10);
        assert_eq!(l.failed_auth_window, Duration::from_secs(30));
        assert_eq!(
            l.rates,
            crate::rate_limit::RateLimits {
                commands_per_second: 10.0,
                commands_burst: 50,
                queries_per_second: 0.5,
                queries_burst: 60,
                connections_per_token_per_minute: 12,
                connections_per_ip_per_minute: 0,
                log_mib_per_second: 4.5,
                log_burst_mib: 64,
                log_subscribes_per_second: 2.0,
                log_subscribes_burst: 20,
                delta_kib_per_second: 8.0,
                delta_burst_kib: 32,
            }
        );
        assert_eq!(l.audit_days, 90);
    }

    #[test]
    fn an_empty_file_means_the_defaults() {
        let s = settings("", Flags::default(), nothing_given);
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert_eq!(s.log_level, DEFAULT_LOG_LEVEL);
        assert_eq!(s.data, None);
        assert_eq!(s.tls, None);
        let d = Limits::default();
        assert_eq!(s.limits.cache_mib, d.cache_mib);
        assert_eq!(s.limits.header_timeout, d.header_timeout);
        assert_eq!(s.limits.max_connections, None);
    }

    #[test]
    fn an_unknown_key_names_its_line_and_the_key() {
        let text = "listen = \"127.0.0.1:1\"\n\n[store]\ncache_size = 5\n";
        let message = ConfigFile::parse(text).expect_err("cache_size is not a key");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("cache_size"), "{message}");
        assert!(
            message.contains("cache_mib"),
            "names the keys that exist: {message}"
        );
        let top = ConfigFile::parse("listne = \"x\"\n").expect_err("misspelt");
        assert!(top.contains("line 1") && top.contains("listne"), "{top}");
        let unknown = ConfigFile::parse("[rate_limits]\nfailed_auths = 5\n")
            .expect_err("not a rate-limit key");
        assert!(
            unknown.contains("line 2") && unknown.contains("failed_auth_per_minute"),
            "{unknown}"
        );
        let rates = ConfigFile::parse("[rate_limits]\ncommands_per_minute = 5\n")
            .expect_err("the key is commands_per_second");
        assert!(rates.contains("line 2"), "{rates}");
        assert!(rates.contains("commands_per_second"), "{rates}");
        let limit = ConfigFile::parse("[limits]\nheader_timeout_secs = 5\n").expect_err("name");
        assert!(limit.contains("header_timeout_secs"), "{limit}");
    }

    #[test]
    fn load_names_the_file_and_rebases_relative_paths() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("warren.toml");
        std::fs::write(
            &path,
            "data = \"state\"\n[tls]\ncert = \"c.pem\"\nkey = \"/abs/k.pem\"\n",
        )
        .expect("write");
        let file = ConfigFile::load(&path).expect("loads");
        assert_eq!(file.data, Some(dir.path().join("state")));
        let tls = file.tls.expect("tls");
        assert_eq!(tls.cert, dir.path().join("c.pem"));
        assert_eq!(tls.key, PathBuf::from("/abs/k.pem"));
        std::fs::write(&path, "[tls]\ncert = \"c.pem\"\nky = \"k.pem\"\n").expect("write");
        let err = ConfigFile::load(&path).expect_err("bad key").to_string();
        assert!(
            err.contains("warren.toml") && err.contains("line 3"),
            "{err}"
        );
    }

    #[test]
    fn flags_beat_the_file() {
        let flags = Flags {
            listen: Some("127.0.0.1:0".into()),
            data: Some("/tmp/other".into()),
            log_level: Some("debug".into()),
            tls_cert: Some("/c.pem".into()),
            tls_key: Some("/k.pem".into()),
        };
        // The flag parser already put these values into the limits; the file must not undo it.
        let given = |id: &str| {
            matches!(
                id,
                "cache_mib"
                    | "header_timeout"
                    | "max_catch_ups"
                    | "failed_auth_per_minute"
                    | "commands_burst"
            )
        };
        let s = settings(GOOD, flags, given);
        assert_eq!(s.listen, "127.0.0.1:0");
        assert_eq!(s.data, Some("/tmp/other".into()));
        assert_eq!(s.log_level, "debug");
        assert_eq!(
            s.tls,
            Some(TlsFiles {
                cert: "/c.pem".into(),
                key: "/k.pem".into()
            })
        );
        let d = Limits::default();
        assert_eq!(s.limits.cache_mib, d.cache_mib, "the flag's value stays");
        assert_eq!(s.limits.header_timeout, d.header_timeout);
        assert_eq!(s.limits.max_catch_ups, d.max_catch_ups);
        assert_eq!(s.limits.failed_auth_per_minute, d.failed_auth_per_minute);
        assert_eq!(s.limits.max_connections_per_ip, 50, "not given: the file's");
        assert_eq!(s.limits.failed_auth_window, Duration::from_secs(30));
        assert_eq!(s.limits.rates.commands_burst, d.rates.commands_burst);
        assert_eq!(
            s.limits.rates.commands_per_second, 10.0,
            "not given: the file's"
        );
    }

    #[test]
    fn half_a_tls_pair_a_zero_cache_or_a_bad_timeout_is_refused() {
        let file = ConfigFile::default();
        let half = Flags {
            tls_cert: Some("/c.pem".into()),
            ..Flags::default()
        };
        let half = resolve(&file, half, Limits::default());
        assert!(matches!(half, Err(ConfigError::HalfTls)), "{half:?}");
        let zero = ConfigFile::parse("[store]\ncache_mib = 0\n").expect("parses");
        let zero = apply_limits(&zero, &mut Limits::default(), nothing_given);
        assert!(matches!(zero, Err(ConfigError::ZeroCache)), "{zero:?}");
        let rate = ConfigFile::parse("[rate_limits]\ncommands_per_second = -2\n").expect("parses");
        let err = apply_limits(&rate, &mut Limits::default(), nothing_given)
            .expect_err("a negative rate")
            .to_string();
        assert!(err.contains("[rate_limits] commands_per_second"), "{err}");
        let bad = ConfigFile::parse("[limits]\nhello_timeout = 0\n").expect("parses");
        let err = apply_limits(&bad, &mut Limits::default(), nothing_given)
            .expect_err("zero seconds")
            .to_string();
        assert!(err.contains("hello_timeout"), "{err}");
    }
}
