//! A signed-in client that pipelines commands or queries and never reads its socket must not
//! grow the server without limit: its answers wait in a bounded queue, the server stops reading
//! from it when that is full, and drops it once it has left a frame unread for the write timeout.
//! Meanwhile another client (the canary) keeps working. Memory is read from the real server
//! process (`VmRSS`).

use serde_json::json;
use warren_e2e::client::{ConnectOptions, connect_with};
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, connect_hello, post_message};
use warren_protocol::Query;

/// Frames the flooder tries to send; far more than the server may buffer for it.
const COMMAND_FLOOD: usize = 20_000;
const QUERY_FLOOD: usize = 2_000;
/// How much the server's resident memory may grow while it is flooded.
const GROWTH_LIMIT_KIB: u64 = 96 * 1024;

struct Flooded {
    /// Frames the flooder got out before the server stopped it.
    sent: usize,
    /// Whether the server disconnected the flooder.
    dropped: bool,
    /// Peak `VmRSS` growth over the start, in KiB.
    growth_kib: u64,
    /// Canary rounds (a command and a query, each answered) during the flood.
    canary_rounds: usize,
}

async fn flood(
    server: &Server,
    frames: usize,
    frame: impl Fn(usize) -> String + Send + 'static,
) -> Flooded {
    let mut canary = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&canary.snapshot().await);
    let baseline = server.rss_kib();
    let options = ConnectOptions {
        authorization: Some(format!("Bearer {}", server.token)),
        recv_buffer: Some(4096),
    };
    let mut flooder = connect_with(server.addr, &options).await.expect("connect");
    flooder.hello().await;
    let task = tokio::spawn(async move {
        for n in 0..frames {
            if flooder.send_text(frame(n)).await.is_err() {
                return (n, true);
            }
        }
        (frames, false)
    });
    let mut peak = baseline;
    let mut rounds = 0;
    while !task.is_finished() {
        canary
            .command(&post_message(&fixture.room, &format!("canary {rounds}")))
            .await;
        canary
            .query(&Query::Messages {
                room_id: fixture.room.clone(),
                before: None,
                limit: 1,
            })
            .await;
        rounds += 1;
        peak = peak.max(server.rss_kib());
    }
    let (sent, dropped) = task.await.expect("the flood task");
    // The canary still works after the flood.
    canary
        .command(&post_message(&fixture.room, "canary after"))
        .await;
    Flooded {
        sent,
        dropped,
        growth_kib: peak.saturating_sub(baseline),
        canary_rounds: rounds,
    }
}

fn check(what: &str, frames: usize, flooded: &Flooded, server: &Server) {
    eprintln!(
        "{what}: sent {} of {frames}, dropped {}, RSS growth {} KiB, canary rounds {}",
        flooded.sent, flooded.dropped, flooded.growth_kib, flooded.canary_rounds
    );
    assert!(
        flooded.dropped && flooded.sent < frames,
        "{what}: the server must stop reading from a client that does not read, then drop it \
         (sent {} of {frames}):\n{}",
        flooded.sent,
        server.logs()
    );
    assert!(
        flooded.growth_kib < GROWTH_LIMIT_KIB,
        "{what}: the server grew by {} KiB",
        flooded.growth_kib
    );
    assert!(flooded.canary_rounds >= 1, "{what}: the canary was served");
    assert!(
        server
            .logs()
            .contains("disconnected a client that left frames unread"),
        "{what}: the drop is logged:\n{}",
        server.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_flood_that_is_never_read_stays_bounded() {
    // Thousands of requests through one token: past the rate limits by design.
    let server =
        Server::start_with(&[&["--write-timeout", "2"][..], &NO_RATE_LIMITS].concat()).await;
    let state = connect_hello(server.addr, &server.token)
        .await
        .snapshot()
        .await;
    let room = Fixture::from_state(&state).room;
    let body = "m".repeat(2000);
    let flooded = flood(&server, COMMAND_FLOOD, move |n| {
        json!({
            "type": "command",
            "request_id": format!("flood-{n}"),
            "command": post_message(&room, &body),
        })
        .to_string()
    })
    .await;
    check("command flood", COMMAND_FLOOD, &flooded, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_flood_that_is_never_read_stays_bounded() {
    // Thousands of requests through one token: past the rate limits by design.
    let server =
        Server::start_with(&[&["--write-timeout", "2"][..], &NO_RATE_LIMITS].concat()).await;
    let mut seeder = connect_hello(server.addr, &server.token).await;
    let room = Fixture::from_state(&seeder.snapshot().await).room;
    // 100 messages of 4,000 characters: each page answer is ~400 KB.
    let body = "q".repeat(4000);
    let mut pending = Vec::new();
    for _ in 0..100 {
        pending.push(
            seeder
                .send_command(&post_message(&room, &body))
                .await
                .expect("send"),
        );
    }
    for id in pending {
        seeder.ack(&id).await;
    }
    // Each query is padded to 8 KB (whitespace is valid JSON) so that the flood is larger than
    // what the kernel buffers on its way to a server that has stopped reading.
    let pad = " ".repeat(8000);
    let flooded = flood(&server, QUERY_FLOOD, move |n| {
        pad.clone()
            + &json!({
                "type": "query",
                "request_id": format!("flood-{n}"),
                "query": Query::Messages { room_id: room.clone(), before: None, limit: 500 },
            })
            .to_string()
    })
    .await;
    check("query flood", QUERY_FLOOD, &flooded, &server);
}
