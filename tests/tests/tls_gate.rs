//! A TLS server and its connection gate: a handshaken connection keeps its place for as long as
//! it is open (the place is taken before the handshake and lives inside the TLS stream), and
//! shutdown is not held up by sockets still in their handshake: SIGTERM drops them at once
//! rather than waiting out the header deadline (which also bounds the handshake).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_rustls::client::TlsStream;
use warren_e2e::bins;

/// `ca.pem`, and `server.pem` / `server.key` for `localhost` signed by it, in `dir`.
fn write_certificate(dir: &Path) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
        .expect("self-signed CA");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("sign the server certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("server.pem"), cert.pem()).expect("write server.pem");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
}

/// Creates a store in `dir/data` and serves it with TLS and `limits` (lines of `[limits]`);
/// returns the process and its address.
async fn serve_tls(dir: &Path, limits: &str) -> (Child, std::net::SocketAddr) {
    write_certificate(dir);
    let init = Command::new(bins::server_bin())
        .args(["init", "--data"])
        .arg(dir.join("data"))
        .output()
        .await
        .expect("run init");
    assert!(init.status.success(), "{init:?}");
    let config = dir.join("warren.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata = \"data\"\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n[limits]\n{limits}\n"
        ),
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
    let addr = line
        .trim()
        .strip_prefix("warren-server listening on https://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an https announcement: {line:?}"));
    (server, addr)
}

/// A TLS connection to `addr` trusting `dir/ca.pem`.
async fn tls_connect(dir: &Path, addr: std::net::SocketAddr) -> TlsStream<TcpStream> {
    let config = warren::tls::client_config(Some(&dir.join("ca.pem"))).expect("client config");
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    tokio::time::timeout(
        Duration::from_secs(20),
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .expect("the handshake finishes in time")
    .expect("the handshake succeeds")
}

/// Sends `GET /healthz` (keep-alive unless `close`) and returns the start of the answer.
async fn healthz(stream: &mut TlsStream<TcpStream>, close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("write the request");
    let mut chunk = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
        .await
        .expect("answered in time")
        .expect("read the answer");
    String::from_utf8_lossy(&chunk[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshaken_connection_keeps_its_place_while_it_is_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_server, addr) = serve_tls(dir.path(), "max_connections_per_ip = 1").await;
    let mut first = tls_connect(dir.path(), addr).await;
    let answer = healthz(&mut first, false).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The first connection is past its handshake and idle, and still holds the one place.
    let mut second = tls_connect(dir.path(), addr).await;
    let answer = healthz(&mut second, true).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    // Closing it frees the place for the next connection.
    drop(first);
    let mut freed = false;
    for _ in 0..200 {
        let mut next = tls_connect(dir.path(), addr).await;
        if healthz(&mut next, true).await.starts_with("HTTP/1.1 200") {
            freed = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(freed, "the closed connection's place was never given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_for_sockets_in_their_tls_handshake() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The header deadline (which also bounds a handshake) is far longer than the test waits.
    let (mut server, addr) = serve_tls(
        dir.path(),
        "header_timeout = 600\nmax_connections_per_ip = 1",
    )
    .await;

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
