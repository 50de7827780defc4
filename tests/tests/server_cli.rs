//! The `warren-server` command line itself: `init` is all-or-nothing, and the log written to a
//! pipe carries no terminal escape codes.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use warren_e2e::bins;

async fn server(args: &[&str]) -> std::process::Output {
    Command::new(bins::server_bin())
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run warren-server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_init_leaves_nothing_behind_and_a_second_init_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8 temp path");

    let failed = server(&["init", "--data", data_arg, "--owner", ""]).await;
    assert!(!failed.status.success(), "{failed:?}");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("--owner"), "names the flag: {stderr}");
    assert!(
        !data.join("warren.redb").exists(),
        "no store after a failed init"
    );

    let failed = server(&["init", "--data", data_arg, "--workspace", " \t"]).await;
    assert!(!failed.status.success(), "{failed:?}");
    assert!(!data.join("warren.redb").exists());

    let done = server(&["init", "--data", data_arg, "--owner", "ada"]).await;
    assert!(done.status.success(), "{done:?}");
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(stdout.contains("wrn_"), "prints the token: {stdout}");
    let list = server(&["token", "list", "--data", data_arg]).await;
    assert!(list.status.success(), "{list:?}");
    assert!(String::from_utf8_lossy(&list.stdout).contains("ada"));
    let names: Vec<String> = std::fs::read_dir(&data)
        .expect("read the data dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["warren.redb"], "no temporary files left");

    let again = server(&["init", "--data", data_arg]).await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a warren store"));
}

/// Starts `warren-server serve` with stderr piped and returns its log up to the `serving` line.
async fn log_until_serving(data: &str, no_color: bool) -> String {
    let mut command = Command::new(bins::server_bin());
    command
        .args(["serve", "--data", data, "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let mut child = command.spawn().expect("spawn warren-server serve");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    while !log.contains("serving") {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server logs in time")
            .expect("read the log")
            .unwrap_or_else(|| panic!("the log ended before 'serving': {log:?}"));
        log.push_str(&line);
        log.push('\n');
    }
    let _ = child.kill().await;
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_has_no_colour_codes_when_piped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8 temp path");
    assert!(server(&["init", "--data", data_arg]).await.status.success());
    for no_color in [false, true] {
        let log = log_until_serving(data_arg, no_color).await;
        assert!(!log.contains('\u{1b}'), "escape codes in {log:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_listen_address_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("UTF-8 temp path");
    assert!(server(&["init", "--data", data_arg]).await.status.success());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let out = server(&["serve", "--data", data_arg, "--listen", &addr]).await;
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
    assert!(line.contains("--listen"), "says what to do: {line}");
    assert_eq!(
        line.matches("in use").count(),
        1,
        "the cause appears once: {line}"
    );
}
