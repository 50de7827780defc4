//! Bad input gets a precise error and hurts no one else: every malformed frame is answered with
//! its error code while another client keeps working, oversized frames are refused (or the
//! socket closed with 1009 past the hard limit), and bad tokens never get an upgrade.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use warren_e2e::client::{Client, ConnectError, ConnectOptions, connect_with};
use warren_e2e::{Fixture, Server, connect, connect_hello, create_card};
use warren_protocol::ErrorCode;

/// Sends `text` and waits for the next request-less error; returns its code.
async fn loose_error(client: &mut Client, text: String) -> ErrorCode {
    let before = client.loose_errors.len();
    client.send_text(text).await.expect("send");
    client
        .expect_until("an error frame", |c| c.loose_errors.len() > before)
        .await;
    client.loose_errors[before].0
}

/// Sends `frame` (which carries `request_id`) and returns the code of the error answering it.
async fn answered_error(
    client: &mut Client,
    request_id: &str,
    frame: serde_json::Value,
) -> ErrorCode {
    client.send_json(&frame).await.expect("send");
    client.error_code(request_id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_precise_errors_while_others_keep_working() {
    let server = Server::start().await;
    let mut good = connect_hello(server.addr, &server.token).await;
    let fixture = Fixture::from_state(&good.snapshot().await);

    // A good client keeps creating cards the whole time.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (stop, acked, board) = (stop.clone(), acked.clone(), fixture.board.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ack = good.command(&create_card(&board, "still working")).await;
                assert!(!ack.duplicate);
                acked.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    // Before hello: hello_required, echoing the request id, and the connection stays usable.
    let mut bad = connect(server.addr, &server.token).await;
    let code = answered_error(
        &mut bad,
        "early-1",
        json!({"type": "command", "request_id": "early-1",
               "command": {"type": "delete_card", "card_id": "card_abc"}}),
    )
    .await;
    assert_eq!(code, ErrorCode::HelloRequired);
    bad.hello().await;
    let before_bad = acked.load(Ordering::Relaxed);

    assert_eq!(
        loose_error(&mut bad, "{not json".into()).await,
        ErrorCode::BadFrame
    );
    assert_eq!(
        loose_error(&mut bad, "[1, 2]".into()).await,
        ErrorCode::BadFrame
    );
    assert_eq!(
        loose_error(&mut bad, r#"{"type":"launch"}"#.into()).await,
        ErrorCode::UnknownType
    );
    assert_eq!(
        answered_error(
            &mut bad,
            "missing-1",
            json!({"type": "command", "request_id": "missing-1",
                   "command": {"type": "create_card", "title": "no board"}}),
        )
        .await,
        ErrorCode::InvalidField
    );
    assert_eq!(
        answered_error(
            &mut bad,
            "badid-1",
            json!({"type": "command", "request_id": "badid-1",
                   "command": {"type": "delete_card", "card_id": "NOPE"}}),
        )
        .await,
        ErrorCode::InvalidId
    );
    assert_eq!(
        answered_error(
            &mut bad,
            "unknown-cmd-1",
            json!({"type": "command", "request_id": "unknown-cmd-1",
                   "command": {"type": "explode"}}),
        )
        .await,
        ErrorCode::UnknownType
    );
    // A request id that is itself malformed cannot be echoed.
    assert_eq!(
        loose_error(
            &mut bad,
            json!({"type": "command", "request_id": "has space",
                   "command": {"type": "delete_card", "card_id": "card_abc"}})
            .to_string()
        )
        .await,
        ErrorCode::InvalidId
    );

    // Over max_frame_bytes but under the hard limit: refused, connection stays open.
    let big = json!({"type": "ping", "nonce": 1, "pad": "x".repeat(300 * 1024)}).to_string();
    assert_eq!(loose_error(&mut bad, big).await, ErrorCode::FrameTooLarge);
    bad.ping(7)
        .await
        .expect("the connection still answers ping");

    // Binary frames are refused, connection stays open.
    bad.send_raw(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send binary");
    bad.expect_until("binary_frame", |c| {
        c.loose_errors
            .iter()
            .any(|(code, _)| *code == ErrorCode::BinaryFrame)
    })
    .await;
    bad.ping(8).await.expect("still open after a binary frame");

    // Past the 4 MiB hard limit: the socket is closed with 1009.
    let huge = json!({"type": "ping", "nonce": 2, "pad": "y".repeat(5 * 1024 * 1024)}).to_string();
    let _ = bad.send_text(huge).await;
    let code = bad.wait_closed(Duration::from_secs(10)).await;
    assert_eq!(code, Ok(Some(1009)), "close code past the hard frame limit");

    // Meanwhile the good client kept getting acks.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while acked.load(Ordering::Relaxed) < before_bad + 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the good client stalled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    worker.await.expect("the good client never failed");
    // And the server is still healthy for new connections.
    let mut after = connect_hello(server.addr, &server.token).await;
    after.ping(9).await.expect("ping after the bad client left");
}

/// Connects with the given `Authorization` header and expects a 401 `unauthorized` JSON body.
async fn assert_unauthorized(server: &Server, authorization: Option<String>) {
    let options = ConnectOptions {
        authorization: authorization.clone(),
        recv_buffer: None,
    };
    match connect_with(server.addr, &options).await {
        Err(ConnectError::Http { status, body }) => {
            assert_eq!(status, 401, "{authorization:?}");
            let body: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("the 401 body is not JSON ({e}): {body}"));
            assert_eq!(body["code"], "unauthorized", "{body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
            let fields: Vec<&String> = body.as_object().expect("an object").keys().collect();
            assert_eq!(fields.len(), 2, "exactly code and message: {body}");
        }
        Err(other) => panic!("{authorization:?}: expected HTTP 401, got {other:?}"),
        Ok(_) => panic!("{authorization:?}: the server upgraded without a valid token"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_wrong_and_revoked_tokens_get_401_without_upgrade() {
    let mut server = Server::start().await;
    assert_unauthorized(&server, None).await;
    assert_unauthorized(&server, Some("Bearer wrn_not_a_real_token".into())).await;
    assert_unauthorized(&server, Some("Bearer ".into())).await;
    assert_unauthorized(&server, Some(format!("Basic {}", server.token))).await;
    let mut forged = server.token.clone();
    let last = forged.pop().expect("a non-empty token");
    forged.push(if last == 'a' { 'b' } else { 'a' });
    assert_unauthorized(&server, Some(format!("Bearer {forged}"))).await;

    // Revocation: tokens are managed with the server stopped (redb locks the file).
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success());
    let kept = server.create_token("ada", "kept").await;
    let revoked = server.create_token("ada", "revoked").await;
    server.revoke_token(&revoked.id).await;
    server.restart().await;

    assert_unauthorized(&server, Some(format!("Bearer {}", revoked.token))).await;
    let mut ok = connect_hello(server.addr, &kept.token).await;
    ok.ping(1).await.expect("the kept token works");
    let mut owner = connect_hello(server.addr, &server.token).await;
    owner.ping(2).await.expect("the init token still works");
}
