//! The Runs tab of the real `warren` in tmux, against a real server and a real worker: a live
//! job's log is followed on screen as it runs (and searched as you type), and a job that prints hostile escape sequences
//! (a window title, clear screen, cursor moves) changes nothing but colours: the pane's title
//! (set only by OSC sequences) stays what it was — the oracle that no escape got through.
//!
//! Needs tmux (these tests fail, not skip, without it; `.ci/run` installs it).

#[path = "support/real_runs.rs"]
mod real_runs;

use real_runs::{Setup, wait_status};
use warren_e2e::bins;
use warren_e2e::tmux::Tmux;

const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

fn open_tui(s: &Setup, home: &std::path::Path) -> Tmux {
    let url = s.server.http_url();
    Tmux::start(
        &bins::cli_bin(),
        &["--server", &url, "--token", &s.server.token],
        [("WARREN_CONFIG_DIR", home), ("HOME", home)],
        WIDTH,
        HEIGHT,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_job_is_followed_and_hostile_escapes_never_reach_the_terminal() {
    let s = Setup::start(&[]).await;
    let _worker = s.worker("builder", "linux").await;
    s.cli
        .run(&[
            "job",
            "add",
            "hostile",
            "--command",
            "printf '\\033]2;pwned-title\\007'; printf '\\033]0;pwned-too\\007'; \
             printf 'visible \\033[31mred\\033[0m line\\033[2J\\033[H\\n'; \
             i=1; while [ $i -le 40 ]; do echo \"tick $i\"; sleep 0.15; i=$((i+1)); done",
        ])
        .await
        .ok();
    let home = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = open_tui(&s, home.path());
    tui.wait_for_text(&["● connected"]).await;
    let title_before = tui.pane_title().await;
    tui.keys(&["3"]).await;
    tui.wait_for_text(&["No runs yet"]).await;
    s.cli.run(&["job", "run", "hostile"]).await.ok();
    wait_status(&s.cli, "r1", "running").await;
    tui.wait_for_text(&["r1", "hostile"]).await;
    tui.keys(&["Enter"]).await;
    // The log follows the running job: early ticks, then later ones without a key press.
    tui.wait_for_text(&["visible red line", "tick 3"]).await;
    // The colour did get through, as colour: a style change between "visible " and "red".
    let styled = tui.styled_screen().await;
    let coloured = styled.lines().any(|row| {
        row.split_once("visible ")
            .and_then(|(_, rest)| rest.split_once("red"))
            .is_some_and(|(between, _)| between.contains('\u{1b}'))
    });
    assert!(coloured, "{styled:?}");
    tui.wait_for_text(&["tick 25"]).await;
    let screen = tui.wait_for_text(&["tick 40"]).await;
    assert!(screen.contains("FOLLOW"), "{screen}");
    wait_status(&s.cli, "r1", "succeeded").await;
    tui.wait_for_text(&["✓ succeeded"]).await;
    // The search moves as it is typed; its letters are text (q does not close the run).
    tui.type_text("/qz").await;
    tui.wait_for_text(&["/qz▏", "no match"]).await;
    tui.keys(&["BSpace", "BSpace"]).await;
    tui.type_text("tick 3").await;
    // tick 3 and tick 30..=39; the view moves to the first below where it was.
    tui.wait_for_text(&["/tick 3▏  match ", " of 11"]).await;
    tui.keys(&["Escape"]).await;
    let screen = tui.wait_for_text(&["FOLLOW"]).await;
    assert!(
        screen.contains("tick 40"),
        "esc goes back to the tail: {screen}"
    );
    let title = tui.pane_title().await;
    assert!(
        !title.contains("pwned"),
        "an OSC title sequence from the job reached the terminal: {title:?} (was {title_before:?})"
    );
}
