//! TLS end to end: `warren-server serve --config FILE` with a certificate made here (rcgen)
//! serves `https://`/`wss://`; the CLI works over it with `--ca-file` (and with the CA saved in
//! the profile by `login`), and refuses a server whose certificate its CA did not sign, with an
//! error that says what to do.

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
    let mut child = Command::new(bins::server_bin())
        .args(["serve", "--config"])
        .arg(config)
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

    // `warren join` speaks HTTPS with the same CA file (reqwest over the client's rustls
    // configuration), and a wrong CA is refused the same way.
    let invite = cli
        .run(&["invite", "create", "--uses", "2", "--json", "--ca-file", ca])
        .await
        .ok()
        .json();
    let code = invite["code"].as_str().expect("a code");
    let stranger = Cli::bare();
    let wrong = stranger
        .run(&[
            "join",
            "--server",
            &url,
            "--invite",
            code,
            "--name",
            "grace",
            "--ca-file",
            other.to_str().expect("UTF-8"),
        ])
        .await;
    assert_eq!(wrong.code, 2, "{wrong:#?}");
    assert!(
        wrong.stderr.contains("TLS") && wrong.stderr.contains("--ca-file"),
        "{wrong:#?}"
    );
    let joiner = Cli::bare();
    joiner
        .run(&[
            "join",
            "--server",
            &url,
            "--invite",
            code,
            "--name",
            "grace",
            "--ca-file",
            ca,
        ])
        .await
        .ok();
    let profile = std::fs::read_to_string(joiner.config_file()).expect("profile written");
    assert!(profile.contains("ca_file"), "{profile}");
    let who = joiner.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(who["name"], "grace", "{who}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_given_as_a_flag_beats_the_config_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    init(&dir.path().join("data")).await;
    let config = dir.path().join("warren.toml");
    // hello_timeout = 0 is refused when the file's value is used...
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n[limits]\nhello_timeout = 0\n",
    )
    .expect("write");
    let refused = Command::new(bins::server_bin())
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("WARREN_HELLO_TIMEOUT")
        .output()
        .await
        .expect("run serve");
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("hello_timeout"), "{err}");
    // ...and never looked at when the flag gives the limit.
    let mut child = Command::new(bins::server_bin())
        .args(["serve", "--hello-timeout", "5", "--config"])
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
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line),
    )
    .await
    .expect("the server starts in time")
    .expect("read");
    assert!(
        line.starts_with("warren-server listening on http://"),
        "{line:?}"
    );
    let _ = child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_cap_is_refused_in_tls_with_a_readable_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_certificates(dir.path());
    let token = init(&dir.path().join("data")).await;
    let config = dir.path().join("warren.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata = \"data\"\n[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n\
         [limits]\nmax_connections_per_ip = 1\nheader_timeout = 60\n",
    )
    .expect("write the config");
    let (_server, addr) = serve(&config).await;
    // This socket takes the one place; it never handshakes, and the deadline is a minute away.
    let _holder = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let ca = dir.path().join("ca.pem");
    let cli = Cli::new(&format!("https://localhost:{}", addr.port()), &token);
    let out = cli
        .run(&["board", "list", "--ca-file", ca.to_str().expect("UTF-8")])
        .await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("503"), "{out:#?}");
    assert!(out.stderr.contains("too_many_connections"), "{out:#?}");
    assert!(
        !out.stderr.contains("TLS with"),
        "not a TLS failure: {out:#?}"
    );
}
