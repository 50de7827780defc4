//! Deadlines and connection caps against a real server process: a socket that never says
//! `hello`, a half-sent request head, an oversized head, keep-alive after a 401, and the
//! per-address and total connection caps (with `/healthz` still answering from elsewhere).

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use warren_e2e::raw::{body_of, connect_from, get_from, get_keep_alive, read_to_close, status_of};
use warren_e2e::{Server, connect};
use warren_protocol::ErrorCode;

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_says_hello_is_closed_by_its_deadline() {
    let server = Server::start_with(&["--hello-timeout", "0.5"]).await;
    let mut client = connect(server.addr, &server.token).await;
    let code = client
        .wait_closed(Duration::from_secs(20))
        .await
        .expect("the server closes the un-greeted socket");
    assert_eq!(code, Some(1008), "policy violation: no hello in time");
    assert!(
        client
            .loose_errors
            .iter()
            .any(|(c, m)| *c == ErrorCode::HelloRequired && m.contains("no hello within 0.5 s")),
        "the client is told why: {:?}",
        client.loose_errors
    );
    // A client that does say hello in time stays.
    let mut greeted = warren_e2e::connect_hello(server.addr, &server.token).await;
    greeted.ping(1).await.expect("a greeted client is served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_sent_request_heads_are_dropped() {
    let server = Server::start_with(&["--header-timeout", "0.5"]).await;
    // Nothing at all.
    let mut silent = connect_from(loopback(1), server.addr).await;
    let answer = read_to_close(&mut silent).await;
    assert_eq!(answer, "", "a silent socket is closed without an answer");
    // Half a request head, then nothing.
    let mut half = connect_from(loopback(1), server.addr).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write half a head");
    let answer = read_to_close(&mut half).await;
    assert!(
        answer.is_empty() || status_of(&answer) == Some(408),
        "the half-sent head is dropped: {answer:?}"
    );
    // The server is fine.
    let (status, _) = get_from(loopback(1), server.addr, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_request_head_is_refused() {
    let server = Server::start().await;
    let mut stream = connect_from(loopback(1), server.addr).await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40 * 1024)
    );
    // The server may close before it has read everything we send.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = read_to_close(&mut stream).await;
    assert!(
        answer.is_empty() || status_of(&answer) == Some(431),
        "a 40 KiB head is refused: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_gets_no_keep_alive() {
    let server = Server::start().await;
    let mut stream = connect_from(loopback(1), server.addr).await;
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer wrn_nope\r\n\r\n",
        )
        .await
        .expect("write");
    // read_to_close fails the test if the server keeps the socket open.
    let answer = read_to_close(&mut stream).await;
    assert_eq!(status_of(&answer), Some(401), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_refuse_the_extra_connection_while_healthz_answers() {
    // The held sockets never send a request head: a long header deadline keeps them (and their
    // places) for the whole test, however slow a loaded machine makes it.
    let server = Server::start_with(&[
        "--max-connections-per-ip",
        "3",
        "--max-connections",
        "6",
        "--header-timeout",
        "600",
    ])
    .await;
    // Three silent sockets from one address use up its share.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(loopback(1), server.addr).await);
    }
    let mut extra = connect_from(loopback(1), server.addr).await;
    let answer = read_to_close(&mut extra).await;
    assert_eq!(status_of(&answer), Some(503), "{answer:?}");
    let error: serde_json::Value = serde_json::from_str(body_of(&answer)).expect("JSON body");
    assert_eq!(error["code"], "too_many_connections", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("--max-connections-per-ip")),
        "{error}"
    );
    // Another address is still served, /healthz included. Its connection stays open and counts
    // towards the total below: a closed one would free its place only once the server noticed,
    // and under load that came after the next accepts (one of them was then taken as overflow,
    // and the upgrade below was let in).
    let mut second = connect_from(loopback(2), server.addr).await;
    let (status, body) = get_keep_alive(&mut second, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    held.push(second);

    // Fill the total: two more from other addresses (six held in all).
    for n in 3..5 {
        held.push(connect_from(loopback(n), server.addr).await);
    }
    // At the total cap /healthz still answers (an overflow place), but nothing else gets in.
    let (status, body) = get_from(loopback(9), server.addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    let mut upgrade = connect_from(loopback(9), server.addr).await;
    upgrade
        .write_all(
            format!(
                "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Authorization: Bearer {}\r\n\r\n",
                server.token
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let answer = read_to_close(&mut upgrade).await;
    assert_eq!(status_of(&answer), Some(503), "{answer:?}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    // Once the overflow places are taken too, a connection is refused at once.
    let mut overflow = Vec::new();
    for n in 0..32u8 {
        overflow.push(connect_from(loopback(20 + n), server.addr).await);
    }
    let mut over = connect_from(loopback(9), server.addr).await;
    let answer = read_to_close(&mut over).await;
    assert_eq!(status_of(&answer), Some(503), "{answer:?}");
    assert!(answer.contains("--max-connections"), "{answer}");
    drop(overflow);

    // Closing one frees its place.
    held.pop();
    let mut ok = None;
    for _ in 0..200 {
        let (status, _) = get_from(loopback(9), server.addr, "/healthz").await;
        if status == 200 {
            ok = Some(status);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        ok,
        Some(200),
        "a freed place is given to the next connection"
    );
}
