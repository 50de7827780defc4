//! A real `warren-server` process over a temporary data directory.
//!
//! [`Server::start`] runs `warren-server init` (owner `ada`, workspace `Acme`), then
//! `warren-server serve --listen 127.0.0.1:0` and waits for the line announcing the bound port.
//! The process is SIGKILLed when the [`Server`] is dropped. `warren-server token …` opens the redb
//! file itself, which the running server holds locked, so [`Server::create_token`] and
//! [`Server::revoke_token`] need the server stopped first.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::bins;

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The line prefix `warren-server serve` prints once it is listening.
const LISTENING: &str = "warren-server listening on http://";

/// `serve` flags that turn every rate limit off, for tests and benchmarks that push far more
/// commands, queries or connections through one token (and from one address) than a person
/// would: the defaults (`docs/deploy.md`) would slow them down, which is not what they measure.
pub const NO_RATE_LIMITS: [&str; 8] = [
    "--commands-per-second",
    "0",
    "--queries-per-second",
    "0",
    "--connections-per-token-per-minute",
    "0",
    "--connections-per-ip-per-minute",
    "0",
];

/// A running (or stopped) server with its data directory.
pub struct Server {
    dir: TempDir,
    /// The owner's API token, from `init`.
    pub token: String,
    /// Where the server listens; changes on every (re)start.
    pub addr: SocketAddr,
    child: Option<Child>,
    /// Held so the server never writes into a closed pipe.
    _stdout: Option<ChildStdout>,
    starts: u32,
    /// Extra `serve` flags (limits, deadlines) for every start.
    serve_args: Vec<String>,
}

/// A token minted by `warren-server token create`.
pub struct MintedToken {
    /// `tok_…`, for `token revoke`.
    pub id: String,
    /// `wrn_…`, the secret.
    pub token: String,
}

async fn run_tool(args: &[&str]) -> (String, String) {
    let output = Command::new(bins::server_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("warren-server runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "warren-server {args:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

fn token_line(stdout: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(warren_protocol::TOKEN_PREFIX))
        .unwrap_or_else(|| panic!("no wrn_ token line in:\n{stdout}"))
        .to_owned()
}

impl Server {
    /// Initialises a fresh data directory and serves it.
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    /// [`Server::start`] with extra `serve` flags, e.g. `["--hello-timeout", "0.5"]`.
    pub async fn start_with(serve_args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("a temp dir for the server data");
        Self::start_in(dir, serve_args).await
    }

    /// [`Server::start_with`] in a given directory (for example on a small file system); the
    /// store goes in `DIR/data`.
    pub async fn start_in(dir: TempDir, serve_args: &[&str]) -> Server {
        let data = dir.path().join("data");
        let data_arg = data.to_str().expect("temp paths are UTF-8");
        let (stdout, _) = run_tool(&[
            "init",
            "--data",
            data_arg,
            "--owner",
            "ada",
            "--workspace",
            "Acme",
        ])
        .await;
        let token = token_line(&stdout);
        let mut server = Server {
            dir,
            token,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: None,
            _stdout: None,
            starts: 0,
            serve_args: serve_args.iter().map(|a| (*a).to_owned()).collect(),
        };
        server.spawn().await;
        server
    }

    /// The data directory holding `warren.redb`.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `http://127.0.0.1:PORT`, as the CLI wants it.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// The server's log files (stderr of every start), for failure messages.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for n in 1..=self.starts {
            let path = self.log_path(n);
            all.push_str(&format!("--- {} ---\n", path.display()));
            all.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
        all
    }

    fn log_path(&self, n: u32) -> PathBuf {
        self.dir.path().join(format!("server-{n}.log"))
    }

    async fn spawn(&mut self) {
        self.spawn_at("127.0.0.1:0").await;
    }

    async fn spawn_at(&mut self, listen: &str) {
        assert!(self.child.is_none(), "the server is already running");
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts)).expect("create the log file");
        let data = self.data_dir();
        let mut child = Command::new(bins::server_bin())
            .arg("serve")
            .arg("--data")
            .arg(&data)
            .args(["--listen", listen, "--log-level", "info"])
            .args(&self.serve_args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn warren-server serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, lines.read_line(&mut first)).await;
        let addr = match read {
            Ok(Ok(_)) => first
                .trim()
                .strip_prefix(LISTENING)
                .and_then(|a| a.parse::<SocketAddr>().ok()),
            _ => None,
        };
        let Some(addr) = addr else {
            let _ = child.start_kill();
            panic!(
                "warren-server did not announce its address (first line {first:?}):\n{}",
                self.logs()
            );
        };
        self.addr = addr;
        self.child = Some(child);
        self._stdout = Some(lines.into_inner());
    }

    /// Whether the process is running (as far as we know).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .and_then(Child::id)
            .expect("the server is running")
    }

    /// The resident memory of the running server, in KiB (`VmRSS` of `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status of the server");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// SIGKILL: no shutdown path runs at all.
    pub async fn kill_9(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().await.expect("SIGKILL the server");
        self._stdout = None;
    }

    /// Sends SIGTERM and returns without waiting; see [`Server::wait_exit`].
    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits (bounded) for the process to exit and returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        match tokio::time::timeout(timeout, child.wait()).await {
            Ok(status) => {
                self._stdout = None;
                status.expect("wait for warren-server")
            }
            Err(_) => {
                let _ = child.kill().await;
                panic!(
                    "warren-server did not exit within {timeout:?}:\n{}",
                    self.logs()
                );
            }
        }
    }

    /// Starts the server again on the same data directory (on a new port). Kills it first if
    /// it is still running.
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            self.kill_9().await;
        }
        self.spawn().await;
    }

    /// Starts the stopped server again on its previous address, so clients that know the URL
    /// can reconnect.
    pub async fn restart_same_port(&mut self) {
        assert!(self.child.is_none(), "stop the server first");
        let listen = self.addr.to_string();
        self.spawn_at(&listen).await;
    }

    /// `warren-server token create --user NAME` (the server must be stopped: redb locks the
    /// file).
    pub async fn create_token(&self, user: &str, label: &str) -> MintedToken {
        assert!(
            self.child.is_none(),
            "stop the server before `token create`: the store file is locked while it runs"
        );
        let data = self.data_arg();
        let (stdout, stderr) = run_tool(&[
            "token", "create", "--data", &data, "--user", user, "--label", label,
        ])
        .await;
        let id = stderr
            .split_whitespace()
            .find(|w| w.starts_with("tok_"))
            .unwrap_or_else(|| panic!("no tok_ id in:\n{stderr}"))
            .to_owned();
        MintedToken {
            id,
            token: token_line(&stdout),
        }
    }

    /// `warren-server member add --name NAME --role ROLE` (the server must be stopped): a new
    /// user in the workspace with that role; returns their token.
    pub async fn add_member(&self, name: &str, role: &str) -> String {
        assert!(
            self.child.is_none(),
            "stop the server before `member add`: the store file is locked while it runs"
        );
        let data = self.data_arg();
        let (stdout, _) = run_tool(&[
            "member", "add", "--data", &data, "--name", name, "--role", role,
        ])
        .await;
        token_line(&stdout)
    }

    /// `warren-server token revoke ID` (the server must be stopped).
    pub async fn revoke_token(&self, id: &str) {
        assert!(
            self.child.is_none(),
            "stop the server before `token revoke`: the store file is locked while it runs"
        );
        let data = self.data_arg();
        run_tool(&["token", "revoke", id, "--data", &data]).await;
    }

    /// Asserts that `warren-server check --data` passes on the store (stop the server first:
    /// redb locks the file while it runs).
    pub async fn assert_store_checks_out(&self) {
        let checked = Command::new(bins::server_bin())
            .args(["check", "--data"])
            .arg(self.data_dir())
            .env_remove("RUST_LOG")
            .output()
            .await
            .expect("run warren-server check");
        assert!(
            checked.status.success(),
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }

    fn data_arg(&self) -> String {
        path_str(&self.data_dir())
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_owned()
}

impl Drop for Server {
    /// Kills the process before the data directory is removed.
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.start_kill();
        }
    }
}
