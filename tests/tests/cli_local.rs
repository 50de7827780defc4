//! The CLI on the local workspace, with no server configured: it serves the store itself for one
//! command, or, while a local `warren` runs, goes through that one's socket.

use std::path::Path;

use warren_e2e::Server;
use warren_e2e::cli::Cli;

fn titles(cards: &serde_json::Value) -> Vec<String> {
    cards
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .filter_map(|c| c["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_server_the_cli_works_on_a_private_local_store() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("share").join("local");
    let cli = Cli::bare().with_data_dir(&data);
    cli.run(&["card", "add", "Written locally"]).await.ok();
    let out = cli.run(&["card", "list", "--json"]).await.ok();
    assert_eq!(titles(&out.json()), ["Written locally"]);
    #[cfg(unix)]
    {
        assert_eq!(mode(&data), 0o700, "the local data dir is private");
        assert_eq!(
            mode(&data.join("warren.redb")),
            0o600,
            "the store is private"
        );
        assert_eq!(mode(&data.join("local-token")), 0o600);
    }
    assert!(
        !data.join("local-server.json").exists(),
        "a one-command server leaves no advert"
    );
}

/// A data dir that already exists (made by hand, or by `mkdir -p` in a setup script) is made
/// private too when the store is first created in it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_made_beforehand_becomes_private() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("local");
    std::fs::create_dir(&data).expect("make the dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cli = Cli::bare().with_data_dir(&data);
    cli.run(&["card", "add", "Written locally"]).await.ok();
    assert_eq!(mode(&data), 0o700, "the local data dir is private");
    assert_eq!(mode(&data.join("warren.redb")), 0o600);
    assert_eq!(mode(&data.join("local-token")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_local_warren_running_the_cli_goes_through_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let data = temp.path().join("local");
    // What the full-screen client runs when no server is configured.
    let running = warren::tui::local::start(data.clone())
        .await
        .expect("start the local server");
    let cli = Cli::bare().with_data_dir(&data);
    cli.run(&["card", "add", "Through the socket"]).await.ok();
    let out = cli.run(&["card", "list", "--json"]).await.ok();
    assert_eq!(titles(&out.json()), ["Through the socket"]);

    // Had the CLI opened the store itself, the running server's lock would have refused it.
    running.shutdown().await;

    // And after it stops, the CLI serves the store itself and finds the same card.
    let out = cli.run(&["card", "list", "--json"]).await.ok();
    assert_eq!(titles(&out.json()), ["Through the socket"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_held_by_another_process_is_named_plainly() {
    let server = Server::start().await;
    let cli = Cli::bare().with_data_dir(&server.data_dir());
    let out = cli.run(&["card", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("is in use by another warren"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("WARREN_DATA_DIR"), "{}", out.stderr);
    assert!(!out.stderr.contains("config file"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_data_dir_is_named_as_the_local_workspace_not_a_config_file() {
    let temp = tempfile::tempdir().expect("temp dir");
    let file = temp.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write a file");
    let cli = Cli::bare().with_data_dir(&file.join("local"));
    let out = cli.run(&["card", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("the local workspace in"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("WARREN_DATA_DIR"), "{}", out.stderr);
    assert!(!out.stderr.contains("config file"), "{}", out.stderr);
}

/// With no server configured and no local `warren` open, a command that waits for a run brings
/// a worker along: `log -f` of a run queued earlier runs it and ends with it, and so does
/// `job run --follow` (both exit with the job's own code).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_wait_for_a_run_bring_a_worker_along() {
    let temp = tempfile::tempdir().expect("temp dir");
    let cli = Cli::bare().with_data_dir(&temp.path().join("local"));
    cli.run(&[
        "job",
        "add",
        "hello",
        "--command",
        "echo hello from the job; exit 3",
    ])
    .await
    .ok();
    // Without --follow nothing waits, and no worker comes: the run stays queued.
    let queued = cli.run(&["job", "run", "hello"]).await.ok();
    assert!(queued.stdout.contains("r1 queued"), "{}", queued.stdout);
    let followed = cli.run(&["log", "r1", "--follow"]).await;
    assert_eq!(followed.code, 3, "{followed:?}");
    assert!(
        followed.stdout.contains("hello from the job"),
        "{followed:?}"
    );
    let run = cli.run(&["job", "run", "hello", "--follow"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("r2 queued"), "{run:?}");
    assert!(run.stdout.contains("hello from the job"), "{run:?}");
}
