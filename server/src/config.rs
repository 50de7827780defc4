//! `warren-server serve --config FILE`: the server's settings in one TOML file, and how they
//! combine with command-line flags (a flag, or its environment variable, always beats the file;
//! the file beats the default). The `[limits]` section and `[store] cache_mib` fill
//! [`Limits`], the same deadlines and caps the `serve` flags set.
//!
//! The file is strict (`deny_unknown_fields` everywhere): a misspelt key is an error that names
//! the file, the line and the key, never a setting silently ignored. `docs/deploy.md` has the
//! reference of every key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::limits::Limits;

/// The address `serve` listens on when neither the file nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// The log filter when neither the file, `--log-level` nor `RUST_LOG` says.
pub const DEFAULT_LOG_LEVEL: &str = "info";

/// The contents of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
    /// `[rate_limits]`: reserved; its keys come with rate limiting.
    pub rate_limits: Option<RateLimitsSection>,
    /// `[retention]`: reserved; its keys come with retention jobs.
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

/// `[limits]`: each key is the `serve` flag of the same name (`header_timeout` is
/// `--header-timeout`); a flag given on the command line or in its environment variable wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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

/// A deadline in the file: a number of seconds, whole (`10`) or not (`0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of seconds, such as 10 or 0.5")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Seconds, E> {
                crate::limits::secs_in_range(v)
                    .map(Seconds)
                    .map_err(|range| E::custom(format!("{v} {range}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[rate_limits]`: no keys yet (the section is accepted so a file can carry it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsSection {}

/// `[retention]`: no keys yet (the section is accepted so a file can carry it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {}

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
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub log_level: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The limits as parsed: given flags, their environment variables, and defaults.
    pub limits: Limits,
    /// Which [`Limits`] fields were given on the command line or in the environment (their
    /// field names, e.g. `header_timeout`); the others may come from the file.
    pub limits_given: BTreeSet<String>,
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
    /// Deadlines, caps and the page cache.
    pub limits: Limits,
}

/// Combines flags over the file over the defaults.
pub fn resolve(file: &ConfigFile, flags: Flags) -> Result<Settings, ConfigError> {
    let file_tls = file.tls.as_ref();
    let cert = flags.tls_cert.or_else(|| file_tls.map(|t| t.cert.clone()));
    let key = flags.tls_key.or_else(|| file_tls.map(|t| t.key.clone()));
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(ConfigError::HalfTls),
    };
    let limits = limits_over_file(file, flags.limits, &flags.limits_given);
    if limits.cache_mib == 0 {
        return Err(ConfigError::ZeroCache);
    }
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

/// `limits` with every field that was not `given` taken from the file where it says.
fn limits_over_file(file: &ConfigFile, mut limits: Limits, given: &BTreeSet<String>) -> Limits {
    let from_file = |name: &str| !given.contains(name);
    if let Some(mib) = file.store.as_ref().and_then(|s| s.cache_mib)
        && from_file("cache_mib")
    {
        limits.cache_mib = mib;
    }
    let Some(section) = &file.limits else {
        return limits;
    };
    let secs = |name: &str, value: Option<Seconds>, field: &mut Duration| {
        if let Some(Seconds(d)) = value
            && from_file(name)
        {
            *field = d;
        }
    };
    secs(
        "header_timeout",
        section.header_timeout,
        &mut limits.header_timeout,
    );
    secs(
        "hello_timeout",
        section.hello_timeout,
        &mut limits.hello_timeout,
    );
    secs(
        "write_timeout",
        section.write_timeout,
        &mut limits.write_timeout,
    );
    secs(
        "auth_log_interval",
        section.auth_log_interval,
        &mut limits.auth_log_interval,
    );
    if let Some(n) = section.max_connections
        && from_file("max_connections")
    {
        limits.max_connections = Some(n);
    }
    if let Some(n) = section.max_connections_per_ip
        && from_file("max_connections_per_ip")
    {
        limits.max_connections_per_ip = n;
    }
    if let Some(n) = section.max_catch_ups
        && from_file("max_catch_ups")
    {
        limits.max_catch_ups = n;
    }
    limits
}

#[cfg(test)]
mod tests {
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
max_connections_per_ip = 40
auth_log_interval = 30
max_catch_ups = 2

[rate_limits]

[retention]
"#;

    #[test]
    fn a_good_file_sets_everything() {
        let file = ConfigFile::parse(GOOD).expect("the example parses");
        let settings = resolve(&file, Flags::default()).expect("resolves");
        assert_eq!(settings.listen, "0.0.0.0:443");
        assert_eq!(settings.data, Some("/var/lib/warren".into()));
        assert_eq!(settings.log_level, "warn");
        assert_eq!(
            settings.tls,
            Some(TlsFiles {
                cert: "/etc/warren/cert.pem".into(),
                key: "/etc/warren/key.pem".into(),
            })
        );
        let l = settings.limits;
        assert_eq!(l.cache_bytes(), 256 * 1024 * 1024);
        assert_eq!(l.header_timeout, Duration::from_secs(5));
        assert_eq!(l.hello_timeout, Duration::from_millis(2500));
        assert_eq!(l.write_timeout, Duration::from_secs(60));
        assert_eq!(l.max_connections, Some(900));
        assert_eq!(l.max_connections_per_ip, 40);
        assert_eq!(l.auth_log_interval, Duration::from_secs(30));
        assert_eq!(l.max_catch_ups, 2);
    }

    #[test]
    fn a_bad_deadline_names_its_line() {
        let message = ConfigFile::parse("[limits]\nheader_timeout = 0\n").expect_err("zero");
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("between 0 and 86400"), "{message}");
        let text = ConfigFile::parse("[limits]\nhello_timeout = \"10s\"\n").expect_err("text");
        assert!(text.contains("such as 10 or 0.5"), "{text}");
        let unknown = ConfigFile::parse("[limits]\nmax_conections = 5\n").expect_err("misspelt");
        assert!(unknown.contains("max_connections"), "{unknown}");
    }

    #[test]
    fn an_empty_file_means_the_defaults() {
        let file = ConfigFile::parse("").expect("empty is fine");
        let settings = resolve(&file, Flags::default()).expect("resolves");
        assert_eq!(settings.listen, DEFAULT_LISTEN);
        assert_eq!(settings.log_level, DEFAULT_LOG_LEVEL);
        assert_eq!(settings.data, None);
        assert_eq!(settings.tls, None);
        assert_eq!(
            format!("{:?}", settings.limits),
            format!("{:?}", Limits::default())
        );
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
        let reserved = ConfigFile::parse("[rate_limits]\ncommands_per_second = 5\n")
            .expect_err("no rate-limit keys yet");
        assert!(reserved.contains("line 2"), "{reserved}");
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
        let file = ConfigFile::parse(GOOD).expect("parses");
        let limits = Limits {
            cache_mib: 8,
            header_timeout: Duration::from_secs(3),
            max_connections_per_ip: 7,
            ..Limits::default()
        };
        let flags = Flags {
            listen: Some("127.0.0.1:0".into()),
            data: Some("/tmp/other".into()),
            log_level: Some("debug".into()),
            tls_cert: Some("/c.pem".into()),
            tls_key: Some("/k.pem".into()),
            limits,
            limits_given: ["cache_mib", "header_timeout", "max_connections_per_ip"]
                .map(String::from)
                .into(),
        };
        let settings = resolve(&file, flags).expect("resolves");
        assert_eq!(settings.listen, "127.0.0.1:0");
        assert_eq!(settings.data, Some("/tmp/other".into()));
        assert_eq!(settings.log_level, "debug");
        assert_eq!(
            settings.tls,
            Some(TlsFiles {
                cert: "/c.pem".into(),
                key: "/k.pem".into()
            })
        );
        let l = settings.limits;
        assert_eq!(l.cache_bytes(), 8 * 1024 * 1024);
        assert_eq!(l.header_timeout, Duration::from_secs(3));
        assert_eq!(l.max_connections_per_ip, 7);
        // Not given as flags: the file's values, not the defaults the flags parsed to.
        assert_eq!(l.hello_timeout, Duration::from_millis(2500));
        assert_eq!(l.max_connections, Some(900));
        assert_eq!(l.max_catch_ups, 2);
    }

    #[test]
    fn half_a_tls_pair_or_a_zero_cache_is_refused() {
        let file = ConfigFile::default();
        let half = Flags {
            tls_cert: Some("/c.pem".into()),
            ..Flags::default()
        };
        assert!(matches!(resolve(&file, half), Err(ConfigError::HalfTls)));
        let zero = Flags {
            limits: Limits {
                cache_mib: 0,
                ..Limits::default()
            },
            limits_given: ["cache_mib".to_owned()].into(),
            ..Flags::default()
        };
        assert!(matches!(resolve(&file, zero), Err(ConfigError::ZeroCache)));
        let zero_in_file = ConfigFile::parse("[store]\ncache_mib = 0\n").expect("parses");
        assert!(matches!(
            resolve(&zero_in_file, Flags::default()),
            Err(ConfigError::ZeroCache)
        ));
    }
}
