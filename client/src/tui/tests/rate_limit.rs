//! The network task against a real (in-process) server with a tiny command bucket: commands the
//! server refuses for coming too fast are re-sent by themselves under the same request ids,
//! reported as `SlowedDown` (never `Rejected`), and every one is applied exactly once.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use warren_protocol::{Command, RequestId, ServerMessage};
use warren_server::limits::Limits;
use warren_server::rate_limit::RateLimits;
use warren_server::server::bind_store_with;
use warren_server::service::workspace;
use warren_server::store::{self, Store};

use crate::endpoint::Endpoint;
use crate::tui::net::{self, NetEvent, NetRequest, Target};

const CHANGES: usize = 12;

async fn next(events: &mut mpsc::UnboundedReceiver<NetEvent>) -> NetEvent {
    tokio::time::timeout(Duration::from_secs(30), events.recv())
        .await
        .expect("a network event within 30 s")
        .expect("the network task is running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_commands_are_sent_again_and_all_land_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let done = store::create_with(dir.path(), |s| workspace::bootstrap(s, "ada", "Acme"))
        .expect("a store");
    let store = Store::open(dir.path()).expect("open");
    let limits = Limits {
        rates: RateLimits {
            commands_per_second: 4.0,
            commands_burst: 4,
            ..RateLimits::off()
        },
        ..Limits::default()
    };
    let bound = bind_store_with(store, "127.0.0.1:0", limits)
        .await
        .expect("bind");
    let addr = bound.local_addr;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.run(async {
        let _ = stopped.await;
    }));

    let target = Target {
        endpoint: Endpoint::parse(&format!("http://{addr}")).expect("url"),
        token: done.token.token.clone(),
        workspace: None,
    };
    let (requests, requests_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let task = tokio::spawn(net::run(
        target,
        requests_rx,
        events_tx,
        crate::room::Room::unbounded(),
    ));

    let room = loop {
        if let NetEvent::Push(message) = next(&mut events).await
            && let ServerMessage::Snapshot { state } = *message
        {
            break state.rooms[0].id.clone();
        }
    };
    let mut waiting = HashSet::new();
    for n in 0..CHANGES {
        let request_id = RequestId::parse(&format!("tui-rl-{n}")).expect("id");
        waiting.insert(request_id.clone());
        requests
            .send(NetRequest::Command {
                request_id,
                command: Command::PostMessage {
                    message_id: None,
                    room_id: room.clone(),
                    body: format!("message {n}"),
                },
            })
            .expect("send");
    }
    let mut slowed = 0;
    let mut seqs = HashSet::new();
    while !waiting.is_empty() {
        match next(&mut events).await {
            NetEvent::Acked(id, ack) => {
                assert!(waiting.remove(&id), "one ack per change: {id}");
                assert!(!ack.duplicate, "never applied before");
                seqs.insert(ack.seq);
            }
            NetEvent::SlowedDown { retry_in } => {
                assert!(retry_in > Duration::ZERO && retry_in <= Duration::from_secs(1));
                slowed += 1;
            }
            NetEvent::Rejected(id, error) => panic!("{id} rejected: {error}"),
            _ => {}
        }
    }
    assert!(slowed > 0, "the bucket of 4 refused some of the {CHANGES}");
    assert_eq!(seqs.len(), CHANGES, "each change is its own event");
    drop(requests);
    let _ = task.await;
    let _ = stop.send(());
    let _ = server.await;
}

#[test]
fn a_reconnect_after_429_waits_at_least_retry_after_and_keeps_its_jitter() {
    use crate::error::ClientError;
    let limited = ClientError::RateLimited {
        server: "http://127.0.0.1:1".into(),
        message: "slow down".into(),
        retry_after_ms: 5000,
    };
    let refused = ClientError::Unreachable {
        server: "http://127.0.0.1:1".into(),
        reason: "connection refused".into(),
    };
    for _ in 0..50 {
        let delay = net::reconnect_delay(net::FIRST_BACKOFF, &limited);
        assert!(
            delay >= Duration::from_secs(5) && delay <= Duration::from_millis(5250),
            "{delay:?}"
        );
        let delay = net::reconnect_delay(net::MAX_BACKOFF, &limited);
        assert!(
            delay >= net::MAX_BACKOFF,
            "the longer back-off wins: {delay:?}"
        );
        let delay = net::reconnect_delay(net::FIRST_BACKOFF, &refused);
        assert!(
            delay >= net::FIRST_BACKOFF && delay <= net::FIRST_BACKOFF * 11 / 10,
            "{delay:?}"
        );
    }
}

/// The full-screen client's own queries, measured on its update logic: opening every room asks
/// for one page each, and holding the key that scrolls up (key repeat, hundreds of presses) asks
/// for one older page at a time, only after the previous one arrived. That is far below the
/// default query bucket (20 a second, bursts of 200; `docs/deploy.md`).
#[test]
fn start_up_and_scrolling_stay_far_below_the_default_query_bucket() {
    use crate::tui::tests::fixture::*;
    use warren_protocol::Message;

    let pages = |app: &mut crate::tui::app::App| {
        app.outbound
            .drain(..)
            .filter(|r| matches!(r, NetRequest::Messages { .. }))
            .count()
    };
    let mut app = sample_app();
    press(&mut app, "2");
    let mut asked = pages(&mut app);
    press(&mut app, "]]]]");
    asked += pages(&mut app);
    assert!(
        (1..=2).contains(&asked),
        "one first page per room (two rooms): {asked}"
    );

    // Answer the current room's first page with 100 messages and more to come, then hold `k`.
    let room = app.current_room().expect("a room");
    let page: Vec<Message> = (0..100u8)
        .map(|n| message(n, &room, &other(), 100 + u64::from(n), "hi"))
        .collect();
    app.on_net(NetEvent::Page {
        room_id: room.clone(),
        messages: page,
        has_more: true,
    });
    app.outbound.clear();
    for _ in 0..300 {
        press(&mut app, "k");
    }
    let older = pages(&mut app);
    assert_eq!(
        older, 1,
        "one older page while it loads, however long the key is held"
    );
    let limits = warren_server::rate_limit::RateLimits::default();
    assert!((asked + older) as u32 * 10 < limits.queries_burst);
}
