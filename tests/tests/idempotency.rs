//! Request ids make retries safe: a command re-sent under the same request id is applied once,
//! on the same connection, on a new one, and when both copies arrive back to back.

use std::time::Duration;

use warren_e2e::{Fixture, Server, connect_hello, create_card};
use warren_protocol::{Change, Command};

fn card_count(state: &warren_protocol::WorkspaceState, title: &str) -> usize {
    state.cards.iter().filter(|c| c.title == title).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_id_is_applied_once() {
    let server = Server::start().await;
    let mut observer = connect_hello(server.addr, &server.token).await;
    let sub = observer.subscribe(None).await;
    let fixture = Fixture::from_state(&sub.snapshot.expect("snapshot"));

    let mut client = connect_hello(server.addr, &server.token).await;
    let command = create_card(&fixture.board, "Exactly once");
    client
        .send_command_as("retry-1", &command)
        .await
        .expect("send");
    let first = client.ack("retry-1").await;
    assert!(!first.duplicate);

    // The same id again on the same connection.
    client
        .send_command_as("retry-1", &command)
        .await
        .expect("send");
    let second = client.ack("retry-1").await;
    assert!(second.duplicate, "a re-sent request id is marked duplicate");
    assert_eq!(second.seq, first.seq);
    assert_eq!(second.event, first.event, "the original event, unchanged");

    // And once more after a disconnect, on a new connection, with a different body: the server
    // matches on the request id only.
    client.close().await;
    let mut again = connect_hello(server.addr, &server.token).await;
    again
        .send_command_as("retry-1", &create_card(&fixture.board, "Different"))
        .await
        .expect("send");
    let third = again.ack("retry-1").await;
    assert!(third.duplicate);
    assert_eq!(third.event, first.event);

    let state = again.snapshot().await;
    assert_eq!(card_count(&state, "Exactly once"), 1);
    assert_eq!(card_count(&state, "Different"), 0);
    assert_eq!(state.seq, first.seq, "duplicates append no events");

    // Subscribers saw the change once.
    observer
        .expect_until("the one event", |c| !c.events.is_empty())
        .await;
    let quiet = observer
        .read_until(Duration::from_millis(300), |c| c.events.len() > 1)
        .await;
    assert!(quiet.is_err(), "duplicates must not be broadcast");
    assert_eq!(observer.events.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_id_sent_twice_back_to_back_is_applied_once() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    for round in 0..20 {
        let id = format!("burst-{round}");
        let title = format!("Burst {round}");
        let command: Command = create_card(&fixture.board, &title);
        client.send_command_as(&id, &command).await.expect("send");
        client.send_command_as(&id, &command).await.expect("send");
        let a = client.ack(&id).await;
        let b = client.ack(&id).await;
        assert_eq!(a.seq, b.seq, "round {round}: both answers name one event");
        assert_eq!(a.event, b.event);
        assert!(
            a.duplicate != b.duplicate,
            "round {round}: exactly one answer is the original ({} / {})",
            a.duplicate,
            b.duplicate
        );
        assert!(matches!(a.event.change, Change::CardCreated { .. }));
    }
    let state = client.snapshot().await;
    for round in 0..20 {
        assert_eq!(card_count(&state, &format!("Burst {round}")), 1);
    }
}
