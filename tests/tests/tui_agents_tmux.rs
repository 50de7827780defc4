//! Agents (issue 9) in the real full-screen `warren`, driven through tmux against a real server,
//! a real `warren worker` that runs agent runs, and the fake provider
//! (`tests/src/fake_provider.rs`) scripted per test. Covered: an `@agent` mention typed in one
//! client streams into the room of another user's client (in progress, growing, then the stored
//! reply once, with its run line) and `enter` on it opens the run's steps; the inline approval
//! prompt ignores a key sent the instant it appears (and says so), takes one after its guard,
//! and a rejection's typed reason reaches the model; `esc` in the run view interrupts a streaming
//! turn (the run is cancelled, the partial text kept and marked); the Stats tab at 80x24 on a
//! 16-colour terminal draws its chart within the screen with the numbers of `warren stats`.
//!
//! Needs tmux (these tests fail, not skip, without it; `.ci/run` installs it).

#[path = "support/real_runs.rs"]
mod real_runs;

use std::path::Path;
use std::time::Duration;

use real_runs::{Setup, Worker, wait_status};
use warren_e2e::bins;
use warren_e2e::fake_provider::{Behaviour, End, FakeProvider};
use warren_e2e::tmux::Tmux;

/// The pane size of the chat and run tests.
const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

/// The provider key the worker reads from its environment.
const KEY: &str = "sk-fake-tui-agents-never-shown";

/// How long an approval prompt ignores keys (`client/src/tui/agents/guard.rs`).
const GUARD: Duration = Duration::from_millis(300);

/// A server, a worker that runs agents, the fake provider (`fake`, model `m1`, $1 per million
/// tokens in and $2 out) and one agent.
struct World {
    s: Setup,
    fake: FakeProvider,
    _worker: Worker,
}

/// Starts a [`World`] whose agent is `agent` added with `flags`, with the workspace's other
/// members `extra` (name, role) and their tokens.
async fn world(agent: &str, flags: &[&str], extra: &[(&str, &str)]) -> (World, Vec<String>) {
    let mut s = Setup::start(&[]).await;
    let mut tokens = Vec::new();
    if !extra.is_empty() {
        // `member add` writes the store, which the running server holds locked.
        s.server.kill_9().await;
        for (name, role) in extra {
            tokens.push(s.server.add_member(name, role).await);
        }
        s.server.restart_same_port().await;
    }
    let fake = FakeProvider::start()
        .await
        .expect("the fake provider starts");
    let worker = s.worker_with("agents", "linux", &[("FAKE_KEY", KEY)]).await;
    s.cli
        .run(&[
            "provider",
            "add",
            "fake",
            "--kind",
            "openai",
            "--base-url",
            &fake.openai_url(),
            "--key-env",
            "FAKE_KEY",
            "--model",
            "m1",
            "--price-in",
            "1",
            "--price-out",
            "2",
        ])
        .await
        .ok();
    let mut args = vec!["agent", "add", agent, "--provider", "fake", "--model", "m1"];
    args.extend_from_slice(flags);
    s.cli.run(&args).await.ok();
    let world = World {
        s,
        fake,
        _worker: worker,
    };
    (world, tokens)
}

/// The real `warren` in a `width`×`height` tmux pane as the holder of `token`, with `home` as
/// its config dir and `env` (`TERM=xterm`) set over the pane's terminal.
fn open_tui(s: &Setup, token: &str, home: &Path, size: (u16, u16), env: &[&str]) -> Tmux {
    let url = s.server.http_url();
    let cli = bins::cli_bin();
    let cli = cli.to_str().expect("a UTF-8 path to warren");
    // tmux sets the pane's TERM itself; `env` sets the terminal the test wants over it.
    let mut args = vec!["-u", "COLORTERM", "-u", "NO_COLOR"];
    args.extend_from_slice(env);
    args.extend_from_slice(&[cli, "--server", &url, "--token", token]);
    Tmux::start(
        Path::new("env"),
        &args,
        [("WARREN_CONFIG_DIR", home), ("HOME", home)],
        size.0,
        size.1,
    )
}

/// Opens the TUI in #general and asks @clerk (through the CLI) to make a card.
async fn ask_clerk_in_the_room(w: &World, home: &Path) -> Tmux {
    let tui = open_tui(&w.s, &w.s.server.token, home, (WIDTH, HEIGHT), &[]);
    tui.wait_for_text(&["● connected"]).await;
    tui.keys(&["2"]).await;
    tui.wait_for_text(&["#general", "press i to write"]).await;
    w.s.cli
        .run(&["chat", "send", "general", "@clerk make a card"])
        .await
        .ok();
    tui
}

/// How many times `needle` is on `screen`.
fn count(screen: &str, needle: &str) -> usize {
    screen.matches(needle).count()
}

/// Card titles on every board, through `warren card list --json`.
async fn card_titles(s: &Setup) -> Vec<String> {
    let cards = s.cli.run(&["card", "list", "--json"]).await.ok();
    cards
        .json_lines()
        .iter()
        .flat_map(|v| match v.as_array() {
            Some(all) => all.clone(),
            None => vec![v.clone()],
        })
        .filter_map(|c| c["title"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_typed_in_one_client_streams_into_anothers_room_and_opens_its_run() {
    let (w, tokens) = world("helper", &[], &[("bea", "member")]).await;
    // Two lines, a pause between the pieces: the reply is seen growing.
    w.fake.script(
        "m1",
        [Behaviour::tokens([
            "Once upon a time\n",
            "there was a ",
            "warren.\n",
            "The end.",
        ])
        .token_delay(Duration::from_millis(700))
        .usage(1_000, 500)],
    );
    let homes =
        [tempfile::tempdir(), tempfile::tempdir()].map(|d| d.expect("a config dir for a TUI"));
    let ada = open_tui(
        &w.s,
        &w.s.server.token,
        homes[0].path(),
        (WIDTH, HEIGHT),
        &[],
    );
    let bea = open_tui(&w.s, &tokens[0], homes[1].path(), (WIDTH, HEIGHT), &[]);
    for tui in [&ada, &bea] {
        tui.wait_for_text(&["● connected"]).await;
        tui.keys(&["2"]).await;
        tui.wait_for_text(&["#general", "press i to write"]).await;
    }

    ada.keys(&["i"]).await;
    ada.type_text("@helper tell me a story").await;
    ada.keys(&["Enter"]).await;

    // Bea sees the reply being written: marked in progress, its first line, then more.
    let first = bea
        .wait_for("the first streamed line, in progress", |s| {
            s.contains("writing…") && s.contains("Once upon a time")
        })
        .await;
    assert!(!first.contains("there was a warren."), "{first}");
    bea.wait_for("the second streamed line, still in progress", |s| {
        s.contains("writing…") && s.contains("there was a warren.")
    })
    .await;
    // Then the stored reply, once, in place of the entry in progress, with its run line.
    let done = bea
        .wait_for("the finished reply with its run line", |s| {
            !s.contains("writing…")
                && s.contains("The end.")
                && s.contains("✓ r1 succeeded · 1,500 tokens · $0.0020")
        })
        .await;
    for line in ["Once upon a time", "there was a warren.", "The end."] {
        assert_eq!(count(&done, line), 1, "{line:?} once:\n{done}");
    }
    wait_status(&w.s.cli, "r1", "succeeded").await;

    // The reply is the newest message: select it and open its run.
    bea.keys(&["k"]).await;
    bea.keys(&["Enter"]).await;
    let run = bea
        .wait_for_text(&["r1 @helper", "✓ succeeded", "model fake/m1 · 1,000→500 tok"])
        .await;
    assert!(run.contains("Once upon a time"), "the step's text:\n{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_ignores_a_key_sent_as_it_appears_then_approves_and_rejects_with_a_reason() {
    let (w, _) = world("clerk", &["--tools", "card.create"], &[]).await;
    w.fake.script(
        "m1",
        [
            Behaviour::tool_call("card_create", r#"{"title":"Card from the TUI"}"#),
            Behaviour::tokens(["Made it."]),
            Behaviour::tool_call("card_create", r#"{"title":"Not this one"}"#),
            Behaviour::tokens(["Understood."]),
        ],
    );
    let home = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = ask_clerk_in_the_room(&w, home.path()).await;

    // `y` the moment the prompt is on screen: too soon to be an answer, and the client says so.
    tui.wait_for_text(&["@clerk asks to run card.create", "y approve once"])
        .await;
    tui.keys(&["y"]).await;
    tui.wait_for_text(&["too soon"]).await;
    wait_status(&w.s.cli, "r1", "awaiting_approval").await;
    assert!(
        !card_titles(&w.s)
            .await
            .contains(&"Card from the TUI".to_owned()),
        "an early key created the card"
    );
    // The guard is a length of time: let it pass (nothing else is awaited here).
    tokio::time::sleep(GUARD).await;
    tui.keys(&["y"]).await;
    wait_status(&w.s.cli, "r1", "succeeded").await;
    assert!(
        card_titles(&w.s)
            .await
            .contains(&"Card from the TUI".to_owned())
    );
    tui.wait_for("the reply, and no prompt left", |s| {
        s.contains("Made it.") && !s.contains("asks to run")
    })
    .await;

    // A second call, rejected with a reason that the model reads.
    w.s.cli
        .run(&["chat", "send", "general", "@clerk one more"])
        .await
        .ok();
    tui.wait_for_text(&["@clerk asks to run card.create", "Not this one"])
        .await;
    tokio::time::sleep(GUARD).await;
    tui.keys(&["n"]).await;
    tui.wait_for_text(&["Reject card.create: why?"]).await;
    tui.type_text("we have that card already").await;
    tui.keys(&["Enter"]).await;
    wait_status(&w.s.cli, "r2", "succeeded").await;
    tui.wait_for_text(&["Understood."]).await;
    let titles = card_titles(&w.s).await;
    assert!(!titles.contains(&"Not this one".to_owned()), "{titles:?}");
    let calls = w.fake.requests_for("m1");
    assert_eq!(calls.len(), 4, "two calls per run");
    let last = calls[3].body.to_string();
    assert!(
        last.contains("we have that card already"),
        "the reason went back to the model as the tool's result: {last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_makes_a_grant_that_the_grants_window_lists_and_revokes() {
    let (w, _) = world("clerk", &["--tools", "card.create"], &[]).await;
    w.fake.script(
        "m1",
        [
            Behaviour::tool_call("card_create", r#"{"title":"Always card"}"#),
            Behaviour::tokens(["Made it."]),
        ],
    );
    let home = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = ask_clerk_in_the_room(&w, home.path()).await;
    tui.wait_for_text(&["@clerk asks to run card.create"]).await;
    tokio::time::sleep(GUARD).await;
    tui.keys(&["a"]).await;
    wait_status(&w.s.cli, "r1", "succeeded").await;

    // The grant, in the window the Stats tab opens (the real `approvals` query).
    tui.keys(&["4"]).await;
    tui.keys(&["g"]).await;
    tui.wait_for_text(&[
        "Tools agents may call without asking",
        "clerk may card.create",
    ])
    .await;
    tui.keys(&["d"]).await;
    tui.wait_for_text(&["Revoke clerk's standing approval of card.create?"])
        .await;
    tui.keys(&["y"]).await;
    // The window opens again and asks again: the grant is gone there and on the server.
    tui.wait_for_text(&["every tool call that needs approval asks"])
        .await;
    let listed = w.s.cli.run(&["approvals", "list", "--json"]).await.ok();
    assert!(
        !listed.stdout.contains("grant_"),
        "the grant was revoked: {listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_in_the_run_view_interrupts_a_streaming_turn_and_keeps_its_text() {
    let (w, _) = world("talker", &[], &[]).await;
    // Three lines, then the stream stays open: only an interrupt ends this turn. The third is
    // 120 wide characters (240 columns): it takes three rows of the view, all of it visible.
    let wide = format!("{}\n", "漢字".repeat(60));
    let streamed = format!("First line of the answer\nsecond line\n{wide}");
    w.fake.script(
        "m1",
        [
            Behaviour::tokens(["First line of the answer\n", "second line\n", wide.as_str()])
                .token_delay(Duration::from_millis(100))
                .end(End::Stall),
        ],
    );
    let home = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = open_tui(&w.s, &w.s.server.token, home.path(), (WIDTH, HEIGHT), &[]);
    tui.wait_for_text(&["● connected"]).await;
    w.s.cli
        .run(&["agent", "ask", "talker", "talk to me", "--room", "general"])
        .await
        .ok();
    wait_status(&w.s.cli, "r1", "running").await;
    tui.keys(&["3"]).await;
    tui.wait_for_text(&["r1", "talker"]).await;
    tui.keys(&["Enter"]).await;
    tui.wait_for_text(&[
        "r1 @talker",
        "streaming",
        "First line of the answer",
        "second line",
    ])
    .await;
    // Rows are cut by display width: none is wider than the view, so no character is clipped.
    tui.wait_for("every wide character of the third line", |s| {
        count(s, "漢") == 60 && count(s, "字") == 60
    })
    .await;
    tui.keys(&["Escape"]).await;
    let cancelled = wait_status(&w.s.cli, "r1", "cancelled").await;
    let screen = tui
        .wait_for("the cancelled run with its text kept", |s| {
            s.contains("cancelled") && !s.contains("streaming")
        })
        .await;
    assert!(
        screen.contains("First line of the answer") && screen.contains("second line"),
        "{screen}"
    );
    assert!(
        screen.contains("(interrupted: the text so far is kept)"),
        "the kept text is marked:\n{screen}"
    );
    // The stored step: its text so far, marked partial.
    let show = w.s.cli.run(&["run", "show", "r1", "--json"]).await.ok();
    let step = show
        .json_lines()
        .into_iter()
        .find(|l| l["detail"]["kind"] == "model_call")
        .unwrap_or_else(|| panic!("a model call step: {}\n{cancelled}", show.stdout));
    assert_eq!(step["detail"]["partial"], true, "{step}");
    assert_eq!(step["detail"]["text"], streamed, "{step}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_at_80x24_on_a_16_colour_terminal_draws_the_numbers_of_warren_stats() {
    let (w, _) = world("helper", &[], &[]).await;
    w.fake
        .always("m1", Behaviour::tokens(["Fine."]).usage(1_000, 500));
    for (n, question) in [("r1", "one"), ("r2", "two")] {
        w.s.cli
            .run(&["agent", "ask", "helper", question])
            .await
            .ok();
        wait_status(&w.s.cli, n, "succeeded").await;
    }
    w.s.cli
        .run(&["budget", "set", "--agent", "helper", "1usd/month"])
        .await
        .ok();
    let stats = w.s.cli.run(&["stats", "--json"]).await.ok().json_lines();
    let total = stats
        .iter()
        .find(|r| r["key"] == "total")
        .unwrap_or_else(|| panic!("a total row: {stats:?}"));
    let tokens = total["input_tokens"].as_u64().unwrap_or_default()
        + total["output_tokens"].as_u64().unwrap_or_default();
    assert_eq!(
        (tokens, total["calls"].as_u64()),
        (3_000, Some(2)),
        "{stats:?}"
    );
    let head = format!(
        "Agents, last 30 days: {} tokens · {} · {} calls",
        "3,000",
        warren_protocol::agent::format_usd(total["cost"].as_u64().unwrap_or_default()),
        2
    );

    let home = tempfile::tempdir().expect("a config dir for the TUI");
    let tui = open_tui(
        &w.s,
        &w.s.server.token,
        home.path(),
        (80, 24),
        &["TERM=xterm"],
    );
    tui.wait_for_text(&["● connected", "Stats"]).await;
    tui.keys(&["4"]).await;
    let screen = tui
        .wait_for_text(&[
            head.as_str(),
            "cost per day",
            "By agent",
            "By provider",
            "@helper",
        ])
        .await;
    let rows: Vec<&str> = screen.lines().collect();
    assert_eq!(rows.len(), 24, "{screen}");
    // The chart has a bar (today's) inside its border.
    assert!(
        rows.iter().any(|r| r.contains('█') || r.contains('▇')),
        "no bar in the chart:\n{screen}"
    );
    // The budget: spent against limit, on the screen.
    assert!(screen.contains("$0.0040"), "{screen}");
    assert!(screen.contains("$1.00"), "the budget's limit:\n{screen}");
    assert!(
        !screen.contains('\u{fffd}'),
        "a broken character:\n{screen}"
    );
    // Nothing but the 16 colours on TERM=xterm (tmux writes them as palette indices 0–15).
    let styled = tui.styled_screen().await;
    let extended = extended_colours(&styled);
    assert!(
        extended.is_empty(),
        "256-colour or 24-bit codes {extended:?} on TERM=xterm:\n{styled:?}"
    );
}

/// The SGR colours on a `capture-pane -e` screen that a 16-colour terminal lacks: `38;5;N` or
/// `48;5;N` with N of 16 or more, and every `38;2;…`/`48;2;…`.
fn extended_colours(styled: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seq in styled.split('\u{1b}').filter_map(|s| s.strip_prefix('[')) {
        let Some((params, _)) = seq.split_once('m') else {
            continue;
        };
        let params: Vec<&str> = params.split(';').collect();
        let mut i = 0;
        while i < params.len() {
            if matches!(params[i], "38" | "48") {
                match params.get(i + 1).copied() {
                    Some("5") => {
                        let index: u16 =
                            params.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(0);
                        if index >= 16 {
                            out.push(params[i..i + 3].join(";"));
                        }
                        i += 3;
                        continue;
                    }
                    Some("2") => {
                        out.push(params[i..].join(";"));
                        break;
                    }
                    _ => {}
                }
            }
            i += 1;
        }
    }
    out
}
