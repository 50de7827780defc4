//! A flood of refused authentications is logged at a bounded rate: the first refusal from an
//! address as it happens, the rest as one count per interval — never one line each.

use std::net::IpAddr;

use tokio::io::AsyncWriteExt;
use warren_e2e::Server;
use warren_e2e::raw::{connect_from, read_to_close, status_of};

const REFUSALS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_authentications_are_logged_as_a_count() {
    // The flood is about logging: the per-address limit on failures (429) is off here.
    let server = Server::start_with(&[
        "--auth-log-interval",
        "0.5",
        "--failed-auth-per-minute",
        "0",
    ])
    .await;
    let from = IpAddr::from([127, 0, 0, 1]);
    for n in 0..REFUSALS {
        let mut stream = connect_from(from, server.addr).await;
        let token = if n % 2 == 0 {
            "Authorization: Bearer wrn_AAAAAAAAAAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        } else {
            ""
        };
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{token}\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let answer = read_to_close(&mut stream).await;
        assert_eq!(status_of(&answer), Some(401), "{answer}");
    }
    // Wait (bounded) for the interval's count line.
    let expected = format!(
        "{} more refused authentications from 127.0.0.1",
        REFUSALS - 1
    );
    let mut logs = server.logs();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !logs.contains("more refused authentications from 127.0.0.1") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no count line in the log:\n{logs}"
        );
        // Polling the log file: a short pause between reads, not a guess at how long it takes.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        logs = server.logs();
    }
    let refusal_lines: Vec<&str> = logs.lines().filter(|l| l.contains("refused")).collect();
    assert!(
        refusal_lines.len() <= 4,
        "{REFUSALS} refusals took {} log lines:\n{}",
        refusal_lines.len(),
        refusal_lines.join("\n")
    );
    // Every refusal is accounted for: one logged as it happened, the rest counted (the flood may
    // straddle an interval boundary, so the counts may be split over several lines).
    let counted: usize = refusal_lines
        .iter()
        .filter_map(|l| {
            let at = l.find(" more refused authentications from 127.0.0.1")?;
            l[..at].rsplit(' ').next()?.parse::<usize>().ok()
        })
        .sum();
    let first_lines = refusal_lines
        .iter()
        .filter(|l| l.contains("refused authentication from 127.0.0.1"))
        .count();
    assert_eq!(
        counted + first_lines,
        REFUSALS,
        "every refusal is counted ({expected}):\n{}",
        refusal_lines.join("\n")
    );
    assert!(!logs.contains("wrn_AAAA"), "tokens are never logged");
}
