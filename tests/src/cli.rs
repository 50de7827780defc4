//! Running the `warren` CLI binary against a test server, with its own config directory so the
//! user's real profile is never read or written.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::bins;

/// What a finished CLI run printed and returned.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The exit code (`-1` if killed by a signal).
    pub code: i32,
}

impl Output {
    /// Panics with the whole output unless the run exited 0.
    pub fn ok(self) -> Output {
        assert_eq!(self.code, 0, "warren failed: {self:#?}");
        self
    }

    /// Parses stdout as one JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Parses every non-empty stdout line as JSON.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("line is not JSON ({e}): {l}\n{}", self.stdout))
            })
            .collect()
    }
}

/// A CLI user: a private config directory, optionally with server and token flags.
pub struct Cli {
    config: TempDir,
    flags: Vec<String>,
    envs: Vec<(String, PathBuf)>,
}

impl Cli {
    /// A CLI that passes `--server URL --token TOKEN` on every run.
    pub fn new(server_url: &str, token: &str) -> Cli {
        let mut cli = Cli::bare();
        cli.flags = vec![
            "--server".into(),
            server_url.into(),
            "--token".into(),
            token.into(),
        ];
        cli
    }

    /// A CLI with no connection flags (it relies on its profile, if any).
    pub fn bare() -> Cli {
        Cli {
            config: tempfile::tempdir().expect("a temp config dir"),
            flags: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Runs every command with `WARREN_DATA_DIR` (the local workspace) set to `dir`.
    pub fn with_data_dir(mut self, dir: &Path) -> Cli {
        self.envs
            .push(("WARREN_DATA_DIR".to_owned(), dir.to_path_buf()));
        self
    }

    /// Runs every command with the environment variable `key` set to `value` (such as `TZ`).
    pub fn with_env(mut self, key: &str, value: &str) -> Cli {
        self.envs.push((key.to_owned(), PathBuf::from(value)));
        self
    }

    /// The directory `WARREN_CONFIG_DIR` points at.
    pub fn config_dir(&self) -> &Path {
        self.config.path()
    }

    /// The profile file `warren login` writes.
    pub fn config_file(&self) -> PathBuf {
        self.config.path().join("config.toml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bins::cli_bin());
        command
            .args(args)
            .args(&self.flags)
            .env("WARREN_CONFIG_DIR", self.config.path())
            .env("HOME", self.config.path())
            .env("NO_COLOR", "1")
            .env_remove("WARREN_SERVER")
            .env_remove("WARREN_TOKEN")
            .env_remove("WARREN_WORKSPACE")
            .env_remove("WARREN_DATA_DIR")
            .env_remove("WARREN_CA_FILE")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `warren ARGS… [flags]` to completion (bounded by 60 s).
    pub async fn run(&self, args: &[&str]) -> Output {
        let output = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            self.command(args).output(),
        )
        .await
        .unwrap_or_else(|_| panic!("warren {args:?} did not finish within 60 s"))
        .expect("run warren");
        Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code().unwrap_or(-1),
        }
    }

    /// Starts `warren ARGS… [flags]` in the background with stdout and stderr going to `log`
    /// (a long-running process such as `warren worker`, whose output must never fill a pipe).
    pub fn spawn_logged(&self, args: &[&str], log: &std::path::Path) -> Child {
        let out = std::fs::File::create(log).expect("create the process log");
        let err = out.try_clone().expect("clone the process log");
        self.command(args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn warren")
    }

    /// Starts `warren ARGS… [flags]` with stdout piped, for `--follow` runs.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn warren")
    }
}
