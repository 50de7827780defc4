//! A full disk under a running server: commands are refused with `storage_full` (never applied,
//! never `internal`), `/healthz` says `degraded` with HTTP 503, and once space is freed the
//! server reopens its store by itself and the same request id succeeds — no restart.
//!
//! Needs to mount a small tmpfs: as root, or through `sudo -n`. Where mounting is impossible the
//! test prints "SKIPPED disk_full: cannot mount …" and passes without running; `.ci/run` runs it
//! as root or with password-less sudo.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use warren_e2e::raw::get_from;
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, connect_hello, post_message};
use warren_protocol::{ErrorCode, ServerMessage};

/// A tmpfs mounted for the test; unmounted (lazily, so it cannot fail on a busy file) on drop.
struct Tmpfs(PathBuf);

/// `mount`/`umount` as they are (root), else through `sudo -n` (no password prompt).
fn privileged(args: &[&str], path: &Path) -> Result<(), String> {
    let mut why = String::new();
    for prefix in [&[][..], &["sudo", "-n"][..]] {
        let mut words = prefix.iter().chain(args.iter());
        let Some(program) = words.next() else {
            continue;
        };
        match Command::new(program).args(words).arg(path).output() {
            Ok(output) if output.status.success() => return Ok(()),
            Ok(output) => {
                why = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            }
            Err(e) => why = e.to_string(),
        }
    }
    Err(why)
}

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        let options = format!("size={size}");
        privileged(&["mount", "-t", "tmpfs", "-o", &options, "tmpfs"], at)?;
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = privileged(&["umount", "-l"], &self.0);
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

async fn health(server: &Server) -> (u16, serde_json::Value) {
    let (status, body) = get_from(IpAddr::from([127, 0, 0, 1]), server.addr, "/healthz").await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_reported_and_recovered_without_a_restart() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mount = match Tmpfs::mount(dir.path(), "4m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!(
                "SKIPPED disk_full: cannot mount a 4 MiB tmpfs ({why}); run as root (.ci/run does) to test a full disk"
            );
            return;
        }
    };
    let mount_point = dir.path().to_path_buf();
    // Writes until the disk is full, as fast as it can: past the command rate limit by design.
    let mut server = Server::start_in(dir, &NO_RATE_LIMITS).await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let room = Fixture::from_state(&client.snapshot().await).room;
    let filler = mount_point.join("filler");
    fill(&filler);

    // Write until the disk refuses; what was acknowledged before stays.
    let text = "d".repeat(8000);
    let mut acked = 0;
    let mut refused = None;
    for n in 0..400 {
        let id = format!("full-{n}");
        client
            .send_command_as(&id, &post_message(&room, &text))
            .await
            .expect("send");
        match client.try_answer(&id).await.expect("an answer") {
            ServerMessage::Ack { .. } => acked += 1,
            ServerMessage::Error { code, message, .. } => {
                assert_eq!(code, ErrorCode::StorageFull, "{message}");
                assert!(message.contains("disk is full"), "{message}");
                refused = Some(id);
                break;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let refused = refused.unwrap_or_else(|| panic!("the disk never filled:\n{}", server.logs()));

    let (status, body) = health(&server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("free space")),
        "{body}"
    );
    // Reads still work while the disk is full, also after more refused writes and after the
    // writer's idle probe (once a second) has found no room: it does not close the store.
    let before = client.all_messages(&room).await.len();
    assert_eq!(before, acked, "nothing refused was applied");
    for n in 0..3 {
        let id = format!("still-full-{n}");
        client
            .send_command_as(&id, &post_message(&room, &text))
            .await
            .expect("send");
        assert_eq!(client.error_code(&id).await, ErrorCode::StorageFull);
    }
    assert_eq!(client.all_messages(&room).await.len(), acked);

    // Free the space: the same request id now succeeds, on the same server process.
    std::fs::remove_file(&filler).expect("remove the filler");
    client
        .send_command_as(&refused, &post_message(&room, &text))
        .await
        .expect("send");
    match client.try_answer(&refused).await.expect("an answer") {
        ServerMessage::Ack { duplicate, .. } => assert!(!duplicate, "applied now, not before"),
        other => panic!(
            "after freeing space the retry must succeed, got {other:?}:\n{}",
            server.logs()
        ),
    }
    let (status, body) = health(&server).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(client.all_messages(&room).await.len(), acked + 1);

    server.kill_9().await;
    drop(mount);
}
