//! A slow reader never slows anyone else and never loses an event: when its queue overflows it
//! gets a `resync` notice and then the rest of the stream, gap-free and duplicate-free.

use std::collections::VecDeque;

use warren_e2e::client::{ConnectOptions, connect_with};
use warren_e2e::model::assert_gap_free;
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, connect_hello, post_message};

/// Far more events than the 1,024-frame queue plus what the kernel buffers for a reader that
/// does not read: the server's send buffer autotunes up to `tcp_wmem` max (4 MiB by default),
/// so the messages are 4 KiB each rather than tiny.
const EVENTS: u64 = 4000;
/// Bytes of each message body.
const BODY: usize = 4096;
/// Commands the producer keeps in flight.
const WINDOW: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_resynced_and_misses_nothing() {
    // 4,000 commands through one token as fast as possible: past the rate limits by design.
    let server = Server::start_with(&NO_RATE_LIMITS).await;
    let options = ConnectOptions {
        authorization: Some(format!("Bearer {}", server.token)),
        recv_buffer: Some(4096),
    };
    let mut slow = connect_with(server.addr, &options)
        .await
        .expect("connect the slow reader");
    slow.hello().await;
    let sub = slow.subscribe(None).await;
    let fixture = Fixture::from_state(&sub.snapshot.expect("snapshot"));
    let start = sub.synced;

    // A fast subscriber reads along the whole time and must never need a resync.
    let mut fast = connect_hello(server.addr, &server.token).await;
    let fast_start = fast.subscribe(Some(start)).await.synced;
    let head = start + EVENTS;
    let fast_task = tokio::spawn(async move {
        fast.expect_until("the fast reader reaching the head", |c| {
            c.events.last().is_some_and(|e| e.seq >= head)
        })
        .await;
        fast
    });

    // The producer: many small chat messages, pipelined.
    let mut producer = connect_hello(server.addr, &server.token).await;
    let mut pending = VecDeque::new();
    let mut sent = 0;
    let mut last_ack = 0;
    while sent < EVENTS || !pending.is_empty() {
        while sent < EVENTS && pending.len() < WINDOW {
            let id = producer
                .send_command(&post_message(
                    &fixture.room,
                    &format!("{sent:06}{}", "x".repeat(BODY - 6)),
                ))
                .await
                .expect("send");
            pending.push_back(id);
            sent += 1;
        }
        let id = pending.pop_front().expect("something is pending");
        last_ack = last_ack.max(producer.ack(&id).await.seq);
    }
    assert_eq!(last_ack, head);

    let ss = std::process::Command::new("ss")
        .args(["-tnmi", "state", "established"])
        .output()
        .expect("ss");
    eprintln!("{}", String::from_utf8_lossy(&ss.stdout));
    // Only now does the slow reader read.
    slow.expect_until("the slow reader reaching the head", |c| {
        c.events.last().is_some_and(|e| e.seq >= head)
    })
    .await;
    eprintln!(
        "slow reader: resyncs {:?} at event positions {:?}, {} events",
        slow.resyncs,
        slow.resync_positions,
        slow.events.len()
    );
    assert!(
        !slow.resyncs.is_empty(),
        "the slow reader should have overflowed its queue and been resynced"
    );
    for (from, position) in slow.resyncs.iter().zip(&slow.resync_positions) {
        let last_delivered = if *position == 0 {
            start
        } else {
            slow.events[position - 1].seq
        };
        assert_eq!(
            *from, last_delivered,
            "resync.from is the last event delivered before it"
        );
    }
    assert!(
        slow.snapshots.len() == 1,
        "a resync replays, it does not snapshot"
    );
    assert_gap_free(&slow.events, start, head, "the slow reader");

    let fast = fast_task.await.expect("the fast reader kept up");
    assert!(
        fast.resyncs.is_empty(),
        "the fast reader was never resynced"
    );
    assert_gap_free(&fast.events, fast_start, head, "the fast reader");
}
