//! TLS end to end: `warren-server serve --config FILE` with a certificate made here (rcgen)
//! serves `https://`/`wss://`; the CLI works over it with `--ca-file` (and with the CA saved in
//! the profile by `login`), and refuses a server whose certificate its CA did not sign, with an
//! error that says what to do. TLS sockets pass the connection gate before their handshake and
//! hold their place through it; the config file's `[limits]` set the caps, and flags beat it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use warren_e2e::bins;
use warren_e2e::cli::Cli;

/// A CA and its issuer, to sign server certificates.
fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-signed CA")
}

/// Writes `ca.pem`, `server.pem` and `server.key` (for `localhost` and 127.0.0.1) into `dir`,
/// and `other-ca.pem`, a CA that signed nothing here.
fn write_certificates(dir: &Path) {
    let ca = make_ca("warren test CA");
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    let key = KeyPair::generate().expect("server key");
    let cert = params
        .signed_by(&key, &ca)
        .expect("sign the server certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("server.pem"), cert.pem()).expect("write server.pem");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
    std::fs::write(dir.join("other-ca.pem"), make_ca("someone else").pem())
        .expect("write other-ca.pem");
}

async fn init(data: &Path) -> String {
    let out = Command::new(bins::server_bin())
        .args(["init", "--data"])
        .arg(data)
        .output()
        .await
        .expect("run init");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(warren_protocol::TOKEN_PREFIX))
        .expect("init prints the token")
        .to_owned()
}

/// Starts `serve --config FILE` and returns the process and the address of its `https://` line.
async fn serve(config: &Path) -> (Child, SocketAddr) {
    serve_with(config, &[]).await
}

/// [`serve`] with more flags.
async fn serve_with(config: &Path, flags: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(bins::server_bin())
        .args(["serve", "--config"])
        .arg(config)
        .args(flags)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await
    .expect("the server announces itself in time")
    .expect("read the line");
    let addr = line
        .trim()
        .strip_prefix("warren-server listening on https://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an https announcement: {line:?}"));
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_works_over_tls_with_the_ca_file_and_refuses_a_wrong_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_certificates(dir.path());
    let token = init(&dir.path().join("data")).await;
    // Relative paths in the config file are relative to the file.
    let config = dir.path().join("warren.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n",
    )
    .expect("write the config");
    let (_server, addr) = serve(&config).await;
    let url = format!("https://localhost:{}", addr.port());
    let ca = dir.path().join("ca.pem");
    let ca = ca.to_str().expect("UTF-8");

    // A peer that opens sockets and never starts its handshake holds nobody else up.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(
            tokio::net::TcpStream::connect(addr)
                .await
                .expect("open a silent socket"),
        );
    }
    let cli = Cli::new(&url, &token);
    let out = cli.run(&["board", "list", "--ca-file", ca]).await.ok();
    assert!(out.stdout.contains("Main"), "{out:#?}");
    assert!(out.stderr.is_empty(), "no warning over TLS: {out:#?}");
    let by_ip = Cli::new(&format!("wss://127.0.0.1:{}/ws", addr.port()), &token);
    by_ip.run(&["room", "list", "--ca-file", ca]).await.ok();

    let other = dir.path().join("other-ca.pem");
    let wrong = cli
        .run(&["board", "list", "--ca-file", other.to_str().expect("UTF-8")])
        .await;
    assert_eq!(wrong.code, 2, "{wrong:#?}");
    assert!(wrong.stderr.contains("TLS"), "{wrong:#?}");
    assert!(
        wrong.stderr.contains("--ca-file"),
        "says what to do: {wrong:#?}"
    );
    let no_ca = cli.run(&["board", "list"]).await;
    assert_eq!(
        no_ca.code, 2,
        "the test CA is not a system root: {no_ca:#?}"
    );

    // `login --ca-file` keeps the CA in the profile; later commands need no flags.
    let person = Cli::bare();
    person
        .run(&[
            "login",
            "--server",
            &url,
            "--token",
            &token,
            "--ca-file",
            ca,
        ])
        .await
        .ok();
    let profile = std::fs::read_to_string(person.config_file()).expect("profile written");
    assert!(profile.contains("ca_file"), "{profile}");
    let out = person.run(&["board", "list"]).await.ok();
    assert!(out.stdout.contains("Main"), "{out:#?}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_file_names_the_line_and_key_and_half_tls_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("warren.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n[tls]\ncert = \"c.pem\"\nkey_file = \"k.pem\"\n",
    )
    .expect("write");
    let out = Command::new(bins::server_bin())
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .await
        .expect("run serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warren.toml"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("key_file"), "{err}");
    let half = Command::new(bins::server_bin())
        .args(["serve", "--tls-cert", "c.pem", "--listen", "127.0.0.1:0"])
        .output()
        .await
        .expect("run serve");
    assert!(!half.status.success());
    let err = String::from_utf8_lossy(&half.stderr);
    assert!(err.contains("--tls-key"), "{err}");
}

/// A TLS connection to `addr` trusting `ca.pem` in `dir`, or the error that ended it.
async fn tls_connect(
    dir: &Path,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let config = warren::tls::client_config(Some(&dir.join("ca.pem"))).expect("client config");
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name =
        tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
    tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("the TLS handshake did not finish in 20 s"))?
}

/// `GET /healthz` over TLS with `Connection: close`: the whole answer.
async fn tls_healthz(dir: &Path, addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tls_connect(dir, addr).await.expect("TLS handshake");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write the request");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes in time");
    String::from_utf8_lossy(&answer).into_owned()
}

/// An HTTP/1.1 keep-alive connection over TLS that has been answered once and stays open.
async fn tls_idle(
    dir: &Path,
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tls_connect(dir, addr).await.expect("TLS handshake");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write the request");
    let mut chunk = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
        .await
        .expect("answered in time")
        .expect("read");
    let head = String::from_utf8_lossy(&chunk[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sockets_hold_their_place_in_the_caps_set_by_the_config_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_certificates(dir.path());
    init(&dir.path().join("data")).await;
    let config = dir.path().join("warren.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n\n[limits]\nmax_connections_per_ip = 2\n",
    )
    .expect("write the config");
    let (server, addr) = serve(&config).await;

    // Two sockets that never start a handshake already hold this address's two places.
    let silent = [
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
    ];
    let refused = tls_healthz(dir.path(), addr).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.contains("too_many_connections") && refused.contains("--max-connections-per-ip"),
        "the refusal is readable over TLS and says what to do: {refused}"
    );

    // Once they close, their places are free again (the server sees the close at once).
    drop(silent);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = tls_healthz(dir.path(), addr).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the places were not freed: {answer}"
        );
    }

    // Handshaken connections keep their places while they stay open.
    let idle = [
        tls_idle(dir.path(), addr).await,
        tls_idle(dir.path(), addr).await,
    ];
    let refused = tls_healthz(dir.path(), addr).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    drop(idle);
    drop(server);

    // A flag beats the file: three places now.
    let (_server, addr) = serve_with(&config, &["--max-connections-per-ip", "3"]).await;
    let _silent = [
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
    ];
    let answer = tls_healthz(dir.path(), addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_client_of_a_tls_server_is_told_to_use_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_certificates(dir.path());
    let token = init(&dir.path().join("data")).await;
    let config = dir.path().join("warren.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n",
    )
    .expect("write the config");
    let (_server, addr) = serve(&config).await;
    let plain = Cli::new(&format!("http://127.0.0.1:{}", addr.port()), &token);
    let out = plain.run(&["board", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("https://"), "{out:#?}");
}
