//! Helpers for end-to-end runs with real parts: a real server, real `warren worker` processes
//! (bots added through the CLI) and waits on what the CLI reports.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Child;
use warren_e2e::Server;
use warren_e2e::cli::Cli;

/// A server, the owner's CLI, and a directory for the workers' logs and the jobs' files.
pub struct Setup {
    pub server: Server,
    pub cli: Cli,
    pub dir: tempfile::TempDir,
}

/// A running `warren worker` process.
pub struct Worker {
    pub child: Child,
    pub log: PathBuf,
    // The worker's config dir lives as long as the process.
    _cli: Cli,
}

impl Worker {
    /// SIGKILL, and wait until it is gone.
    pub async fn kill_9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// What the worker wrote to stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Setup {
    /// A client that said `hello` and watches the agent runs answering in room `name`
    /// (`run_watch` answered by `run_watching`), and the room's id.
    pub async fn room_watcher(
        &self,
        name: &str,
    ) -> (warren_e2e::client::Client, warren_protocol::Id) {
        let mut c = warren_e2e::connect_hello(self.server.addr, &self.server.token).await;
        let room = c
            .snapshot()
            .await
            .rooms
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("the workspace has #{name}"))
            .id
            .clone();
        let request_id = c.next_request_id();
        c.send_json(&serde_json::json!({
            "type": "run_watch", "request_id": request_id, "room_id": room.as_str()
        }))
        .await
        .expect("send run_watch");
        match c.try_answer(&request_id).await {
            Ok(warren_protocol::ServerMessage::RunWatching { .. }) => {}
            other => panic!("expected run_watching, got {other:?}"),
        }
        (c, room)
    }

    /// A server started with `serve_args` (no rate limits).
    pub async fn start(serve_args: &[&str]) -> Setup {
        let mut args = warren_e2e::server::NO_RATE_LIMITS.to_vec();
        args.extend_from_slice(serve_args);
        let server = Server::start_with(&args).await;
        let cli = Cli::new(&server.http_url(), &server.token);
        Setup {
            server,
            cli,
            dir: tempfile::tempdir().expect("a temp dir for the run tests"),
        }
    }

    /// A path in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Adds the bot `name` and starts `warren worker --tags TAGS` as it, in the test's
    /// directory; waits until `worker list` shows it idle.
    pub async fn worker(&self, name: &str, tags: &str) -> Worker {
        self.worker_with(name, tags, &[]).await
    }

    /// Like [`Setup::worker`], with environment variables for the worker (`WARREN_DATA_DIR`).
    pub async fn worker_with(&self, name: &str, tags: &str, env: &[(&str, &str)]) -> Worker {
        let added = self
            .cli
            .run(&["worker", "add", name, "--tags", tags, "--json"])
            .await
            .ok()
            .json();
        let secret = added["secret"]
            .as_str()
            .expect("worker add prints the token once")
            .to_owned();
        let cli = env
            .iter()
            .fold(Cli::new(&self.server.http_url(), &secret), |cli, (k, v)| {
                cli.with_env(k, v)
            });
        let log = self.path(&format!("{name}.log"));
        let workdir = self.dir.path().display().to_string();
        let child = cli.spawn_logged(&["worker", "--tags", tags, "--workdir", &workdir], &log);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let list = self.cli.run(&["worker", "list", "--json"]).await;
            let workers =
                serde_json::from_str::<serde_json::Value>(&list.stdout).unwrap_or_default();
            let up = workers.as_array().is_some_and(|all| {
                all.iter()
                    .any(|w| w["name"] == name && (w["state"] == "idle" || w["state"] == "busy"))
            });
            if up {
                return Worker {
                    child,
                    log,
                    _cli: cli,
                };
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "worker {name} never came up; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits (bounded) until `run show RUN --json` says `status`; returns the run (the first JSON
/// line: an agent run's steps follow it, one a line).
pub async fn wait_status(cli: &Cli, run: &str, status: &str) -> serde_json::Value {
    // Generous: an agent run on the real test model writes at ~95 tokens/s on idle cores, but
    // below 1 token/s when other builds load the machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let shown = cli.run(&["run", "show", run, "--json"]).await;
        let first = shown.stdout.lines().next().unwrap_or_default();
        let json = serde_json::from_str::<serde_json::Value>(&shown.stdout)
            .or_else(|_| serde_json::from_str::<serde_json::Value>(first))
            .unwrap_or_default();
        if json["status"] == status {
            return json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{run} never became {status}; it is {json}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until `file` has at least `n` lines; returns them.
pub async fn wait_for_lines(file: &Path, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} has {} lines, not {n}",
            file.display(),
            lines.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether process `pid` still exists and is not a zombie (this machine's PID 1 does not reap,
/// so a killed orphan may linger as one).
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Waits (bounded) until no pid listed in `file` is alive.
pub async fn wait_dead(file: &Path) {
    let pids: Vec<u32> = std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(!pids.is_empty(), "no pids in {}", file.display());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|p| pid_alive(*p)).collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "processes of the job outlived it: {alive:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
