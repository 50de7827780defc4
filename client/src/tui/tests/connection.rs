//! The connection screen: a refused token is final and says how to fix it; an unreachable
//! server says where, why and when it tries again — never "Loading the workspace…" forever.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::fixture::*;
use crate::keymap::Keymap;
use crate::theme::Theme;
use crate::tui::app::App;
use crate::tui::net::{self, NetEvent, Target};
use crate::tui::screens::Tab;
use crate::tui::state::ConnState;

fn fresh_app() -> App {
    let (keymap, _) = Keymap::load("default", None);
    let (theme, _) = Theme::load("dark", None);
    App::new(keymap, theme, "http://warren.example:7878".into())
}

fn screen_text(app: &App) -> String {
    format!("{}", draw(app, 80, 24).backend())
}

#[test]
fn an_unreachable_server_says_where_why_and_when() {
    let mut app = fresh_app();
    app.on_net(NetEvent::Connecting);
    insta::assert_snapshot!("connecting", draw(&app, 80, 24).backend());
    app.on_net(NetEvent::Disconnected {
        reason: "nothing is accepting connections there (connection refused) — is warren-server running?".into(),
        retry_at: Some(Instant::now() + Duration::from_millis(4_500)),
    });
    let text = screen_text(&app);
    assert!(!text.contains("Loading the workspace"), "{text}");
    assert!(text.contains("http://warren.example:7878"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.contains("trying again in 5s"), "{text}");
    insta::assert_snapshot!("unreachable", draw(&app, 80, 24).backend());
    // The chat tab shows the same screen, not "No rooms yet".
    press(&mut app, "2");
    assert_eq!(app.tab, Tab::Chat);
    let text = screen_text(&app);
    assert!(!text.contains("No rooms yet"), "{text}");
    assert!(text.contains("Cannot reach the warren server"), "{text}");
}

#[test]
fn a_refused_token_is_final_and_names_the_fixing_command() {
    let mut app = fresh_app();
    app.on_net(NetEvent::Refused {
        message: "unknown or revoked token".into(),
    });
    assert!(matches!(app.conn, ConnState::Refused { .. }));
    let text = screen_text(&app);
    assert!(
        text.contains("warren login --server http://warren.example:7878 --token"),
        "{text}"
    );
    insta::assert_snapshot!("refused_token", draw(&app, 80, 24).backend());
    // Quitting still works.
    press(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn a_refused_token_wins_over_a_loaded_workspace() {
    let mut app = sample_app();
    app.on_net(NetEvent::Refused {
        message: "revoked".into(),
    });
    assert!(screen_text(&app).contains("refused your token"));
}

#[tokio::test]
async fn the_network_task_reports_http_401_as_refused_and_stops_retrying() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = crate::tui::local::start(dir.path().join("data"))
        .await
        .expect("local server");
    let target = Target {
        endpoint: server.endpoint.clone(),
        token: "wrn_0000000000000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        workspace: None,
    };
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (events, mut event_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(net::run(
        target,
        request_rx,
        events,
        crate::room::Room::unbounded(),
    ));
    let mut refused = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(20), event_rx.recv())
        .await
        .expect("an answer from the network task")
    {
        match event {
            NetEvent::Connecting => {}
            NetEvent::Refused { .. } => {
                refused = true;
                break;
            }
            other => panic!("expected Refused, got {other:?}"),
        }
    }
    assert!(refused);
    drop(requests);
    task.await.expect("network task ends");
    // Nothing else was attempted: no retry after a refused token.
    assert!(event_rx.recv().await.is_none());
    server.shutdown().await;
}

#[test]
fn too_many_failed_sign_ins_are_waited_out_and_said_plainly() {
    let error = crate::error::ClientError::AuthRateLimited { retry_after: 12 };
    let reason = crate::tui::trouble::plain_reason(&error);
    assert_eq!(
        reason,
        "too many failed sign-ins from this address; try again in 12 s"
    );
    // The next attempt waits the whole Retry-After, never the short back-off.
    assert_eq!(
        net::retry_delay(&error, net::FIRST_BACKOFF),
        Some(Duration::from_secs(12))
    );
    assert_eq!(
        net::retry_delay(&error, Duration::from_secs(15)),
        Some(Duration::from_secs(15))
    );
    let mut app = fresh_app();
    app.on_net(NetEvent::Disconnected {
        reason,
        retry_at: Some(Instant::now() + Duration::from_millis(11_500)),
    });
    let text = screen_text(&app);
    assert!(text.contains("not letting this address sign in"), "{text}");
    assert!(text.contains("too many failed sign-ins"), "{text}");
    assert!(text.contains("trying again in 12s"), "{text}");
    assert!(!text.contains("Cannot reach"), "{text}");
    insta::assert_snapshot!("rate_limited", draw(&app, 80, 24).backend());
}

#[tokio::test]
async fn the_network_task_waits_out_a_429_instead_of_hammering() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = crate::tui::local::start(dir.path().join("data"))
        .await
        .expect("local server");
    let bad = "wrn_0000000000000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    // The embedded server allows 5 failed sign-ins a minute from one address.
    for _ in 0..5 {
        let refused = crate::connection::Connection::connect(&server.endpoint, bad).await;
        assert!(
            matches!(refused, Err(crate::error::ClientError::Unauthorized { .. })),
            "{:?}",
            refused.err()
        );
    }
    let target = Target {
        endpoint: server.endpoint.clone(),
        token: bad.into(),
        workspace: None,
    };
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (events, mut event_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(net::run(
        target,
        request_rx,
        events,
        crate::room::Room::unbounded(),
    ));
    let (reason, retry_at) = loop {
        let event = tokio::time::timeout(Duration::from_secs(20), event_rx.recv())
            .await
            .expect("an answer from the network task")
            .expect("the task runs");
        match event {
            NetEvent::Connecting => {}
            NetEvent::Disconnected { reason, retry_at } => break (reason, retry_at),
            other => panic!("expected Disconnected, got {other:?}"),
        }
    };
    assert!(reason.contains("too many failed sign-ins"), "{reason}");
    let wait = retry_at
        .expect("it tries again later")
        .saturating_duration_since(Instant::now());
    assert!(
        wait > Duration::from_secs(9),
        "waits out Retry-After (12 s), not the 0.5 s back-off: {wait:?}"
    );
    drop(requests);
    task.await.expect("network task ends");
    server.shutdown().await;
}
