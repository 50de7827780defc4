//! Operating a real server: `GET /metrics` and `warren-server status` count what happened; a
//! backup taken over the admin socket while 20 writers write is a consistent prefix that
//! `check` accepts, and `check` refuses a damaged copy; `restore` puts a backup back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, bins, connect_hello, post_message};

const HEADS: TableDefinition<&str, u64> = TableDefinition::new("heads: workspace_id -> seq");
const EVENTS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("events: (workspace_id, seq) -> event");
const MESSAGES: TableDefinition<(&str, &str, u64), &[u8]> =
    TableDefinition::new("messages: (workspace_id, room_id, seq) -> message");

async fn server_tool(args: &[&str]) -> std::process::Output {
    tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(bins::server_bin())
            .args(args)
            .env_remove("RUST_LOG")
            .output(),
    )
    .await
    .expect("warren-server finishes in time")
    .expect("run warren-server")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// `GET /metrics` over a plain socket; returns the body.
async fn scrape(server: &Server) -> String {
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect for /metrics");
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: warren\r\nConnection: close\r\n\r\n")
        .await
        .expect("send the request");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut answer))
        .await
        .expect("the metrics arrive in time")
        .expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("content-type: text/plain; version=0.0.4"),
        "{answer}"
    );
    answer
}

/// The value of an unlabelled sample (or of `name{labels}` given whole).
fn sample(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_status_count_commands_commits_and_connections() {
    let server = Server::start().await;
    let before = scrape(&server).await;
    assert_eq!(sample(&before, "warren_commands_total"), 0.0);
    assert_eq!(sample(&before, "warren_connections"), 0.0);
    let events_before = sample(&before, "warren_events_stored");

    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    for i in 0..5 {
        client
            .command(&post_message(&fixture.room, &format!("hello {i}")))
            .await;
    }
    let after = scrape(&server).await;
    assert_eq!(sample(&after, "warren_commands_total"), 5.0, "{after}");
    assert!(sample(&after, "warren_commits_total") >= 1.0, "{after}");
    assert_eq!(sample(&after, "warren_connections"), 1.0, "{after}");
    assert_eq!(sample(&after, "warren_events_stored"), events_before + 5.0);
    assert_eq!(sample(&after, "warren_rate_limited_total"), 0.0);
    assert_eq!(sample(&after, "warren_writer_queue_depth"), 0.0);
    let commits = sample(&after, "warren_commits_total");
    assert_eq!(
        sample(&after, "warren_commit_latency_seconds_count"),
        commits,
        "every commit is timed: {after}"
    );
    assert_eq!(
        sample(&after, "warren_commit_latency_seconds_bucket{le=\"+Inf\"}"),
        commits
    );

    let status = server_tool(&["status", "--data", path_str(&server.data_dir()), "--json"]).await;
    assert!(status.status.success(), "{}", text(&status));
    let status: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("status --json is JSON");
    assert_eq!(status["commands_total"], 5, "{status}");
    assert_eq!(status["connections"], 1, "{status}");
    assert_eq!(status["workspaces"], 1, "{status}");
    assert_eq!(status["writer_queue_depth"], 0, "{status}");
    assert!(status["commit_p50_ms"].as_f64().is_some(), "{status}");
    assert!(status["commit_p99_ms"].as_f64().is_some(), "{status}");
    let human = server_tool(&["status", "--data", path_str(&server.data_dir())]).await;
    let human_text = String::from_utf8_lossy(&human.stdout);
    assert!(human_text.contains("commit latency"), "{}", text(&human));

    let nobody = tempfile::tempdir().expect("temp dir");
    let refused = server_tool(&["status", "--data", path_str(nobody.path())]).await;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("warren-server serve"), "{}", text(&refused));
}

/// The backup's events and message rows, read with redb directly.
struct Backup {
    head: u64,
    events: Vec<serde_json::Value>,
    messages: usize,
}

fn read_backup(path: &Path, ws: &str) -> Backup {
    let db = redb::Database::builder()
        .open_read_only(path)
        .expect("the backup opens as a redb file");
    let txn = db.begin_read().expect("read");
    let head = txn
        .open_table(HEADS)
        .expect("heads")
        .get(ws)
        .expect("get")
        .map_or(0, |g| g.value());
    let events = txn
        .open_table(EVENTS)
        .expect("events")
        .range((ws, 0)..=(ws, u64::MAX))
        .expect("range")
        .map(|e| {
            let (_, v) = e.expect("row");
            serde_json::from_slice(v.value()).expect("events are JSON")
        })
        .collect();
    let messages = txn
        .open_table(MESSAGES)
        .expect("messages")
        .iter()
        .expect("iter")
        .count();
    Backup {
        head,
        events,
        messages,
    }
}

fn copy_of(backup: &Path, name: &str) -> PathBuf {
    let copy = backup.with_file_name(name);
    std::fs::copy(backup, &copy).expect("copy the backup");
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_twenty_writers_is_a_consistent_prefix_that_check_accepts() {
    // 20 writers on one token push thousands of commands: past the rate limits by design.
    let server = Server::start_with(&NO_RATE_LIMITS).await;
    let mut reader = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&reader.snapshot().await);
    let ws = reader.workspace().to_string();

    let acked = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(tokio::sync::Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..20 {
        let (acked, progress, stop) = (acked.clone(), progress.clone(), stop.clone());
        let room = fixture.room.clone();
        let (addr, token) = (server.addr, server.token.clone());
        writers.push(tokio::spawn(async move {
            let mut client = connect_hello(addr, &token).await;
            // Bounded: a writer stops after 400 messages even if nobody tells it to.
            for i in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                client
                    .command(&post_message(
                        &room,
                        &format!("writer {w:02} message {i:03}"),
                    ))
                    .await;
                acked.fetch_add(1, Ordering::Relaxed);
                progress.notify_one();
            }
        }));
    }
    // Wait until the writers are well under way.
    while acked.load(Ordering::Relaxed) < 60 {
        tokio::time::timeout(Duration::from_secs(30), progress.notified())
            .await
            .expect("the writers make progress");
    }
    let acked_before = acked.load(Ordering::Relaxed);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("backup.redb");
    let backup = server_tool(&[
        "backup",
        "--data",
        path_str(&server.data_dir()),
        "--to",
        path_str(&file),
    ])
    .await;
    let acked_after = acked.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer panicked");
    }
    assert!(backup.status.success(), "{}", text(&backup));
    let said = String::from_utf8_lossy(&backup.stdout);
    assert!(said.contains("checks out"), "{}", text(&backup));

    // A prefix of the live log: every event up to the backup's head, byte for byte the same
    // JSON, and at least every message acknowledged before the backup was asked for.
    let copy = read_backup(&file, &ws);
    let (live, live_head) = reader.all_events().await;
    assert!(
        copy.head >= acked_before,
        "head {} < {acked_before} acked before the backup",
        copy.head
    );
    assert!(
        copy.head <= live_head,
        "head {} > live {live_head}",
        copy.head
    );
    assert_eq!(copy.events.len() as u64, copy.head, "gap-free 1..head");
    for (stored, live) in copy.events.iter().zip(&live) {
        let live = serde_json::to_value(live).expect("events serialise");
        assert_eq!(stored, &live);
    }
    let posted = copy
        .events
        .iter()
        .filter(|e| e["change"]["type"] == "message_posted")
        .count();
    assert_eq!(copy.messages, posted, "the state matches the events");
    eprintln!(
        "backup head {} of {live_head}; acked {acked_before} before, {acked_after} after",
        copy.head
    );

    let checked = server_tool(&["check", "--file", path_str(&file)]).await;
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("ok:"),
        "{}",
        text(&checked)
    );

    // A copy with one event deleted fails the check, naming the gap.
    let gap = copy_of(&file, "gap.redb");
    {
        let db = redb::Database::open(&gap).expect("open the copy");
        let txn = db.begin_write().expect("write");
        txn.open_table(EVENTS)
            .expect("events")
            .remove((ws.as_str(), 5))
            .expect("remove event 5");
        txn.commit().expect("commit");
    }
    let failed = server_tool(&["check", "--file", path_str(&gap)]).await;
    assert!(!failed.status.success(), "{}", text(&failed));
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(out.contains("events 5..5 are missing"), "{}", text(&failed));

    // A copy with bytes flipped inside stored data fails the check too (redb's checksums or
    // the comparison with the events catch it).
    let flipped = copy_of(&file, "flipped.redb");
    let mut bytes = std::fs::read(&flipped).expect("read the copy");
    let needle = b"writer 07 message 001";
    let mut hits = 0u8;
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(needle.len()).position(|w| w == needle) {
        let i = at + i;
        bytes[i] = b'X' + hits;
        hits += 1;
        at = i + needle.len();
    }
    assert!(hits >= 1, "the message is in the file");
    std::fs::write(&flipped, &bytes).expect("write the damaged copy");
    let failed = server_tool(&["check", "--file", path_str(&flipped)]).await;
    assert!(!failed.status.success(), "{}", text(&failed));

    // Restore: into a fresh directory, then serve it; never over a store without --force.
    let restored = dir.path().join("restored");
    let done = server_tool(&[
        "restore",
        "--from",
        path_str(&file),
        "--data",
        path_str(&restored),
    ])
    .await;
    assert!(done.status.success(), "{}", text(&done));
    let again = server_tool(&[
        "restore",
        "--from",
        path_str(&file),
        "--data",
        path_str(&restored),
    ])
    .await;
    assert!(!again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        text(&again)
    );
    let damaged = server_tool(&[
        "restore",
        "--from",
        path_str(&gap),
        "--data",
        path_str(&restored),
        "--force",
    ])
    .await;
    assert!(!damaged.status.success(), "{}", text(&damaged));
    assert_eq!(
        read_backup(&restored.join("warren.redb"), &ws).head,
        copy.head
    );
    let forced = server_tool(&[
        "restore",
        "--from",
        path_str(&file),
        "--data",
        path_str(&restored),
        "--force",
    ])
    .await;
    assert!(forced.status.success(), "{}", text(&forced));
    let kept = std::fs::read_dir(&restored)
        .expect("list")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("warren.redb.replaced-")
        });
    assert!(kept, "the replaced store is kept");
    // The server holds its own store: a restore over it is refused.
    let busy = server_tool(&[
        "restore",
        "--from",
        path_str(&file),
        "--data",
        path_str(&server.data_dir()),
        "--force",
    ])
    .await;
    assert!(!busy.status.success(), "{}", text(&busy));
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("stop that server"),
        "{}",
        text(&busy)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_refuses_a_running_store_and_checks_a_crashed_one_through_a_repaired_copy() {
    let mut server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    client
        .command(&post_message(&fixture.room, "before the crash"))
        .await;
    let data = server.data_dir();
    let busy = server_tool(&["check", "--data", path_str(&data)]).await;
    assert!(!busy.status.success(), "{}", text(&busy));
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("warren-server backup --to FILE"),
        "{}",
        text(&busy)
    );
    server.kill_9().await;
    let before = std::fs::read(data.join("warren.redb")).expect("read the store");
    let checked = server_tool(&["check", "--data", path_str(&data), "--json"]).await;
    assert!(checked.status.success(), "{}", text(&checked));
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).expect("JSON");
    assert_eq!(report["repaired"], true, "{report}");
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    let after = std::fs::read(data.join("warren.redb")).expect("read the store");
    assert!(before == after, "check leaves the file itself alone");
}
