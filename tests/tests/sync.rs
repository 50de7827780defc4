//! Live sync between clients: events reach every subscriber, concurrent writers converge, and a
//! client resuming with `since` gets exactly what it missed.

use std::time::Duration;

use warren_e2e::model::{Model, assert_gap_free, normalize};
use warren_e2e::server::NO_RATE_LIMITS;
use warren_e2e::{Fixture, Server, connect_hello, create_card, move_card, post_message};
use warren_protocol::{Change, Command, Event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_added_by_one_client_reaches_the_other_live() {
    let server = Server::start().await;
    let mut alice = connect_hello(server.addr, &server.token).await;
    let mut bob = connect_hello(server.addr, &server.token).await;
    let sub = bob.subscribe(None).await;
    let state = sub.snapshot.expect("a first subscribe gets a snapshot");
    let fixture = Fixture::from_state(&state);

    let ack = alice.command(&create_card(&fixture.board, "Ship it")).await;
    assert!(!ack.duplicate);
    let Change::CardCreated { card } = &ack.event.change else {
        panic!("create_card produced {:?}", ack.event.change);
    };
    assert_eq!(card.title, "Ship it");

    bob.expect_until("the card_created event", |c| {
        c.events.iter().any(|e| e.seq == ack.seq)
    })
    .await;
    let seen = bob
        .events
        .iter()
        .find(|e| e.seq == ack.seq)
        .expect("just seen");
    assert_eq!(seen, &ack.event, "the live event equals the ack's event");
    assert_eq!(ack.seq, sub.synced + 1);
}

const CLIENTS: usize = 20;
const COMMANDS: usize = 50;

/// What one concurrent client ends up with.
struct Outcome {
    index: usize,
    replayed_from_start: bool,
    first_seq: u64,
    events: Vec<Event>,
    model: Model,
}

async fn concurrent_client(
    index: usize,
    addr: std::net::SocketAddr,
    token: String,
    fixture: Fixture,
    final_head: u64,
) -> Outcome {
    let mut client = connect_hello(addr, &token).await;
    // Half the clients replay the whole stream from seq 1, half start from a snapshot.
    let replayed_from_start = index.is_multiple_of(2);
    let sub = client
        .subscribe(if replayed_from_start { Some(0) } else { None })
        .await;
    let (mut model, first_seq) = match sub.snapshot {
        Some(state) => {
            assert!(!replayed_from_start, "since=0 must replay, not snapshot");
            let seq = state.seq;
            (Model::new(state), seq)
        }
        None => (Model::empty(), 0),
    };
    let mut my_card = None;
    for k in 0..COMMANDS {
        let command = match (k % 3, &my_card) {
            (2, Some(card)) => move_card(card, &fixture.columns[k % fixture.columns.len()]),
            (1, _) => post_message(&fixture.room, &format!("hello from {index}/{k}")),
            _ => create_card(&fixture.board, &format!("card {index}/{k}")),
        };
        let ack = client.command(&command).await;
        assert!(!ack.duplicate);
        if let Change::CardCreated { card } = &ack.event.change {
            my_card = Some(card.id.clone());
        }
    }
    client
        .expect_until("every event up to the final head", |c| {
            c.events.last().is_some_and(|e| e.seq >= final_head)
        })
        .await;
    let events: Vec<Event> = client.events.clone();
    for event in &events {
        model.apply(event);
    }
    client.close().await;
    Outcome {
        index,
        replayed_from_start,
        first_seq,
        events,
        model,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_clients_converge_on_one_gap_free_stream() {
    // 1,000 commands at once through one token: past the command rate limit by design.
    let server = Server::start_with(&NO_RATE_LIMITS).await;
    let mut observer = connect_hello(server.addr, &server.token).await;
    let initial = observer.snapshot().await;
    let fixture = Fixture::from_state(&initial);
    let final_head = initial.seq + (CLIENTS * COMMANDS) as u64;

    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(concurrent_client(
                i,
                server.addr,
                server.token.clone(),
                fixture.clone(),
                final_head,
            ))
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("a client task panicked"));
    }

    let fresh = observer.snapshot().await;
    assert_eq!(fresh.seq, final_head, "head = initial head + 1000");
    let messages = observer.all_messages(&fixture.room).await;
    assert_eq!(
        messages.len(),
        CLIENTS * COMMANDS.div_ceil(3),
        "one message per post_message"
    );
    let expected = normalize(&fresh);
    for outcome in &outcomes {
        let who = format!("client {}", outcome.index);
        assert_gap_free(&outcome.events, outcome.first_seq, final_head, &who);
        assert_eq!(outcome.model.normalized(), expected, "{who}: rebuilt state");
        if outcome.replayed_from_start {
            let rebuilt: Vec<_> = outcome.model.messages.values().cloned().collect();
            let mut server_side = messages.clone();
            server_side.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(rebuilt, server_side, "{who}: messages");
        }
    }
    // Every client saw the same events, byte for byte, where their ranges overlap.
    let reference = &outcomes[0].events;
    for outcome in &outcomes[1..] {
        for event in &outcome.events {
            let same = &reference[(event.seq - 1) as usize];
            assert_eq!(
                event, same,
                "client {} saw a different event",
                outcome.index
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribing_with_since_replays_exactly_the_missed_events() {
    let server = Server::start().await;
    let mut reader = connect_hello(server.addr, &server.token).await;
    let sub = reader.subscribe(None).await;
    let state = sub.snapshot.expect("first subscribe gets a snapshot");
    let fixture = Fixture::from_state(&state);
    let last_seq = sub.synced;
    reader.close().await;

    let mut writer = connect_hello(server.addr, &server.token).await;
    let mut acked = Vec::new();
    let mut card = None;
    for k in 0..100 {
        let command: Command = match (k % 4, &card) {
            (0, _) | (_, None) => create_card(&fixture.board, &format!("offline {k}")),
            (1, Some(id)) => move_card(id, &fixture.columns[k % fixture.columns.len()]),
            _ => post_message(&fixture.room, &format!("missed message {k}")),
        };
        let ack = writer.command(&command).await;
        if let Change::CardCreated { card: c } = &ack.event.change {
            card = Some(c.id.clone());
        }
        acked.push(ack.event);
    }

    let mut reader = connect_hello(server.addr, &server.token).await;
    let resumed = reader.subscribe(Some(last_seq)).await;
    assert!(
        resumed.snapshot.is_none(),
        "a resume must not send a snapshot"
    );
    assert_eq!(
        resumed.events, acked,
        "exactly the 100 missed events, in order"
    );
    assert_eq!(resumed.synced, last_seq + 100);
    // Nothing else trails the synced frame.
    let extra = reader
        .read_until(Duration::from_millis(300), |c| c.events.len() > 100)
        .await;
    assert!(
        extra.is_err(),
        "no events after synced: {:?}",
        reader.events.len()
    );
    assert_eq!(reader.events.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ahead_of_the_server_gets_a_snapshot_and_a_bad_workspace_not_found() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let head = client.snapshot().await.seq;

    // since > head (a restored server, a corrupt cache): fresh load.
    let sub = client.subscribe(Some(head + 50)).await;
    let state = sub
        .snapshot
        .expect("a client ahead of the server gets a snapshot");
    assert_eq!(state.seq, head);
    assert!(sub.events.is_empty());
    assert_eq!(sub.synced, head);

    // since == head: nothing to replay, no snapshot.
    let sub = client.subscribe(Some(head)).await;
    assert!(sub.snapshot.is_none());
    assert!(sub.events.is_empty());
    assert_eq!(sub.synced, head);

    // A workspace the user is not a member of: not_found, tagged "subscribe".
    client
        .send_json(&serde_json::json!({"type": "subscribe", "workspace_id": "ws_nosuchworkspace"}))
        .await
        .expect("send");
    assert_eq!(
        client.error_code("subscribe").await,
        warren_protocol::ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands_on_one_connection_apply_in_send_order() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    // Another writer interleaves; it must not break this connection's order.
    let mut other = connect_hello(server.addr, &server.token).await;
    let room = fixture.room.clone();
    let noise = tokio::spawn(async move {
        for k in 0..100 {
            other
                .command(&post_message(&room, &format!("noise {k}")))
                .await;
        }
    });

    let mut sent = Vec::new();
    for i in 0u8..60 {
        let card_id = warren_protocol::Id::from_random("card", [i, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
        let mut create = create_card(&fixture.board, &format!("pipelined {i}"));
        if let Command::CreateCard { card_id: id, .. } = &mut create {
            *id = Some(card_id.clone());
        }
        let column = &fixture.columns[usize::from(i) % fixture.columns.len()];
        // Sent back to back: the move names a card that exists only if the create ran first.
        sent.push(client.send_command(&create).await.expect("send"));
        sent.push(
            client
                .send_command(&move_card(&card_id, column))
                .await
                .expect("send"),
        );
    }
    let mut last = 0;
    for id in &sent {
        let ack = client.ack(id).await;
        assert!(
            ack.seq > last,
            "acks of one connection follow the send order"
        );
        last = ack.seq;
    }
    noise.await.expect("the other writer");
}
