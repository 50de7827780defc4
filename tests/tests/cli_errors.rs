//! The CLI's error messages for the mistakes people make first: each says what happened, in
//! plain words, and what to do next.

use warren_e2e::Server;
use warren_e2e::cli::Cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_host_name_is_not_blamed_on_the_server() {
    let cli = Cli::new("http://no-such-host.invalid:7878", "wrn_whatever");
    let out = cli.run(&["card", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(
        out.stderr.contains("could not be resolved"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("no-such-host.invalid"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("is warren-server running"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_is_not_a_warren_server_says_what_was_asked() {
    let server = Server::start().await;
    let url = format!("{}/not-warren", server.http_url());
    let out = Cli::new(&url, &server.token).run(&["card", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    let line = out.stderr.trim_end();
    assert!(line.contains("HTTP 404"), "{line}");
    assert!(
        line.contains("/not-warren/ws"),
        "names the URL asked: {line}"
    );
    assert!(
        line.contains("Not Found"),
        "says what the status means: {line}"
    );
    assert!(line.contains("may not be a warren server"), "{line}");
    assert!(!line.contains(": —"), "no empty body: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_file_is_shown_with_its_line_and_a_caret() {
    let cli = Cli::bare();
    std::fs::write(
        cli.config_file(),
        "[profile]\nserver = \"http://127.0.0.1:1\"\ntoken = wrn_unquoted\n",
    )
    .expect("write the config");
    let out = cli.run(&["card", "list"]).await;
    assert_eq!(out.code, 2, "{out:#?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: config file "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 3, column 9"), "{}", out.stderr);
    assert!(
        lines.iter().any(|l| l.contains("token = wrn_unquoted")),
        "{}",
        out.stderr
    );
    assert!(
        lines.iter().any(|l| l.trim_end().ends_with('^')),
        "{}",
        out.stderr
    );
    assert!(lines.len() >= 4, "kept over several lines: {}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_name_that_slack_would_refuse_is_refused_with_the_rule() {
    let server = Server::start().await;
    let cli = Cli::new(&server.http_url(), &server.token);
    let out = cli.run(&["room", "add", "Dev Ops"]).await;
    assert_eq!(out.code, 1, "a usage mistake: {out:#?}");
    assert!(
        out.stderr
            .contains("lowercase letters, digits, '-' and '_'"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("try \"dev-ops\""), "{}", out.stderr);
    cli.run(&["room", "add", "#dev-ops"]).await.ok();
}

/// Another program on the port (here one answering in HTTP/1.0) is not "warren-server not
/// running": the message says what answered is not a warren server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_program_on_the_port_is_not_blamed_on_a_stopped_server() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        }
    });
    let out = Cli::new(&format!("http://{addr}"), "wrn_whatever")
        .run(&["card", "list"])
        .await;
    assert_eq!(out.code, 2, "{out:#?}");
    let line = out.stderr.trim_end();
    assert!(line.contains("is not a warren server"), "{line}");
    assert!(line.contains("check the address and the port"), "{line}");
    assert!(!line.contains("is warren-server running"), "{line}");
}
