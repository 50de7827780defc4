//! Rate limits against a real server started with tiny buckets: a burst of commands past the
//! bucket is refused `rate_limited` with a wait and is not applied, another user at the same
//! moment is not slowed, and the CLI waits and succeeds on its own (its `--json` output as
//! usual); a connection storm past the per-token (or per-address) rate gets HTTP 429 with
//! `Retry-After`, and the CLI connects after waiting. Hits show in `/metrics`.
//!
//! The buckets refill slowly (one command every 5 s, one connection every 6 s) so that the CLI,
//! started right after the bucket was emptied, surely meets the limit even on a busy machine.

use std::net::{IpAddr, SocketAddr};

use tokio::io::AsyncWriteExt;
use warren_e2e::cli::Cli;
use warren_e2e::raw::{body_of, connect_from, metric, read_to_close, status_of};
use warren_e2e::{Fixture, Server, connect, connect_hello, post_message};
use warren_protocol::{ErrorCode, ServerMessage, WireError};

const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// `warren_rate_limited_total` from `/metrics`.
async fn rate_limited_total(addr: SocketAddr) -> u64 {
    metric(addr, "warren_rate_limited_total").await
}

/// A WebSocket upgrade request that the server is expected to refuse; returns the whole answer.
async fn refused_upgrade(addr: SocketAddr, token: &str) -> String {
    let mut stream = connect_from(LOOPBACK, addr).await;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the upgrade request");
    read_to_close(&mut stream).await
}

/// The `Retry-After` header of an HTTP answer, in seconds.
fn retry_after(answer: &str) -> Option<u64> {
    answer
        .split("\r\n\r\n")
        .next()?
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("retry-after")
                .then(|| value.trim())
        })?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_bucket_is_refused_and_the_cli_succeeds_after_waiting() {
    let mut server =
        Server::start_with(&["--commands-per-second", "0.2", "--commands-burst", "3"]).await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let addr = server.addr;
    let mut ada = connect_hello(addr, &server.token).await;
    let room = Fixture::from_state(&ada.snapshot().await).room;
    let mut mira = connect_hello(addr, &mira_token).await;

    // Ada sends four at once, Mira three at the same moment.
    let mut ada_ids = Vec::new();
    for n in 0..4 {
        let command = post_message(&room, &format!("burst {n}"));
        ada_ids.push(ada.send_command(&command).await.expect("send"));
    }
    let mut mira_ids = Vec::new();
    for n in 0..3 {
        let command = post_message(&room, &format!("mira {n}"));
        mira_ids.push(mira.send_command(&command).await.expect("send"));
    }
    for id in &ada_ids[..3] {
        assert!(!ada.ack(id).await.duplicate);
    }
    let refused = ada.try_answer(&ada_ids[3]).await.expect("an answer");
    let ServerMessage::Error {
        code,
        message,
        retry_after_ms,
        ..
    } = refused
    else {
        panic!("the fourth command must be refused, got {refused:?}");
    };
    assert_eq!(code, ErrorCode::RateLimited, "{message}");
    let wait = retry_after_ms.expect("a rate_limited error says how long to wait");
    assert!((1..=5000).contains(&wait), "{wait}");
    assert!(
        message.contains("nothing was applied") && message.contains("same request id"),
        "{message}"
    );
    for id in &mira_ids {
        assert!(
            !mira.ack(id).await.duplicate,
            "another user's bucket is their own"
        );
    }
    let bodies: Vec<String> = ada
        .all_messages(&room)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(
        !bodies.iter().any(|b| b == "burst 3"),
        "the refused command was not applied: {bodies:?}"
    );

    // The bucket is empty now; the CLI is refused, waits as told, and posts once.
    let cli = Cli::new(&server.http_url(), &server.token);
    let posted = cli
        .run(&["chat", "send", "general", "after the wait", "--json"])
        .await
        .ok();
    assert_eq!(posted.json()["body"], "after the wait", "{posted:#?}");
    assert!(
        posted
            .stderr
            .contains("slowed down by the server: retrying in"),
        "{posted:#?}"
    );
    let bodies: Vec<String> = ada
        .all_messages(&room)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(
        bodies.iter().filter(|b| *b == "after the wait").count(),
        1,
        "{bodies:?}"
    );
    assert!(rate_limited_total(addr).await >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_storm_gets_429_and_the_cli_connects_after_waiting() {
    // Ten connections at once per token, then one every 6 s.
    let mut server = Server::start_with(&["--connections-per-token-per-minute", "10"]).await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let addr = server.addr;
    let before = rate_limited_total(addr).await;
    let mut storm = Vec::new();
    for _ in 0..10 {
        storm.push(connect(addr, &server.token).await);
    }
    let answer = refused_upgrade(addr, &server.token).await;
    assert_eq!(status_of(&answer), Some(429), "{answer}");
    let secs = retry_after(&answer).expect("a Retry-After header");
    assert!((1..=6).contains(&secs), "{answer}");
    let body: WireError = serde_json::from_str(body_of(&answer)).expect("a JSON error body");
    assert_eq!(body.code, ErrorCode::RateLimited);
    assert!(body.retry_after_ms.is_some_and(|ms| ms <= 6000), "{body:?}");
    assert!(body.message.contains("this token"), "{body:?}");

    // Another token is not held up by this one's storm.
    let mut other = connect_hello(addr, &mira_token).await;
    other.snapshot().await;

    // The CLI is refused too, waits for its Retry-After, and then works.
    let cli = Cli::new(&server.http_url(), &server.token);
    let listed = cli.run(&["room", "list", "--json"]).await.ok();
    assert!(listed.stdout.contains("general"), "{listed:#?}");
    assert!(
        listed.stderr.contains("slowed down by the server"),
        "{listed:#?}"
    );
    assert!(rate_limited_total(addr).await >= before + 2);
    drop(storm);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_opens_connections_too_fast_gets_429_before_its_token_is_checked() {
    let server = Server::start_with(&["--connections-per-ip-per-minute", "5"]).await;
    let addr = server.addr;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(connect(addr, &server.token).await);
    }
    let answer = refused_upgrade(addr, &server.token).await;
    assert_eq!(status_of(&answer), Some(429), "{answer}");
    assert!(retry_after(&answer).is_some(), "{answer}");
    assert!(body_of(&answer).contains("this address"), "{answer}");
    // Checked before the token: a wrong token from this address gets the same 429, not a 401.
    let answer = refused_upgrade(addr, "wrn_not_a_real_token").await;
    assert_eq!(status_of(&answer), Some(429), "{answer}");
    drop(open);
}
