//! Shutdown of a TLS server is not held up by sockets still in their handshake: SIGTERM stops
//! accepting and drops them at once, as a plain server drops connections that sent nothing, rather
//! than waiting out the header deadline (which also bounds the handshake).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use warren_e2e::bins;

/// A self-signed certificate for `localhost` in `dir` (no client here verifies it).
fn write_certificate(dir: &Path) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    std::fs::write(dir.join("server.pem"), certified.cert.pem()).expect("write server.pem");
    std::fs::write(
        dir.join("server.key"),
        certified.signing_key.serialize_pem(),
    )
    .expect("write server.key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_for_sockets_in_their_tls_handshake() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_certificate(dir.path());
    let init = Command::new(bins::server_bin())
        .args(["init", "--data"])
        .arg(dir.path().join("data"))
        .output()
        .await
        .expect("run init");
    assert!(init.status.success(), "{init:?}");
    let config = dir.path().join("warren.toml");
    // The header deadline (which also bounds a handshake) is far longer than the test waits.
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n\
         [limits]\nheader_timeout = 600\nmax_connections_per_ip = 1\n",
    )
    .expect("write the config");
    let mut server = Command::new(bins::server_bin())
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn serve");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(server.stdout.take().expect("piped")).read_line(&mut line),
    )
    .await
    .expect("the server announces itself in time")
    .expect("read the line");
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("warren-server listening on https://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an https announcement: {line:?}"));

    // Admitted, so its handshake task is running; it never sends a byte.
    let _silent = tokio::net::TcpStream::connect(addr)
        .await
        .expect("open a silent socket");
    // A second socket is refused (closed once its refusal handshake gets nowhere) only when the
    // first holds the address's one place: then the server has accepted the first.
    let mut probe = tokio::net::TcpStream::connect(addr)
        .await
        .expect("open a second socket");
    warren_e2e::raw::read_to_close(&mut probe).await;

    let pid = i32::try_from(server.id().expect("running")).expect("a pid");
    // SAFETY: sends SIGTERM to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .expect("the server exits without waiting out the 600 s handshake deadline")
        .expect("wait");
    assert!(status.success(), "{status:?}");
}
