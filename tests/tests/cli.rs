//! The `warren` CLI against a real server: login and the profile, every subcommand in text and
//! JSON, exit codes, and the `--follow` modes fed by another CLI process.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use warren_e2e::Server;
use warren_e2e::cli::{Cli, Output};

/// Reads lines from a `--follow` process until one satisfies `want`; returns every line read.
async fn read_until(
    lines: &mut Lines<BufReader<ChildStdout>>,
    what: &str,
    mut want: impl FnMut(&str) -> bool,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; saw {seen:#?}"))
            .expect("read the follower's stdout")
            .unwrap_or_else(|| panic!("the follower exited before {what}; saw {seen:#?}"));
        let done = want(&line);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

fn stdout_lines(child: &mut Child) -> Lines<BufReader<ChildStdout>> {
    BufReader::new(child.stdout.take().expect("stdout is piped")).lines()
}

/// A failure is exactly one line on stderr, starting with `error:`.
fn assert_one_line_error(output: &Output, code: i32) {
    assert_eq!(output.code, code, "{output:#?}");
    let lines: Vec<&str> = output.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {output:#?}");
    assert!(lines[0].starts_with("error: "), "{output:#?}");
    assert!(output.stdout.is_empty(), "nothing on stdout: {output:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_writes_a_private_profile_that_later_commands_use() {
    let server = Server::start().await;
    let cli = Cli::bare();
    let url = server.http_url();
    let out = cli
        .run(&["login", "--server", &url, "--token", &server.token])
        .await
        .ok();
    assert!(out.stdout.contains("ada"), "{out:#?}");
    let path = cli.config_file();
    let meta = std::fs::metadata(&path).expect("login wrote the profile");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "the profile is 0600"
        );
    }
    let profile = std::fs::read_to_string(&path).expect("read the profile");
    assert!(profile.contains(&server.token), "{profile}");

    // No --server / --token from here on.
    let out = cli.run(&["card", "add", "From the profile"]).await.ok();
    assert!(out.stdout.contains("From the profile"), "{out:#?}");
    let out = cli.run(&["card", "list", "--json"]).await.ok();
    let cards = out.json();
    assert_eq!(cards.as_array().map(Vec::len), Some(1), "{cards}");
    assert_eq!(cards[0]["title"], "From the profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_room_chat_board_and_events_commands_work_end_to_end() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);

    // card add with labels and a column, as JSON.
    let out = cli
        .run(&[
            "card",
            "add",
            "Fix login",
            "--label",
            "bug",
            "--label",
            "ui",
            "--column",
            "Todo",
            "--json",
        ])
        .await
        .ok();
    let card = out.json();
    assert_eq!(card["title"], "Fix login");
    assert_eq!(card["number"], 1);
    assert_eq!(card["labels"], serde_json::json!(["bug", "ui"]));
    let board = cli.run(&["board", "list", "--json"]).await.ok().json();
    let boards = board.as_array().expect("board list --json is an array");
    assert_eq!(boards.len(), 1);
    assert_eq!(boards[0]["name"], "Main");
    let columns = boards[0]["columns"].as_array().expect("columns");
    let column_id = |name: &str| {
        columns
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["id"].clone())
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    assert_eq!(card["column_id"], column_id("Todo"));

    // Text forms.
    let list = cli.run(&["card", "list"]).await.ok();
    assert!(list.stdout.contains("Fix login"), "{list:#?}");
    assert!(list.stdout.contains("Todo"), "{list:#?}");
    let show = cli.run(&["card", "show", "1"]).await.ok();
    assert!(show.stdout.contains("Fix login"), "{show:#?}");
    assert!(show.stdout.contains("bug"), "{show:#?}");
    let boards_text = cli.run(&["board", "list"]).await.ok();
    assert!(boards_text.stdout.contains("Main"), "{boards_text:#?}");

    // move, edit, show again.
    let moved = cli.run(&["card", "move", "1", "Done"]).await.ok();
    assert!(moved.stdout.contains("Done"), "{moved:#?}");
    let edited = cli
        .run(&["card", "edit", "1", "--title", "Fix the login page"])
        .await
        .ok();
    assert!(edited.stdout.contains("Fix the login page"), "{edited:#?}");
    let shown = cli.run(&["card", "show", "#1", "--json"]).await.ok().json();
    assert_eq!(shown["title"], "Fix the login page");
    assert_eq!(shown["column_id"], column_id("Done"));
    assert_eq!(shown["labels"], serde_json::json!(["bug", "ui"]));

    // rm.
    cli.run(&["card", "rm", "1"]).await.ok();
    let after = cli.run(&["card", "list", "--json"]).await.ok().json();
    assert_eq!(after, serde_json::json!([]));
    let gone = cli.run(&["card", "show", "1"]).await;
    assert_ne!(gone.code, 0, "a deleted card cannot be shown: {gone:#?}");

    // Rooms and chat.
    let room = cli
        .run(&["room", "add", "random", "--topic", "anything", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(room["name"], "random");
    let rooms = cli.run(&["room", "list"]).await.ok();
    assert!(rooms.stdout.contains("random"), "{rooms:#?}");
    let posted = cli
        .run(&["chat", "send", "random", "hello **team**", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(posted["body"], "hello **team**");
    cli.run(&["chat", "send", "#random", "second"]).await.ok();
    let tail = cli.run(&["chat", "tail", "random"]).await.ok();
    let first = tail
        .stdout
        .find("hello")
        .expect("the first message is shown");
    let second = tail
        .stdout
        .find("second")
        .expect("the second message is shown");
    assert!(first < second, "oldest first: {tail:#?}");
    let tail_json = cli.run(&["chat", "tail", "random", "--json"]).await.ok();
    let bodies: Vec<_> = tail_json
        .json_lines()
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(bodies, ["hello **team**", "second"]);

    // events --json: one object per line, seqs 1, 2, 3, … with nothing missing.
    let events = cli.run(&["events", "--json"]).await.ok().json_lines();
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().expect("every event has a seq"))
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| e["change"]["type"].as_str())
        .collect();
    for kind in [
        "workspace_created",
        "card_created",
        "card_moved",
        "card_updated",
        "card_deleted",
        "room_created",
        "message_posted",
    ] {
        assert!(kinds.contains(&kind), "events include {kind}: {kinds:?}");
    }
    let since = cli.run(&["events", "--json", "--since", "5"]).await.ok();
    let first_seq = since.json_lines()[0]["seq"].as_u64();
    assert_eq!(first_seq, Some(6), "--since 5 starts at 6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_wrong_token_dead_server_and_usage() {
    let mut server = Server::start().await;
    let wrong = Cli::new(&server.http_url(), "wrn_definitely_not_valid");
    let out = wrong.run(&["card", "list"]).await;
    assert_one_line_error(&out, 2);

    let cli = Cli::new(&server.http_url(), &server.token);
    let usage = cli.run(&["card", "frobnicate"]).await;
    assert_eq!(usage.code, 1, "{usage:#?}");
    let bad_ref = cli.run(&["card", "show", "not-a-number"]).await;
    assert_one_line_error(&bad_ref, 1);

    // A dead server: stop it, the port refuses connections.
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success());
    let dead = cli.run(&["card", "list"]).await;
    assert_one_line_error(&dead, 2);
    // With no server configured, the CLI works on the local workspace instead of failing.
    Cli::bare().run(&["card", "list"]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_tail_follow_shows_a_message_sent_by_another_process() {
    let server = Server::start().await;
    let sender = Cli::new(&server.http_url(), &server.token);
    let follower = Cli::new(&server.http_url(), &server.token);
    sender
        .run(&["chat", "send", "general", "before the follow"])
        .await
        .ok();

    let mut child = follower.spawn(&["chat", "tail", "general", "--follow"]);
    let mut lines = stdout_lines(&mut child);
    read_until(&mut lines, "the earlier message", |l| {
        l.contains("before the follow")
    })
    .await;
    sender
        .run(&["chat", "send", "general", "live from elsewhere"])
        .await
        .ok();
    read_until(&mut lines, "the live message", |l| {
        l.contains("live from elsewhere")
    })
    .await;
    child.kill().await.expect("kill the follower");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_prints_live_events_once_in_order() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let head = cli.run(&["events", "--json"]).await.ok().json_lines().len() as u64;

    let mut child = cli.spawn(&["events", "--follow", "--json"]);
    let mut lines = stdout_lines(&mut child);
    let parse = |l: &str| -> serde_json::Value {
        serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
    };
    read_until(&mut lines, "the existing events", |l| {
        parse(l)["seq"].as_u64() == Some(head)
    })
    .await;
    cli.run(&["card", "add", "Seen live"]).await.ok();
    cli.run(&["chat", "send", "general", "also live"])
        .await
        .ok();
    let live = read_until(&mut lines, "the live events", |l| {
        parse(l)["change"]["type"] == "message_posted"
    })
    .await;
    child.kill().await.expect("kill the follower");
    let live: Vec<serde_json::Value> = live.iter().map(|l| parse(l)).collect();
    let seqs: Vec<u64> = live.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, [head + 1, head + 2], "{live:#?}");
    assert_eq!(live[0]["change"]["card"]["title"], "Seen live");
    assert_eq!(live[1]["change"]["message"]["body"], "also live");
}
