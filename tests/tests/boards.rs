//! Boards and columns from the CLI against a real server: create and rename boards; add, rename,
//! move and delete columns (with and without cards); every change reaches a live subscriber, and
//! a restarted server still has it.

use warren_e2e::Server;
use warren_e2e::cli::{Cli, Output};

fn column_names(board: &serde_json::Value) -> Vec<String> {
    board["columns"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_refused(out: &Output, says: &str) {
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains(says), "expected {says:?}: {out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_and_columns_are_created_renamed_moved_and_deleted() {
    let mut server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let mut follower = cli.spawn(&["events", "--follow", "--json"]);

    // board add with its own columns; board rename.
    let board = cli
        .run(&[
            "board", "add", "Launch", "--column", "Ideas", "--column", "Doing", "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(board["name"], "Launch");
    assert_eq!(column_names(&board), ["Ideas", "Doing"]);
    let renamed = cli
        .run(&["board", "rename", "launch", "Launch v2", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(renamed["name"], "Launch v2");
    assert_eq!(renamed["id"], board["id"]);
    let clash = cli.run(&["board", "rename", "Launch v2", "main"]).await;
    assert_refused(&clash, "already exists");

    // column add (last, and at a position), rename, move.
    let b = ["--board", "Launch v2"];
    let out = cli
        .run(&[&["column", "add", "Done"][..], &b].concat())
        .await
        .ok();
    assert!(out.stdout.contains("Ideas | Doing | Done"), "{out:#?}");
    let at = cli
        .run(&[&["column", "add", "Triage", "--at", "1", "--json"][..], &b].concat())
        .await
        .ok()
        .json();
    assert_eq!(column_names(&at), ["Triage", "Ideas", "Doing", "Done"]);
    let out = cli
        .run(
            &[
                &["column", "rename", "doing", "In flight", "--json"][..],
                &b,
            ]
            .concat(),
        )
        .await
        .ok()
        .json();
    assert_eq!(column_names(&out), ["Triage", "Ideas", "In flight", "Done"]);
    let out = cli
        .run(&[&["column", "move", "Triage", "3", "--json"][..], &b].concat())
        .await
        .ok()
        .json();
    assert_eq!(column_names(&out), ["Ideas", "In flight", "Triage", "Done"]);
    let dup = cli
        .run(&[&["column", "rename", "Ideas", "done"][..], &b].concat())
        .await;
    assert_refused(&dup, "already has a column named");

    // A column with cards is refused without --move-cards-to, then moved with it.
    for title in ["first", "second"] {
        cli.run(&[
            "card",
            "add",
            title,
            "--board",
            "Launch v2",
            "--column",
            "Triage",
        ])
        .await
        .ok();
    }
    cli.run(&[
        "card",
        "add",
        "already done",
        "--board",
        "Launch v2",
        "--column",
        "Done",
    ])
    .await
    .ok();
    let refused = cli
        .run(&[&["column", "rm", "Triage"][..], &b].concat())
        .await;
    assert_refused(&refused, "holds 2 card(s)");
    let out = cli
        .run(
            &[
                &[
                    "column",
                    "rm",
                    "Triage",
                    "--move-cards-to",
                    "Done",
                    "--json",
                ][..],
                &b,
            ]
            .concat(),
        )
        .await
        .ok()
        .json();
    assert_eq!(column_names(&out), ["Ideas", "In flight", "Done"]);
    let cards = cli
        .run(&[
            "card",
            "list",
            "--board",
            "Launch v2",
            "--column",
            "Done",
            "--json",
        ])
        .await
        .ok()
        .json();
    let titles: Vec<&str> = cards
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        titles,
        ["already done", "first", "second"],
        "in order, at the bottom"
    );

    // Down to one column, which stays.
    cli.run(&[&["column", "rm", "Ideas"][..], &b].concat())
        .await
        .ok();
    cli.run(&[&["column", "rm", "In flight"][..], &b].concat())
        .await
        .ok();
    let last = cli.run(&[&["column", "rm", "Done"][..], &b].concat()).await;
    assert_refused(&last, "at least one column");

    // A live subscriber saw every change as board_updated / column_deleted events.
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
        follower.stdout.take().expect("stdout is piped"),
    ));
    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while kinds.iter().filter(|k| *k == "column_deleted").count() < 3 {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("timed out; saw {kinds:?}"))
            .expect("read the follower")
            .expect("the follower is still running");
        let event: serde_json::Value = serde_json::from_str(&line).expect("one JSON event a line");
        kinds.push(event["change"]["type"].as_str().unwrap_or("?").to_owned());
    }
    let updated = kinds.iter().filter(|k| *k == "board_updated").count();
    assert_eq!(
        updated, 5,
        "rename board, 2 adds, rename column, move: {kinds:?}"
    );
    follower.kill().await.expect("kill the follower");

    // Everything is durable.
    server.restart().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let boards = cli.run(&["board", "list", "--json"]).await.ok().json();
    let launch = boards
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == "Launch v2").cloned())
        .expect("the renamed board survives a restart");
    assert_eq!(column_names(&launch), ["Done"]);
}
