//! Driving a real full-screen program inside a private tmux server: keys go in with
//! `send-keys`, the screen comes out as text with `capture-pane -p`.
//!
//! Each [`Tmux`] runs its own tmux server on a socket inside its own temporary directory
//! (`-S`, not `-L`: a `-L` name lives in the user's shared tmux socket directory, where a name
//! can collide with a stale server; a path in a fresh temp dir cannot), started with its own
//! config file (`-f`), so the user's tmux and `~/.tmux.conf` are never touched and tests run in
//! parallel. The program is the session's command itself (no shell in between), so
//! `#{pane_pid}` is its pid. `remain-on-exit` keeps the pane after the program exits, so a test
//! can read its exit status. Dropping the [`Tmux`] kills the server, also when a test panics.
//!
//! tmux (3.0 or newer) is required: without it [`Tmux::start`] panics saying how to install it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::Command;
use tokio::time::Instant;

/// How long [`Tmux::wait_for`] and [`Tmux::wait_exit`] wait, generous for a loaded machine.
pub const WAIT: Duration = Duration::from_secs(15);
/// How often the screen is captured while waiting.
const POLL: Duration = Duration::from_millis(50);
/// The one session (and its one pane) each server runs.
const SESSION: &str = "warren";

/// `tmux.conf` for the private server: the pane is the whole window (no status line), panes
/// see `TERM=xterm-256color`, a lone Esc is passed on at once, and a pane whose program has
/// exited stays (dead) so its exit status can be read.
const CONFIG: &str = "\
set -g remain-on-exit on
set -g status off
set -g default-terminal xterm-256color
set -g escape-time 0
";

/// Environment variables of the test process that must not reach the program.
const SCRUBBED: &[&str] = &[
    "TMUX",
    "TMUX_PANE",
    "WARREN_SERVER",
    "WARREN_TOKEN",
    "WARREN_WORKSPACE",
    "WARREN_CONFIG_DIR",
    "NO_COLOR",
];

/// A private tmux server running one program in a fixed-size pane.
pub struct Tmux {
    dir: TempDir,
}

/// Fails the test with a clear message when tmux is missing (never skips silently).
fn require_tmux() {
    match StdCommand::new("tmux").arg("-V").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`tmux -V` failed ({}): {}; the TUI end-to-end tests drive the real client through \
             tmux",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!(
            "tmux is not installed ({e}): the TUI end-to-end tests drive the real `warren` \
             client through tmux. Install it (`sudo apt-get install tmux`, `brew install tmux`); \
             .ci/run installs it itself"
        ),
    }
}

impl Tmux {
    /// Starts `program ARGS…` in a `width`×`height` pane, with `env` added to a scrubbed copy of
    /// this process's environment (without `TMUX` and the `WARREN_*` variables).
    pub fn start<K, V>(
        program: &Path,
        args: &[&str],
        env: impl IntoIterator<Item = (K, V)>,
        width: u16,
        height: u16,
    ) -> Tmux
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        require_tmux();
        let dir = tempfile::tempdir().expect("a temp dir for the tmux socket and config");
        std::fs::write(dir.path().join("tmux.conf"), CONFIG).expect("write tmux.conf");
        let tmux = Tmux { dir };
        let mut command = tmux.std_command();
        command
            .args(["new-session", "-d", "-s", SESSION])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg("--")
            .arg(program)
            .args(args);
        // The server starts with this command's environment, and the pane inherits it.
        for name in SCRUBBED {
            command.env_remove(name);
        }
        command.envs(env);
        let out = command.output().expect("run tmux new-session");
        assert!(
            out.status.success(),
            "tmux new-session failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("tmux.sock")
    }

    fn std_command(&self) -> StdCommand {
        let mut command = StdCommand::new("tmux");
        command
            .arg("-S")
            .arg(self.socket())
            .arg("-f")
            .arg(self.dir.path().join("tmux.conf"))
            .stdin(Stdio::null());
        command
    }

    /// Runs `tmux ARGS…` against this server and returns its stdout; panics if it fails.
    async fn run(&self, args: &[&str]) -> String {
        let mut command = Command::from(self.std_command());
        let out = command.args(args).output().await.expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's title, as the program (or an escape sequence it let through) set it.
    pub async fn pane_title(&self) -> String {
        self.run(&["display-message", "-p", "-t", SESSION, "#{pane_title}"])
            .await
            .trim_end()
            .to_owned()
    }

    /// The visible screen as text, one line per row.
    pub async fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", SESSION]).await
    }

    /// The visible screen with its colours and attributes as SGR escape sequences
    /// (`capture-pane -e`).
    pub async fn styled_screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", SESSION]).await
    }

    /// Sends key names (`n`, `C-s`, `Enter`, `Escape`…), each a key press.
    pub async fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args).await;
    }

    /// Types `text` literally, one key press per character.
    pub async fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", text]).await;
    }

    /// Pastes `text` the way a terminal does: `paste-buffer -p` wraps it in bracketed-paste
    /// markers when the program asked for them (and sends plain keys when it did not), with
    /// line breaks as CR.
    pub async fn paste(&self, text: &str) {
        self.run(&["set-buffer", "-b", "warren-paste", "--", text])
            .await;
        self.run(&[
            "paste-buffer",
            "-p",
            "-d",
            "-b",
            "warren-paste",
            "-t",
            SESSION,
        ])
        .await;
    }

    /// Polls the screen until `ready` holds and returns that screen; panics after [`WAIT`],
    /// naming `what` and showing the last screen.
    pub async fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen().await;
            if ready(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                let status = self.pane_status().await;
                panic!(
                    "timed out after {WAIT:?} waiting for {what} (pane: {status}); screen:\n{screen}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until every one of `texts` is on screen.
    pub async fn wait_for_text(&self, texts: &[&str]) -> String {
        self.wait_for(&format!("{texts:?} on screen"), |s| {
            texts.iter().all(|t| s.contains(t))
        })
        .await
    }

    async fn pane_status(&self) -> String {
        self.run(&[
            "display-message",
            "-p",
            "-t",
            SESSION,
            "pid #{pane_pid} dead #{pane_dead} status #{pane_dead_status} signal #{pane_dead_signal}",
        ])
        .await
        .trim()
        .to_owned()
    }

    /// The pid of the program (the session's command, run without a shell).
    pub async fn pane_pid(&self) -> u32 {
        let out = self
            .run(&["display-message", "-p", "-t", SESSION, "#{pane_pid}"])
            .await;
        out.trim()
            .parse()
            .unwrap_or_else(|e| panic!("pane_pid is not a number ({e}): {out:?}"))
    }

    /// How the program ended, `None` while it runs (or while tmux has not reaped it yet; see
    /// [`Tmux::wait_exit`]).
    pub async fn exit_status(&self) -> Option<Exit> {
        let out = self
            .run(&[
                "display-message",
                "-p",
                "-t",
                SESSION,
                "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}",
            ])
            .await;
        let mut fields = out.trim().split(':');
        let (dead, code, signal) = (fields.next(), fields.next(), fields.next());
        if dead != Some("1") {
            return None;
        }
        if let Some(code) = code.and_then(|c| c.parse().ok()) {
            return Some(Exit::Code(code));
        }
        match signal.and_then(|s| s.parse().ok()).map(Exit::Signal) {
            Some(exit) => Some(exit),
            None => {
                self.nudge_reaper().await;
                None
            }
        }
    }

    /// The pane is dead (its terminal closed) but tmux has no exit status: it missed the
    /// SIGCHLD. A tmux built with libutempter (Debian's and Ubuntu's are) runs a utempter helper
    /// when a pane's terminal closes, with utempter's own SIGCHLD handler in place; a program
    /// that exits at that moment stays a zombie that tmux never reaps
    /// (<https://github.com/tmux/tmux/issues/311>, #4559). A SIGCHLD sent to this tmux server
    /// (by its pid) makes it reap every exited child.
    async fn nudge_reaper(&self) {
        let out = self.run(&["display-message", "-p", "#{pid}"]).await;
        let pid = out.trim();
        let status = Command::new("kill")
            .args(["-s", "CHLD", pid])
            .status()
            .await
            .expect("run kill -s CHLD");
        assert!(status.success(), "kill -s CHLD {pid} failed: {status}");
    }

    /// Waits (bounded by [`WAIT`]) for the program to exit; returns how it ended and how long
    /// that took.
    pub async fn wait_exit(&self) -> (Exit, Duration) {
        let start = Instant::now();
        loop {
            if let Some(exit) = self.exit_status().await {
                return (exit, start.elapsed());
            }
            if start.elapsed() >= WAIT {
                let status = self.pane_status().await;
                let screen = self.screen().await;
                let pid = self.pane_pid().await;
                let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .map(|s| {
                        let wanted = ["Name:", "State:", "PPid:"];
                        let lines = s
                            .lines()
                            .filter(|l| wanted.iter().any(|w| l.starts_with(w)));
                        lines.collect::<Vec<_>>().join("; ")
                    })
                    .unwrap_or_else(|e| format!("no /proc entry: {e}"));
                panic!(
                    "the program did not exit within {WAIT:?} (pane: {status}; process: \
                     {proc_status}); screen:\n{screen}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// How the program in the pane ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Drop for Tmux {
    /// Kills the tmux server (and with it the program) before the temp dir goes.
    fn drop(&mut self) {
        let _ = self
            .std_command()
            .arg("kill-server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
