//! The full-screen client's network task against a real server: asked to switch workspaces, it
//! replaces its connection, subscribes to the new workspace afresh (a snapshot of it, then its
//! presence list), and leaves the old one — where it no longer counts as online.

use std::time::Duration;

use tokio::sync::mpsc;
use warren::endpoint::Endpoint;
use warren::tui::net::{self, NetEvent, NetRequest, Target};
use warren_e2e::Server;
use warren_e2e::cli::Cli;
#[path = "support/net_task.rs"]
mod net_task;
use net_task::next;
use warren_protocol::{Id, Query, QueryResult, ServerMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_reconnects_to_the_other_workspace_and_leaves_the_first() {
    let server = Server::start().await;
    let ada = Cli::new(&server.http_url(), &server.token);
    let side = ada
        .run(&["workspace", "create", "Side", "--json"])
        .await
        .ok()
        .json();
    let side = Id::parse(side["id"].as_str().expect("id")).expect("an id");

    let (requests, requests_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let target = Target {
        endpoint: Endpoint::parse(&server.http_url()).expect("endpoint"),
        token: server.token.clone(),
        workspace: Some("Acme".into()),
    };
    let task = tokio::spawn(net::run(
        target,
        requests_rx,
        events_tx,
        warren::room::Room::unbounded(),
    ));

    let acme = next(&mut events, "connected to Acme", |e| match e {
        NetEvent::Connected(_, ws) => Some(ws),
        _ => None,
    })
    .await;
    next(&mut events, "Acme's snapshot", |e| match e {
        NetEvent::Push(m) => match *m {
            ServerMessage::Snapshot { state } if state.workspace.name == "Acme" => Some(()),
            _ => None,
        },
        _ => None,
    })
    .await;
    let me = next(&mut events, "online in Acme", |e| match e {
        NetEvent::Push(m) => match *m {
            ServerMessage::Presence {
                workspace_id,
                online,
            } if workspace_id == acme => online.first().cloned(),
            _ => None,
        },
        _ => None,
    })
    .await;

    requests
        .send(NetRequest::Switch {
            workspace: side.clone(),
        })
        .expect("the task runs");
    let now = next(&mut events, "connected to Side", |e| match e {
        NetEvent::Connected(_, ws) => Some(ws),
        NetEvent::Disconnected { reason, .. } => panic!("switching is not a disconnect: {reason}"),
        _ => None,
    })
    .await;
    assert_eq!(now, side);
    next(&mut events, "Side's snapshot, from scratch", |e| match e {
        NetEvent::Push(m) => match *m {
            ServerMessage::Snapshot { state } => {
                assert_eq!(
                    state.workspace.name, "Side",
                    "no Acme frame after the switch"
                );
                Some(())
            }
            ServerMessage::Event { event } => {
                assert_eq!(event.workspace_id, side, "no Acme event after the switch");
                None
            }
            _ => None,
        },
        _ => None,
    })
    .await;
    next(&mut events, "online in Side", |e| match e {
        NetEvent::Push(m) => match *m {
            ServerMessage::Presence {
                workspace_id,
                online,
            } if workspace_id == side => online.contains(&me).then_some(()),
            _ => None,
        },
        _ => None,
    })
    .await;

    // The old connection is gone: Ada is no longer online in Acme.
    let mut watcher = warren_e2e::connect_hello(server.addr, &server.token).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match watcher.query(&Query::Presence).await {
            QueryResult::Presence { online } if online.is_empty() => break,
            QueryResult::Presence { .. } => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still online in Acme"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("{other:?}"),
        }
    }
    drop(requests);
    task.await.expect("the network task ends with the app");
}
