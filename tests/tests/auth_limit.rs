//! The per-address limit on failed authentications at the WebSocket upgrade: five bad tokens
//! from one address are each a 401, the sixth is a 429 with `Retry-After`, and while it lasts a
//! good token from that address is refused too and another address is not; once a place has
//! refilled the good token works again. (Wrong invite codes: `invites.rs`.)

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warren_e2e::Server;
use warren_e2e::raw::{connect_from, header_of, status_of};

/// The status line and headers the server answers an upgrade with `token` from `from`.
async fn upgrade(server: &Server, from: [u8; 4], token: &str) -> String {
    let mut stream = connect_from(IpAddr::from(from), server.addr).await;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    // Read the head only: a 101 keeps the socket open.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(20), async {
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            head.push(byte[0]);
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_bad_token_from_an_address_gets_429_until_a_place_refills() {
    // Five per 5 s: a place refills every second.
    let server = Server::start_with(&["--failed-auth-window", "5"]).await;
    let bad = "wrn_0000000000000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let one = [127, 0, 0, 1];
    for n in 1..=5 {
        let head = upgrade(&server, one, bad).await;
        assert_eq!(status_of(&head), Some(401), "failure {n}: {head}");
    }
    let head = upgrade(&server, one, bad).await;
    assert_eq!(status_of(&head), Some(429), "{head}");
    let retry: u64 = header_of(&head, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {head}"));
    assert!((1..=5).contains(&retry), "{head}");
    // Blocked: the good token too, from this address; not from another.
    let head = upgrade(&server, one, &server.token).await;
    assert_eq!(status_of(&head), Some(429), "{head}");
    let head = upgrade(&server, [127, 0, 0, 2], &server.token).await;
    assert_eq!(status_of(&head), Some(101), "{head}");
    // Once a place has refilled, the good token works from this address again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let head = upgrade(&server, one, &server.token).await;
        match status_of(&head) {
            Some(101) => break,
            Some(429) => {}
            other => panic!("unexpected {other:?}: {head}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "still refused");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
