//! `warren workspace delete` against a real server: only an owner, only with the name given
//! again (never silently from a script), a subscribed member gets `workspace_deleted` as the last
//! frame of it, and afterwards the workspace is `not_found` and its data gone. Deleting your last
//! workspace leaves you able to create another.

use warren_e2e::Server;
use warren_e2e::cli::Cli;
use warren_protocol::{Change, ErrorCode, Query, ServerMessage};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_deletes_a_workspace_and_its_members_are_told() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let ada = Cli::new(&server.http_url(), &server.token);
    let mira_cli = Cli::new(&server.http_url(), &mira_token);
    ada.run(&["card", "add", "doomed card"]).await.ok();
    ada.run(&["chat", "send", "general", "doomed message"])
        .await
        .ok();
    let side = ada
        .run(&["workspace", "create", "Side", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(side["name"], "Side");

    // Mira watches Acme.
    let mut mira = warren_e2e::connect_hello(server.addr, &mira_token).await;
    mira.subscribe(None).await;

    // Not an owner: forbidden, naming the permission.
    let refused = mira_cli
        .run(&["workspace", "delete", "Acme", "--confirm", "Acme"])
        .await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused.stderr.contains("workspace:delete") && refused.stderr.contains("owners"),
        "{refused:#?}"
    );
    // No terminal and no --confirm: refused before anything is sent.
    let refused = ada.run(&["workspace", "delete", "Acme"]).await;
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(refused.stderr.contains("--confirm"), "{refused:#?}");
    // The wrong name: refused, nothing deleted.
    let refused = ada
        .run(&["workspace", "delete", "Acme", "--confirm", "Side"])
        .await;
    assert_ne!(refused.code, 0, "{refused:#?}");
    assert!(
        refused.stderr.contains("nothing was deleted"),
        "{refused:#?}"
    );
    let cards = ada.run(&["card", "list", "--json"]).await.ok().json();
    assert_eq!(cards.as_array().map(Vec::len), Some(1), "still there");

    let done = ada
        .run(&["workspace", "delete", "Acme", "--confirm", "Acme", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(done["deleted"]["name"], "Acme", "{done}");
    assert_eq!(done["remaining"][0]["name"], "Side", "{done}");

    // Mira's subscription ends with the deletion, said by whom.
    mira.expect_until("workspace_deleted", |c| {
        c.events
            .iter()
            .any(|e| matches!(e.change, Change::WorkspaceDeleted { .. }))
    })
    .await;
    let last = mira.events.last().expect("an event");
    assert!(
        matches!(&last.change, Change::WorkspaceDeleted { workspace } if workspace.name == "Acme"),
        "{last:?}"
    );
    assert_eq!(Some(&last.actor), ada_id(&server).await.as_ref());
    // Afterwards: not_found for her, for Ada, and for the CLI.
    let frame =
        serde_json::json!({"type": "query", "request_id": "q-after", "query": Query::Snapshot});
    mira.send_json(&frame).await.expect("send");
    match mira.try_answer("q-after").await {
        Ok(ServerMessage::Error { code, .. }) => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("{other:?}"),
    }
    let gone = mira_cli.run(&["card", "list"]).await;
    assert_eq!(gone.code, 2, "{gone:#?}");
    let listed = ada.run(&["workspace", "list", "--json"]).await.ok().json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let gone = ada.run(&["card", "list", "--workspace", "Acme"]).await;
    assert_ne!(gone.code, 0, "{gone:#?}");

    // The last workspace can go too; then a new one can be made.
    let last = ada
        .run(&["workspace", "delete", "Side", "--confirm", "Side"])
        .await
        .ok();
    assert!(last.stdout.contains("no workspace now"), "{last:#?}");
    let listed = ada.run(&["workspace", "list", "--json"]).await.ok().json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let fresh = ada
        .run(&["workspace", "create", "Fresh", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(fresh["name"], "Fresh");
    let boards = ada.run(&["board", "list", "--json"]).await.ok().json();
    assert_eq!(boards[0]["name"], "Main", "{boards}");
}

async fn ada_id(server: &Server) -> Option<warren_protocol::Id> {
    let ada = warren_e2e::connect_hello(server.addr, &server.token).await;
    ada.user.map(|u| u.user_id)
}
