//! Durability: an acked command survives `kill -9` and a graceful SIGTERM, and the stored event
//! stream stays gap-free across both.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use warren_e2e::client::Gone;
use warren_e2e::model::assert_gap_free;
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, connect_hello, create_card, post_message};
use warren_protocol::{Change, Event, ServerMessage};

const WRITERS: usize = 6;
/// Commands each writer keeps in flight.
const WINDOW: usize = 4;

/// What a writer saw before its connection ended.
struct Written {
    acked: Vec<Event>,
    /// Commands sent but never answered when the connection ended.
    unanswered: usize,
    close_code: Option<u16>,
}

/// Sends commands (cards and messages, alternating) with [`WINDOW`] in flight until the
/// connection ends, and returns every acked event and the close code.
async fn writer(
    index: usize,
    addr: SocketAddr,
    token: String,
    fixture: Fixture,
    acks: Arc<AtomicUsize>,
) -> Written {
    let mut client = connect_hello(addr, &token).await;
    let mut pending: VecDeque<String> = VecDeque::new();
    let mut acked = Vec::new();
    let mut k = 0usize;
    let ended = loop {
        while pending.len() < WINDOW {
            k += 1;
            let command = if k.is_multiple_of(2) {
                create_card(&fixture.board, &format!("w{index} card {k}"))
            } else {
                post_message(&fixture.room, &format!("w{index} message {k}"))
            };
            match client.send_command(&command).await {
                Ok(id) => pending.push_back(id),
                Err(_) => break,
            }
        }
        let Some(front) = pending.pop_front() else {
            break client.wait_closed(Duration::from_secs(15)).await;
        };
        match client.try_answer(&front).await {
            Ok(ServerMessage::Ack { event, .. }) => {
                acked.push(event);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Ok(ServerMessage::Error { code, .. }) => {
                assert_eq!(
                    code,
                    warren_protocol::ErrorCode::ShuttingDown,
                    "the only acceptable error here is shutting_down"
                );
            }
            Ok(other) => panic!("unexpected answer {other:?}"),
            Err(Gone::Closed(_)) => break client.wait_closed(Duration::from_secs(1)).await,
            Err(Gone::Timeout) => panic!("writer {index}: no answer within the wait"),
        }
    };
    Written {
        acked,
        unanswered: pending.len(),
        close_code: ended.ok().flatten(),
    }
}

struct Load {
    tasks: Vec<tokio::task::JoinHandle<Written>>,
    acks: Arc<AtomicUsize>,
}

async fn start_load(server: &Server, fixture: &Fixture) -> Load {
    let acks = Arc::new(AtomicUsize::new(0));
    let tasks = (0..WRITERS)
        .map(|i| {
            tokio::spawn(writer(
                i,
                server.addr,
                server.token.clone(),
                fixture.clone(),
                acks.clone(),
            ))
        })
        .collect();
    // Bounded polling: wait until the load is really flowing.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acks.load(Ordering::Relaxed) < 200 {
        assert!(Instant::now() < deadline, "the writers made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Load { tasks, acks }
}

async fn finish_load(load: Load) -> Vec<Written> {
    let mut all = Vec::new();
    for task in load.tasks {
        all.push(task.await.expect("a writer panicked"));
    }
    assert!(load.acks.load(Ordering::Relaxed) >= 200);
    let unanswered: usize = all.iter().map(|w| w.unanswered).sum();
    eprintln!(
        "{} commands acked, {unanswered} in flight when the connection ended",
        load.acks.load(Ordering::Relaxed)
    );
    all
}

/// After a restart: the stored stream is gap-free from seq 1, and every acked event is stored
/// unchanged, with its card or message present in the state.
async fn assert_acked_survived(server: &Server, fixture: &Fixture, written: &[Written]) {
    let mut client = connect_hello(server.addr, &server.token).await;
    let (events, head) = client.all_events().await;
    assert_gap_free(&events, 0, head, "the stored stream");
    let state = client.snapshot().await;
    assert_eq!(state.seq, head);
    let cards: HashSet<_> = state.cards.iter().map(|c| c.id.clone()).collect();
    let messages: HashSet<_> = client
        .all_messages(&fixture.room)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut checked = 0;
    for event in written.iter().flat_map(|w| &w.acked) {
        let stored = events
            .get((event.seq - 1) as usize)
            .unwrap_or_else(|| panic!("acked seq {} is beyond the head {head}", event.seq));
        assert_eq!(stored, event, "the stored event equals the acked one");
        match &event.change {
            Change::CardCreated { card } => {
                assert!(cards.contains(&card.id), "acked card {} lost", card.id)
            }
            Change::MessagePosted { message } => assert!(
                messages.contains(&message.id),
                "acked message {} lost",
                message.id
            ),
            other => panic!("unexpected change {other:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 200, "only {checked} acked commands to check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_commands_survive_kill_9() {
    // Writers on one token send as fast as the server commits: past the rate limits by design.
    let mut server = Server::start_with(&NO_RATE_LIMITS).await;
    let mut setup = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&setup.snapshot().await);
    setup.close().await;

    let load = start_load(&server, &fixture).await;
    server.kill_9().await;
    let written = finish_load(load).await;
    assert!(
        written.iter().any(|w| w.unanswered > 0),
        "the kill should land while commands are in flight"
    );

    server.restart().await;
    assert_acked_survived(&server, &fixture, &written).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_closes_with_1001_and_exits_0() {
    // Writers on one token send as fast as the server commits: past the rate limits by design.
    let mut server = Server::start_with(&NO_RATE_LIMITS).await;
    let mut idle = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&idle.subscribe(None).await.snapshot.expect("snapshot"));

    let load = start_load(&server, &fixture).await;
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(20)).await;
    let written = finish_load(load).await;
    assert!(status.success(), "warren-server exited with {status}");
    assert_eq!(status.code(), Some(0));
    for (i, w) in written.iter().enumerate() {
        assert_eq!(
            w.close_code,
            Some(1001),
            "writer {i} should get close code 1001"
        );
    }
    let idle_code = idle.wait_closed(Duration::from_secs(5)).await;
    assert_eq!(
        idle_code,
        Ok(Some(1001)),
        "an idle subscriber gets 1001 too"
    );

    server.restart().await;
    assert_acked_survived(&server, &fixture, &written).await;
}
