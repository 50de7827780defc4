//! The real full-screen `warren` client, driven through tmux: keys in with `send-keys`, the
//! screen out with `capture-pane`. Against a real server it creates a card and sends a chat
//! message from the keyboard (checked on screen and through the CLI), follows a card another
//! client adds without a key press, and quits promptly with status 0. `warren demo` shows its
//! seeded board and `#general` conversation and removes its data directory on quit. A change
//! made while the server is down shows at once as pending and reaches the server once it returns.
//! A multi-line paste (bracketed, as a terminal sends it) becomes one message. A change waiting
//! when the user quits is kept (after a question) and sent by the next run, exactly once. A room
//! is created from the keyboard, and another is reached by typing part of its name.
//!
//! Needs tmux (these tests fail, not skip, without it; `.ci/run` installs it).

use std::time::Duration;

use warren_e2e::Server;
use warren_e2e::bins;
use warren_e2e::cli::Cli;
use warren_e2e::tmux::{Exit, Tmux};

/// The pane size: three board columns are visible at this width.
const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

/// Quitting closes the WebSocket and restores the terminal, a few milliseconds of work. A quit
/// that takes 2 s means the network task waited out a timeout (a bug this test found once).
const QUIT_WITHIN: Duration = Duration::from_millis(1900);

/// Whether `text` is in the room's history: on a row above the message box, not in the draft.
fn in_history(screen: &str, text: &str) -> bool {
    screen
        .lines()
        .take_while(|row| !row.contains("┌ Message"))
        .any(|row| row.contains(text))
}

/// The titles of every card on the server, through `warren card list --json`.
async fn card_titles(cli: &Cli) -> Vec<String> {
    let cards = cli.run(&["card", "list", "--json"]).await.ok().json();
    cards
        .as_array()
        .expect("card list --json is an array")
        .iter()
        .filter_map(|c| c["title"].as_str().map(str::to_owned))
        .collect()
}

/// The real `warren` in a tmux pane against `server`, with a private config dir (kept alive by
/// the returned guard).
fn open_tui(server: &Server) -> (Tmux, tempfile::TempDir) {
    let config = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = open_tui_in(server, config.path());
    (tui, config)
}

/// The real `warren` against `server` with `home` as its config dir and home (where its data
/// dir, and so its saved outbox, lives).
fn open_tui_in(server: &Server, home: &std::path::Path) -> Tmux {
    let url = server.http_url();
    Tmux::start(
        &bins::cli_bin(),
        &["--server", &url, "--token", &server.token],
        [("WARREN_CONFIG_DIR", home), ("HOME", home)],
        WIDTH,
        HEIGHT,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_edits_board_and_chat_and_follows_other_clients_live() {
    let server = Server::start().await;
    let url = server.http_url();
    let cli = Cli::new(&url, &server.token);
    let (tui, _config) = open_tui(&server);
    // Keys sent before the client is up could reach a terminal not yet in raw mode.
    tui.wait_for_text(&["Backlog", "● connected", "Acme · ada"])
        .await;

    // A card from the keyboard. Its number comes from the server ("#…" while pending), so
    // "#1" on screen means the server's event came back.
    tui.keys(&["n"]).await;
    tui.wait_for_text(&["New card"]).await;
    tui.type_text("Title from tmux").await;
    tui.keys(&["C-s"]).await;
    tui.wait_for("the saved card, numbered by the server", |s| {
        s.contains("#1 Title from tmux") && !s.contains("New card")
    })
    .await;
    assert_eq!(card_titles(&cli).await, ["Title from tmux"]);

    // Another client's card appears with no key press.
    cli.run(&["card", "add", "Added by CLI"]).await.ok();
    tui.wait_for_text(&["#2 Added by CLI"]).await;

    // A chat message: shown in the history once the server has it (not "sending…").
    tui.keys(&["2"]).await;
    tui.wait_for_text(&["Rooms", "#general"]).await;
    tui.keys(&["i"]).await;
    tui.type_text("Hello from tmux").await;
    tui.keys(&["Enter"]).await;
    tui.wait_for("the sent message in the history", |s| {
        in_history(s, "Hello from tmux") && !s.contains("sending…")
    })
    .await;
    let tail = cli.run(&["chat", "tail", "general", "--json"]).await.ok();
    let bodies: Vec<String> = tail
        .json_lines()
        .iter()
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(bodies, ["Hello from tmux"], "{tail:#?}");

    // Leave the message box (else `q` is typed), see it closed, then quit. No key follows the
    // Esc until the screen shows it was read, so it cannot combine into alt-q.
    tui.keys(&["Escape"]).await;
    tui.wait_for_text(&["press i to write"]).await;
    tui.keys(&["q"]).await;
    let (exit, took) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0), "warren should exit with status 0");
    assert!(
        took < QUIT_WITHIN,
        "quitting took {took:?}; the client should exit at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shows_the_seeded_workspace_and_removes_its_data_on_quit() {
    let config = tempfile::tempdir().expect("a config dir for the TUI");
    // The demo keeps its data in $TMPDIR/warren-demo-<pid>; a private TMPDIR keeps it here.
    let tmp = tempfile::tempdir().expect("a TMPDIR for the demo");
    let tui = Tmux::start(
        &bins::cli_bin(),
        &["demo"],
        [
            ("WARREN_CONFIG_DIR", config.path()),
            ("HOME", config.path()),
            ("TMPDIR", tmp.path()),
        ],
        WIDTH,
        HEIGHT,
    );
    // Sample cards from client/src/tui/demo.rs.
    tui.wait_for_text(&[
        "Demo workspace",
        "● connected",
        "Rate-limit login attempts",
        "Export a board as markdown",
    ])
    .await;
    let pid = tui.pane_pid().await;
    let data = tmp.path().join(format!("warren-demo-{pid}"));
    assert!(
        data.is_dir(),
        "the demo's data dir {} is missing while it runs",
        data.display()
    );

    tui.keys(&["2"]).await;
    tui.wait_for_text(&[
        "#general",
        "#design",
        "nice. I'm on the login rate limit today, PR by noon",
        "build #412 passed",
    ])
    .await;

    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0), "warren demo should exit with status 0");
    assert!(
        !data.exists(),
        "warren demo left its data dir {} behind",
        data.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_the_server_is_down_are_sent_after_it_returns() {
    let mut server = Server::start().await;
    let url = server.http_url();
    let (tui, _config) = open_tui(&server);
    tui.wait_for_text(&["Backlog", "● connected"]).await;

    // The server dies; the client says so and keeps working on its local state.
    server.kill_9().await;
    tui.wait_for("the reconnecting state", |s| s.contains("◌ reconnecting"))
        .await;
    tui.keys(&["n"]).await;
    tui.wait_for_text(&["New card"]).await;
    tui.type_text("Written offline").await;
    tui.keys(&["C-s"]).await;
    // Shown at once, marked pending ("#…": no number from the server yet), and counted.
    tui.wait_for_text(&["#… Written offline", "1 change waiting to be sent"])
        .await;

    // The server comes back on the same address: the client reconnects by itself, resumes,
    // and sends the queued change, which the server numbers.
    server.restart_same_port().await;
    tui.wait_for("the queued card confirmed by the server", |s| {
        s.contains("#1 Written offline") && s.contains("● connected") && !s.contains("waiting")
    })
    .await;
    let titles = card_titles(&Cli::new(&url, &server.token)).await;
    assert_eq!(titles, ["Written offline"], "applied exactly once");
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_line_paste_is_one_message() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let (tui, _config) = open_tui(&server);
    tui.wait_for_text(&["Backlog", "● connected"]).await;
    tui.keys(&["2"]).await;
    tui.wait_for_text(&["Rooms", "#general", "press i to write"])
        .await;
    tui.keys(&["i"]).await;
    tui.wait_for("the message box open", |s| !s.contains("press i to write"))
        .await;
    // Lines that would each be sent on their own if they arrived as key presses (and a `q`).
    tui.paste("first line\nq\nthird line").await;
    tui.wait_for("the pasted lines in the message box", |s| {
        s.contains("first line") && s.contains("third line")
    })
    .await;
    tui.keys(&["Enter"]).await;
    tui.wait_for("the pasted message in the history", |s| {
        in_history(s, "third line") && !s.contains("sending…")
    })
    .await;
    let tail = cli.run(&["chat", "tail", "general", "--json"]).await.ok();
    let bodies: Vec<String> = tail
        .json_lines()
        .iter()
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(bodies, ["first line\nq\nthird line"], "{tail:#?}");
    tui.keys(&["Escape"]).await;
    tui.wait_for_text(&["press i to write"]).await;
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_waiting_at_quit_is_sent_by_the_next_run() {
    let mut server = Server::start().await;
    let url = server.http_url();
    let home = tempfile::tempdir().expect("a home for the TUI");
    let tui = open_tui_in(&server, home.path());
    tui.wait_for_text(&["Backlog", "● connected"]).await;
    server.kill_9().await;
    tui.wait_for("the reconnecting state", |s| s.contains("◌ reconnecting"))
        .await;
    tui.keys(&["n"]).await;
    tui.wait_for_text(&["New card"]).await;
    tui.type_text("Kept across runs").await;
    tui.keys(&["C-s"]).await;
    tui.wait_for_text(&["#… Kept across runs"]).await;

    // q asks, saying the change is kept; yes quits.
    tui.keys(&["q"]).await;
    tui.wait_for_text(&["1 change not sent yet; it is kept and sent when"])
        .await;
    tui.keys(&["y"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
    drop(tui);

    // The server returns; a new warren sends what the last one kept, once.
    server.restart_same_port().await;
    let tui = open_tui_in(&server, home.path());
    tui.wait_for("the kept card confirmed by the server", |s| {
        s.contains("#1 Kept across runs") && s.contains("● connected") && !s.contains("waiting")
    })
    .await;
    let titles = card_titles(&Cli::new(&url, &server.token)).await;
    assert_eq!(titles, ["Kept across runs"], "applied exactly once");
    // Nothing is left to send: quitting does not ask.
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_is_created_and_another_reached_by_name() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let (tui, _config) = open_tui(&server);
    tui.wait_for_text(&["Backlog", "● connected"]).await;
    tui.keys(&["2"]).await;
    tui.wait_for_text(&["Rooms", "#general"]).await;
    tui.keys(&["n"]).await;
    tui.wait_for_text(&["New room"]).await;
    tui.type_text("ops").await;
    tui.keys(&["Enter"]).await;
    // Created, and shown: the room header names it.
    tui.wait_for("the new room open", |s| {
        s.lines()
            .nth(1)
            .is_some_and(|header| header.contains("#ops"))
    })
    .await;
    let rooms = cli.run(&["room", "list"]).await.ok();
    assert!(rooms.stdout.contains("ops"), "{rooms:#?}");
    // Jump back by part of the name.
    tui.keys(&["C-k"]).await;
    tui.wait_for_text(&["Jump to a room"]).await;
    tui.type_text("gen").await;
    tui.keys(&["Enter"]).await;
    tui.wait_for("#general open", |s| {
        !s.contains("Jump to a room") && s.lines().nth(1).is_some_and(|h| h.contains("#general"))
    })
    .await;
    tui.keys(&["q"]).await;
    let (exit, _) = tui.wait_exit().await;
    assert_eq!(exit, Exit::Code(0));
}
