//! `warren-server serve --config FILE`: the server's settings in one TOML file, and how they
//! combine with command-line flags (a flag always beats the file, the file beats the default).
//!
//! The file is strict (`deny_unknown_fields` everywhere): a misspelt key is an error that names
//! the file, the line and the key, never a setting silently ignored. `docs/deploy.md` has the
//! reference of every key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The address `serve` listens on when neither the file nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// The log filter when neither the file, `--log-level` nor `RUST_LOG` says.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The redb page cache when neither the file nor `--cache-mib` says. redb's own default is
/// 1 GiB, far more than a team's store needs to stay fast, and it counts against the server's
/// memory.
pub const DEFAULT_CACHE_MIB: u64 = 64;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub log_level: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub cache_mib: Option<u64>,
}

/// The certificate chain and key files to serve TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What `serve` runs with, after flags, file and defaults are combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: String,
    /// `None`: the platform's data directory.
    pub data: Option<PathBuf>,
    pub log_level: String,
    pub tls: Option<TlsFiles>,
    pub cache_bytes: usize,
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
    let cache_mib = flags
        .cache_mib
        .or_else(|| file.store.as_ref().and_then(|s| s.cache_mib))
        .unwrap_or(DEFAULT_CACHE_MIB);
    if cache_mib == 0 {
        return Err(ConfigError::ZeroCache);
    }
    let cache_bytes = usize::try_from(cache_mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
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
        cache_bytes,
    })
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

[rate_limits]

[retention]
"#;

    #[test]
    fn a_good_file_sets_everything() {
        let file = ConfigFile::parse(GOOD).expect("the example parses");
        let settings = resolve(&file, Flags::default()).expect("resolves");
        assert_eq!(
            settings,
            Settings {
                listen: "0.0.0.0:443".into(),
                data: Some("/var/lib/warren".into()),
                log_level: "warn".into(),
                tls: Some(TlsFiles {
                    cert: "/etc/warren/cert.pem".into(),
                    key: "/etc/warren/key.pem".into(),
                }),
                cache_bytes: 256 * 1024 * 1024,
            }
        );
    }

    #[test]
    fn an_empty_file_means_the_defaults() {
        let file = ConfigFile::parse("").expect("empty is fine");
        let settings = resolve(&file, Flags::default()).expect("resolves");
        assert_eq!(settings.listen, DEFAULT_LISTEN);
        assert_eq!(settings.log_level, DEFAULT_LOG_LEVEL);
        assert_eq!(settings.data, None);
        assert_eq!(settings.tls, None);
        assert_eq!(settings.cache_bytes, 64 * 1024 * 1024);
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
        let flags = Flags {
            listen: Some("127.0.0.1:0".into()),
            data: Some("/tmp/other".into()),
            log_level: Some("debug".into()),
            tls_cert: Some("/c.pem".into()),
            tls_key: Some("/k.pem".into()),
            cache_mib: Some(8),
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
        assert_eq!(settings.cache_bytes, 8 * 1024 * 1024);
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
            cache_mib: Some(0),
            ..Flags::default()
        };
        assert!(matches!(resolve(&file, zero), Err(ConfigError::ZeroCache)));
    }
}
