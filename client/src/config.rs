//! The profile file: which server to talk to, with which token, and which workspace to open by
//! default. It lives at `config_dir()/config.toml` of `directories::ProjectDirs` for
//! `dev.warren.warren` (override the directory with `WARREN_CONFIG_DIR`) and is created with mode
//! 0600 because it holds a secret. An optional `[ui]` section picks the full-screen client's
//! keymap and theme.

use crate::private_file;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// Environment variable that overrides the config directory.
pub const CONFIG_DIR_ENV: &str = "WARREN_CONFIG_DIR";

/// The contents of `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile `warren login` stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The full-screen client's look and keys (`[ui]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<UiConfig>,
}

/// The `[ui]` section: which bundled keymap and which theme the full-screen client uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    /// `default`, `vim` or `emacs`; the config directory's `keymap.toml` merges over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keymap: Option<String>,
    /// A bundled theme (`dark`, `light`, `high-contrast`, `base16`) or the name of a file in the
    /// config directory's `themes/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Copy to the clipboard through the terminal (OSC 52); off unless set, since some
    /// terminals refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osc52: Option<bool>,
}

/// A server, its token, and optionally a default workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The server address as `warren login` normalised it, such as `http://127.0.0.1:7878`.
    pub server: String,
    /// The API token (`wrn_…`).
    pub token: String,
    /// Workspace id or name to open when `--workspace` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// PEM file of a private CA that signed the server's certificate (`https://` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// The directory holding `config.toml`: `$WARREN_CONFIG_DIR` if set, else the platform's config
/// directory for warren.
pub fn config_dir() -> Result<PathBuf, ClientError> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "warren", "warren")
        .map(|dirs| dirs.config_dir().to_path_buf())
        .ok_or_else(|| ClientError::Config {
            path: "(none)".to_owned(),
            reason: format!("cannot find your home directory — set {CONFIG_DIR_ENV}"),
        })
}

/// The path of the profile file inside `dir`.
pub fn config_path(dir: &Path) -> PathBuf {
    dir.join("config.toml")
}

fn config_error(path: &Path, reason: impl std::fmt::Display) -> ClientError {
    ClientError::Config {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

impl ConfigFile {
    /// The chosen keymap, `default` unless `[ui] keymap` says otherwise.
    pub fn keymap_name(&self) -> &str {
        self.ui
            .as_ref()
            .and_then(|ui| ui.keymap.as_deref())
            .unwrap_or(crate::keymap::DEFAULT)
    }

    /// The chosen theme, `dark` unless `[ui] theme` says otherwise.
    pub fn theme_name(&self) -> &str {
        self.ui
            .as_ref()
            .and_then(|ui| ui.theme.as_deref())
            .unwrap_or(crate::theme::DEFAULT)
    }

    /// Whether copying through the terminal (OSC 52) is turned on; off by default.
    pub fn osc52(&self) -> bool {
        self.ui.as_ref().and_then(|ui| ui.osc52).unwrap_or(false)
    }

    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(config_error(path, e)),
        };
        toml::from_str(&text).map_err(|e| {
            // toml's message names the line and column and draws the line with a caret under
            // the mistake; it is kept over several lines.
            config_error(
                path,
                format!(
                    "{}\nfix it, or run 'warren login' again to rewrite the profile",
                    e.to_string().trim_end()
                ),
            )
        })
    }

    /// Writes the file atomically (a fresh 0600 file renamed over the old one), creating the
    /// directory (0700) if needed.
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        private_file::create_dir(dir).map_err(|e| config_error(dir, e))?;
        let text = toml::to_string(self).map_err(|e| config_error(path, e))?;
        let tmp = dir.join(format!(".config.toml.{}.tmp", std::process::id()));
        private_file::replace(path, &tmp, text.as_bytes()).map_err(|e| config_error(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_private_mode() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = config_path(&dir.path().join("nested"));
        assert_eq!(ConfigFile::load(&path)?, ConfigFile::default());
        let config = ConfigFile {
            profile: Some(Profile {
                server: "http://127.0.0.1:7878".into(),
                token: "wrn_secret".into(),
                workspace: Some("Acme".into()),
                ca_file: Some("/etc/warren/ca.pem".into()),
            }),
            ui: None,
        };
        config.save(&path)?;
        assert_eq!(ConfigFile::load(&path)?, config);
        config.save(&path)?;
        assert_eq!(ConfigFile::load(&path)?, config);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }

    #[test]
    fn the_ui_section_is_optional_and_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = config_path(dir.path());
        std::fs::write(&path, "[profile]\nserver = \"x\"\ntoken = \"t\"\n")?;
        let old = ConfigFile::load(&path)?;
        assert_eq!(old.ui, None);
        assert_eq!((old.keymap_name(), old.theme_name()), ("default", "dark"));
        std::fs::write(&path, "[ui]\nkeymap = \"vim\"\ntheme = \"light\"\n")?;
        let file = ConfigFile::load(&path)?;
        assert_eq!((file.keymap_name(), file.theme_name()), ("vim", "light"));
        file.save(&path)?;
        assert_eq!(ConfigFile::load(&path)?, file);
        std::fs::write(&path, "[ui]\nkeymaps = \"vim\"\n")?;
        let err = ConfigFile::load(&path).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("keymaps")));
        Ok(())
    }

    #[test]
    fn a_parse_error_shows_the_line_and_a_caret() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = config_path(dir.path());
        std::fs::write(&path, "[ui]\ntheme = light\n")?;
        let err = ConfigFile::load(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("line 2, column 9"), "{err}");
        assert!(err.lines().any(|l| l.contains("theme = light")), "{err}");
        assert!(err.lines().any(|l| l.trim_end().ends_with('^')), "{err}");
        assert!(err.lines().count() >= 4, "kept over several lines: {err}");
        Ok(())
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = config_path(dir.path());
        std::fs::write(
            &path,
            "[profile]\nserver = \"x\"\ntoken = \"t\"\ncolour = 1\n",
        )?;
        let err = ConfigFile::load(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("config.toml"), "{err}");
        assert!(err.contains("colour"), "{err}");
        Ok(())
    }
}
