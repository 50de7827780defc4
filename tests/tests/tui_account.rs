//! The full-screen client's network task against a real server for the team windows: an
//! `account` request (making an invite, listing tokens) comes back as its answer, and the audit
//! window's query returns the entries — the invite just made among them, without its code.

use std::time::Duration;

use tokio::sync::mpsc;
use warren::endpoint::Endpoint;
use warren::tui::net::{self, NetEvent, NetRequest, Target};
use warren_e2e::Server;
#[path = "support/net_task.rs"]
mod net_task;
use net_task::next;
use warren_protocol::Role;
use warren_protocol::account::{AccountOp, AccountResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_requests_and_the_audit_query_go_through_the_network_task() {
    let server = Server::start().await;
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
    let acme = next(&mut events, "connected", |e| match e {
        NetEvent::Connected(_, ws) => Some(ws),
        _ => None,
    })
    .await;

    requests
        .send(NetRequest::Account {
            op: AccountOp::CreateInvite {
                workspace_id: acme,
                role: Role::Viewer,
                expires_in_secs: None,
                uses: None,
            },
        })
        .expect("send");
    let (invite_id, code) = next(&mut events, "the invite", |e| match e {
        NetEvent::Account(Ok(AccountResult::InviteCreated { invite, code })) => {
            Some((invite.id, code))
        }
        NetEvent::Account(Err(why)) => panic!("refused: {why}"),
        _ => None,
    })
    .await;
    assert!(code.starts_with("wri_"));

    requests
        .send(NetRequest::Account {
            op: AccountOp::ListTokens { user_id: None },
        })
        .expect("send");
    let tokens = next(&mut events, "the tokens", |e| match e {
        NetEvent::Account(Ok(AccountResult::Tokens { tokens })) => Some(tokens),
        _ => None,
    })
    .await;
    assert!(tokens.iter().any(|t| t.current && t.last_used_at.is_some()));

    requests.send(NetRequest::Audit).expect("send");
    let (entries, _) = next(&mut events, "the audit page", |e| match e {
        NetEvent::Audit(answer) => Some(answer.expect("an auditor's answer")),
        _ => None,
    })
    .await;
    let made = entries
        .iter()
        .find(|e| e.action == "invite.create")
        .expect("the invite in the audit log");
    assert_eq!(
        made.target.as_ref().map(|t| t.id.as_str()),
        Some(invite_id.as_str())
    );
    let text = serde_json::to_string(&entries).expect("json");
    assert!(!text.contains(&code["wri_".len()..]), "no code in the log");

    drop(requests);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}
