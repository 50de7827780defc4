//! An idle, subscribed connection is cheap: the real server's resident memory (`VmRSS`) grows by
//! at most 30 KiB per connection (it was ~143 KiB with tungstenite's default 128 KiB buffers).
//! `cargo bench -p warren-e2e --bench sync` (phase 4) measures the same with 1,000 connections.

use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Server, connect_hello};

const CONNECTIONS: usize = 300;
const LIMIT_KIB: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscribed_connection_costs_at_most_30_kib() {
    // Hundreds of connections with one token from one address: past the connection-rate limits
    // by design.
    let server = Server::start_with(
        &[&["--max-connections-per-ip", "100000"][..], &NO_RATE_LIMITS].concat(),
    )
    .await;
    // One connection first, so one-time allocations are in the baseline.
    let mut first = connect_hello(server.addr, &server.token).await;
    let head = first.subscribe(None).await.synced;
    let before = server.rss_kib();
    let mut open = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut client = connect_hello(server.addr, &server.token).await;
        client.subscribe(Some(head)).await;
        open.push(client);
    }
    let after = server.rss_kib();
    let per_connection = after.saturating_sub(before) / CONNECTIONS as u64;
    eprintln!("VmRSS {before} KiB -> {after} KiB: {per_connection} KiB per idle connection");
    assert!(
        per_connection <= LIMIT_KIB,
        "{CONNECTIONS} idle subscribed connections cost {per_connection} KiB each (limit {LIMIT_KIB} KiB)"
    );
}
