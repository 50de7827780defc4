//! The plain HTTP answers of the server: `/healthz` without auth, and `/ws` requests that are
//! not WebSocket upgrades.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use warren_e2e::{Server, connect_hello};

/// Sends one HTTP/1.1 GET and returns (status, body).
async fn get(server: &Server, path: &str, headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{headers}\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("the server answers in time")
    .expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_without_a_token_and_counts_connections() {
    let server = Server::start().await;
    let (status, body) = get(&server, "/healthz", "").await;
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["protocol"], 1);
    assert_eq!(health["connections"], 0);

    let _client = connect_hello(server.addr, &server.token).await;
    let (_, body) = get(&server, "/healthz", "").await;
    let health: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(health["connections"], 1, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_get_of_ws_with_a_good_token_is_400_bad_frame() {
    let server = Server::start().await;
    let auth = format!("Authorization: Bearer {}\r\n", server.token);
    let (status, body) = get(&server, "/ws", &auth).await;
    assert_eq!(status, 400, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(error["code"], "bad_frame", "{error}");
    let (status, body) = get(&server, "/ws", "").await;
    assert_eq!(status, 401, "{body}");
}
