//! Phase 4: the server's memory per idle subscribed connection. Starts the real `warren-server`
//! binary (so its resident memory is its own, not the benchmark clients'), reads `VmRSS` from
//! `/proc/PID/status`, opens `clients` connections that each say `hello`, subscribe from the
//! head and wait for `synced`, and reads `VmRSS` again.

use anyhow::{Context, Result};
use warren_e2e::Server;

use crate::ws;

/// What phase 4 measured.
pub struct Memory {
    pub clients: usize,
    pub before_kib: u64,
    pub after_kib: u64,
}

impl Memory {
    /// KiB per connection.
    pub fn per_connection_kib(&self) -> f64 {
        self.after_kib.saturating_sub(self.before_kib) as f64 / self.clients.max(1) as f64
    }
}

/// Runs phase 4 with `clients` idle subscribed connections.
pub async fn idle_connections(clients: usize) -> Result<Memory> {
    // Thousands of connections with one token from one address: no caps, no rate limits.
    let mut args = vec!["--max-connections-per-ip", "1000000"];
    args.extend_from_slice(&warren_e2e::server::NO_RATE_LIMITS);
    let server = Server::start_with(&args).await;
    let addr = server.addr;
    // One connection first, so that everything allocated once (the store's first pages, the
    // runtime's lazily started workers) is in the baseline.
    let mut first = ws::connect(addr, Some(&server.token)).await?;
    ws::hello(&mut first).await?;
    ws::send(&mut first, r#"{"type":"subscribe"}"#.into()).await?;
    let synced = ws::expect(&mut first, "synced").await?;
    let head = synced["seq"].as_u64().context("synced without seq")?;
    let before_kib = server.rss_kib();
    let mut open = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut socket = ws::connect(addr, Some(&server.token)).await?;
        ws::hello(&mut socket).await?;
        ws::send(
            &mut socket,
            format!(r#"{{"type":"subscribe","since":{head}}}"#),
        )
        .await?;
        ws::expect(&mut socket, "synced").await?;
        open.push(socket);
    }
    let after_kib = server.rss_kib();
    drop(open);
    drop(first);
    Ok(Memory {
        clients,
        before_kib,
        after_kib,
    })
}
