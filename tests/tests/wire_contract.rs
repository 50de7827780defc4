//! The points of `docs/protocol.md` a client written from the document alone relies on, checked
//! against the real server: typing reaches the sender's other connections, invalid UTF-8 closes
//! with 1007, an empty `update_card` touches the card, carriage returns never reach storage,
//! the "left vague" rules (§3, §12), and a clean close at shutdown.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use warren_e2e::client::{ConnectError, ConnectOptions, connect_with};
use warren_e2e::{Fixture, Server, connect, connect_hello, create_card, post_message};
use warren_protocol::{Change, ErrorCode, ServerMessage};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_same_users_other_connections_but_not_the_sender() {
    let server = Server::start().await;
    let mut laptop = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&laptop.subscribe(None).await.snapshot.expect("snapshot"));
    let mut phone = connect_hello(server.addr, &server.token).await;
    phone.subscribe(None).await;
    laptop
        .send_json(&json!({"type": "typing", "room_id": fixture.room}))
        .await
        .expect("send typing");
    phone
        .expect_until("typing on the other connection", |c| !c.typing.is_empty())
        .await;
    assert_eq!(phone.typing[0].0, fixture.room);
    // The sender gets none: a ping answered after the typing frame proves nothing else came.
    laptop.ping(1).await.expect("ping");
    assert!(laptop.typing.is_empty(), "{:?}", laptop.typing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_utf8_text_frame_gets_bad_frame_and_close_1007() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    client
        .send_raw(Message::Frame(frame))
        .await
        .expect("send the frame");
    let code = client.wait_closed(WAIT).await;
    assert_eq!(code, Ok(Some(1007)), "{:?}", client.loose_errors);
    assert!(
        client
            .loose_errors
            .iter()
            .any(|(code, message)| *code == ErrorCode::BadFrame && message.contains("UTF-8")),
        "{:?}",
        client.loose_errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_card_with_only_its_id_touches_the_card() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    let created = client
        .command(&create_card(&fixture.board, "Touch me"))
        .await;
    let Change::CardCreated { card } = created.event.change else {
        panic!("expected card_created");
    };
    let request_id = client.next_request_id();
    client
        .send_json(&json!({"type": "command", "request_id": request_id,
            "command": {"type": "update_card", "card_id": card.id}}))
        .await
        .expect("send");
    let ack = client.ack(&request_id).await;
    let Change::CardUpdated { card: touched } = ack.event.change else {
        panic!("expected card_updated, got {:?}", ack.event.change);
    };
    assert_eq!(touched.title, card.title);
    assert_eq!(touched.rank, card.rank);
    assert!(touched.updated_at >= card.updated_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carriage_returns_never_reach_storage() {
    let server = Server::start().await;
    let mut client = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&client.snapshot().await);
    let ack = client
        .command(&post_message(
            &fixture.room,
            "public\rsecret overwritten\r\nnext",
        ))
        .await;
    let Change::MessagePosted { message } = ack.event.change else {
        panic!("expected message_posted");
    };
    assert_eq!(message.body, "public\nsecret overwritten\nnext");
    let stored = client.all_messages(&fixture.room).await;
    assert!(stored.iter().all(|m| !m.body.contains('\r')), "{stored:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vague_points_behave_as_documented() {
    let server = Server::start().await;
    // Non-JSON before hello: bad_frame, and the connection stays usable.
    let mut client = connect(server.addr, &server.token).await;
    client.send_text("not json").await.expect("send");
    client
        .expect_until("bad_frame", |c| !c.loose_errors.is_empty())
        .await;
    assert_eq!(client.loose_errors[0].0, ErrorCode::BadFrame);
    client.hello().await;

    // A second hello is answered with a fresh welcome.
    client.hello().await;
    client
        .expect_until("a second welcome", |c| c.welcomes == 2)
        .await;
    let fixture = Fixture::from_state(&client.subscribe(None).await.snapshot.expect("snapshot"));

    // A command without its own type: unknown_type, echoing the request id.
    let id = client.next_request_id();
    client
        .send_json(&json!({"type": "command", "request_id": id, "command": {"name": "x"}}))
        .await
        .expect("send");
    assert_eq!(client.error_code(&id).await, ErrorCode::UnknownType);

    // Integers: nonce is any u64; a negative one is invalid_field; limit 0 is clamped to 1.
    client
        .ping(u64::MAX)
        .await
        .expect("the largest nonce echoes");
    client
        .send_json(&json!({"type": "ping", "nonce": -1}))
        .await
        .expect("send");
    client
        .expect_until("invalid_field", |c| c.loose_errors.len() > 1)
        .await;
    assert_eq!(client.loose_errors[1].0, ErrorCode::InvalidField);
    client.command(&post_message(&fixture.room, "one")).await;
    client.command(&post_message(&fixture.room, "two")).await;
    let id = client.next_request_id();
    client
        .send_json(&json!({"type": "query", "request_id": id,
            "query": {"type": "messages", "room_id": fixture.room, "limit": 0}}))
        .await
        .expect("send");
    client.expect_until("result", |c| c.has_answer(&id)).await;
    match client.take_answer(&id) {
        Some(ServerMessage::Result {
            result: warren_protocol::QueryResult::Messages { messages, .. },
            ..
        }) => assert_eq!(messages.len(), 1, "limit 0 is clamped to 1"),
        other => panic!("expected messages, got {other:?}"),
    }

    // The room topic: up to 200 characters.
    for (len, ok) in [(200, true), (201, false)] {
        let id = client.next_request_id();
        client
            .send_json(&json!({"type": "command", "request_id": id,
                "command": {"type": "create_room", "name": format!("topic-{len}"),
                            "topic": "t".repeat(len)}}))
            .await
            .expect("send");
        client.expect_until("answer", |c| c.has_answer(&id)).await;
        let answer = client.take_answer(&id);
        assert_eq!(
            matches!(answer, Some(ServerMessage::Ack { .. })),
            ok,
            "{len}: {answer:?}"
        );
    }

    // A board needs at least one column.
    let id = client.next_request_id();
    client
        .send_json(&json!({"type": "command", "request_id": id,
            "command": {"type": "create_board", "name": "Empty", "columns": []}}))
        .await
        .expect("send");
    assert_eq!(client.error_code(&id).await, ErrorCode::Validation);

    // Names are trimmed before they are measured.
    let padded = format!("   {}   ", "n".repeat(500));
    client.command(&create_card(&fixture.board, &padded)).await;

    // Labels are the same when their Unicode lowercase forms are.
    let id = client.next_request_id();
    client
        .send_json(&json!({"type": "command", "request_id": id,
            "command": {"type": "create_card", "board_id": fixture.board, "title": "Labels",
                        "labels": ["Über", "über", "Docs", "DOCS", "straße", "STRASSE"]}}))
        .await
        .expect("send");
    match client.ack(&id).await.event.change {
        Change::CardCreated { card } => {
            assert_eq!(card.labels, ["Über", "Docs", "straße", "STRASSE"]);
        }
        other => panic!("expected card_created, got {other:?}"),
    }

    // A body is measured after its trailing whitespace is trimmed, in bytes.
    let limit = warren_protocol::limits::MAX_MESSAGE_BYTES;
    let full = format!("{}\n\n  \n", "é".repeat(limit / 2));
    client.command(&post_message(&fixture.room, &full)).await;
    let id = client
        .send_command(&post_message(
            &fixture.room,
            &format!("{}x", "é".repeat(limit / 2)),
        ))
        .await
        .expect("send");
    assert_eq!(client.error_code(&id).await, ErrorCode::Validation);

    // Server-made events carry no request id.
    let (events, _) = client.all_events().await;
    assert!(events[0].request_id.is_none(), "{:?}", events[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_a_busy_connection_gets_its_answers_then_1001() {
    let mut server = Server::start().await;
    // A small receive window keeps answers waiting in the server's send buffer, as on a slow
    // network: a reset at close would throw them away.
    let options = ConnectOptions {
        authorization: Some(format!("Bearer {}", server.token)),
        recv_buffer: Some(4096),
    };
    let mut busy = connect_with(server.addr, &options)
        .await
        .unwrap_or_else(|e| panic!("connect: {e:?}"));
    busy.hello().await;
    let fixture = Fixture::from_state(&busy.subscribe(None).await.snapshot.expect("snapshot"));
    let mut idle = connect_hello(server.addr, &server.token).await;
    let mut sent = Vec::new();
    // Commands whose answers (and events) pile up unread, then the shutdown.
    for i in 0..200 {
        let id = busy
            .send_command(&create_card(&fixture.board, &format!("card {i}")))
            .await
            .expect("send");
        sent.push(id);
    }
    server.sigterm();
    // The idle connection is closed first: from then on the server is shutting down.
    assert_eq!(idle.wait_closed(WAIT).await, Ok(Some(1001)));
    // Connecting now (the server still drains the busy connection) is refused, never upgraded.
    let attempt = connect_with(
        server.addr,
        &ConnectOptions {
            authorization: Some(format!("Bearer {}", server.token)),
            recv_buffer: None,
        },
    )
    .await;
    match attempt {
        Ok(_) => panic!("a connection was upgraded during shutdown"),
        Err(ConnectError::Http { status, body }) => {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("shutting_down"), "{body}");
        }
        // Refused, or accepted into the backlog just before the listener closed and then reset.
        Err(ConnectError::Other(reason)) => {
            let reason = reason.to_lowercase();
            assert!(
                reason.contains("refused") || reason.contains("reset"),
                "{reason}"
            );
        }
    }
    // More commands the server will not read any more (bounded, in case buffers fill).
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        for i in 0..50 {
            match busy
                .send_command(&create_card(&fixture.board, &format!("late {i}")))
                .await
            {
                Ok(id) => sent.push(id),
                Err(_) => break,
            }
        }
    })
    .await;
    let code = busy.wait_closed(Duration::from_secs(20)).await;
    assert_eq!(code, Ok(Some(1001)), "a close frame, not a reset");
    assert_eq!(
        busy.ended_cleanly(WAIT).await,
        Ok(()),
        "the server waits for our close reply instead of resetting the socket"
    );
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success());
    let mut acked = 0;
    for id in &sent {
        match busy.take_answer(id) {
            Some(ServerMessage::Ack { .. }) => acked += 1,
            Some(ServerMessage::Error { code, .. }) => assert_eq!(code, ErrorCode::ShuttingDown),
            Some(other) => panic!("{id}: unexpected answer {other:?}"),
            // Never read by the server before it closed: not applied (re-send it later).
            None => {}
        }
    }
    assert!(acked >= 1, "the commands in flight were answered");
}
