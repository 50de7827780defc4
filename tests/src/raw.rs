//! Plain TCP and HTTP/1.1 for tests that talk to the server below the WebSocket layer: one-shot
//! GETs (optionally from another loopback address, 127.0.0.2 and up, to test per-address caps)
//! and the status line of whatever the server answers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long a raw read may take before the test fails.
pub const RAW_WAIT: Duration = Duration::from_secs(20);

/// Connects to `addr` from the loopback address `from` (e.g. 127.0.0.2).
pub async fn connect_from(from: IpAddr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::new(from, 0))
        .expect("bind the source address");
    socket.connect(addr).await.expect("connect")
}

/// Reads until the server closes the connection (or it breaks); returns what arrived.
pub async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = tokio::time::timeout(RAW_WAIT, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server did not close the connection in {RAW_WAIT:?}"
    );
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The status code of an HTTP response text.
pub fn status_of(response: &str) -> Option<u16> {
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|s| s.parse().ok())
}

/// The body of an HTTP response text.
pub fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// One `GET path` (with `Connection: close`) from the loopback address `from`; (status, body).
pub async fn get_from(from: IpAddr, addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = connect_from(from, addr).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let response = read_to_close(&mut stream).await;
    let status = status_of(&response).unwrap_or_else(|| panic!("no status line in {response:?}"));
    (status, body_of(&response).to_owned())
}

/// One `GET path` on an open connection that stays open (keep-alive): reads the response head
/// and its `Content-Length` body, then returns (status, body), leaving the connection to the
/// caller. For tests that must know exactly which connections the server still counts.
pub async fn get_keep_alive(stream: &mut TcpStream, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: warren\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let response = tokio::time::timeout(RAW_WAIT, async {
        loop {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return String::from_utf8_lossy(&bytes).into_owned(),
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no whole response in {RAW_WAIT:?}"));
    let status = status_of(&response).unwrap_or_else(|| panic!("no status line in {response:?}"));
    (status, body_of(&response).to_owned())
}

/// The value of the counter or gauge `name` in the server's `GET /metrics` (asked from
/// 127.0.0.1); fails the test when it is missing.
pub async fn metric(addr: SocketAddr, name: &str) -> u64 {
    let (status, body) = get_from(IpAddr::from([127, 0, 0, 1]), addr, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{body}"))
}

/// One `POST path` with a JSON body (and extra header lines, each ending in `\r\n`) from the
/// loopback address `from`; returns the whole response text.
pub async fn post_json_from(
    from: IpAddr,
    addr: SocketAddr,
    path: &str,
    headers: &str,
    body: &str,
) -> String {
    let mut stream = connect_from(from, addr).await;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    read_to_close(&mut stream).await
}

/// The value of a response header (case-insensitive name), if present.
pub fn header_of<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split_once("\r\n\r\n").map_or(response, |(h, _)| h);
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}
