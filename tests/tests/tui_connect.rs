//! The real full-screen `warren` before it has a workspace: a token the server refuses stops at a
//! screen with the command that fixes it, and an unreachable server shows where warren is
//! connecting, why it fails and when it tries again — never "Loading the workspace…" forever.
//!
//! Needs tmux (these tests fail, not skip, without it; `.ci/run` installs it).

use warren_e2e::Server;
use warren_e2e::bins;
use warren_e2e::tmux::{Exit, Tmux};

const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

fn open_tui(url: &str, token: &str) -> (Tmux, tempfile::TempDir) {
    let config = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = Tmux::start(
        &bins::cli_bin(),
        &["--server", url, "--token", token],
        [
            ("WARREN_CONFIG_DIR", config.path()),
            ("HOME", config.path()),
        ],
        WIDTH,
        HEIGHT,
    );
    (tui, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_shows_the_login_command() {
    let server = Server::start().await;
    let url = server.http_url();
    let wrong = "wrn_aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let (tui, _config) = open_tui(&url, wrong);
    let screen = tui
        .wait_for_text(&[
            "The server refused your token",
            &format!("warren login --server {url} --token"),
            "token refused",
        ])
        .await;
    assert!(!screen.contains("Loading the workspace"), "{screen}");
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_says_where_why_and_when_it_retries() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (tui, _config) = open_tui(&url, "wrn_aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    let screen = tui
        .wait_for_text(&[
            "Cannot reach the warren server",
            &url,
            "connection refused",
            "trying again in",
        ])
        .await;
    assert!(!screen.contains("Loading the workspace"), "{screen}");
    tui.keys(&["2"]).await;
    let screen = tui.wait_for_text(&["Cannot reach the warren server"]).await;
    assert!(!screen.contains("No rooms yet"), "{screen}");
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}
