//! `warren member`, `warren workspace` and `warren whoami` against a real server: roles are listed,
//! changed and explained; a refused change says which permission it needs; removal is final.

use warren_e2e::Server;
use warren_e2e::cli::Cli;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_listed_promoted_explained_and_removed() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let ada = Cli::new(&server.http_url(), &server.token);
    let mira = Cli::new(&server.http_url(), &mira_token);

    let list = ada.run(&["member", "list"]).await.ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(
        lines[1].starts_with("ada") && lines[1].contains("owner"),
        "{list:#?}"
    );
    assert!(
        lines[2].starts_with("mira") && lines[2].contains("member"),
        "{list:#?}"
    );

    // A member may not rename the workspace, and is told what it takes.
    let refused = mira.run(&["workspace", "rename", "Mine now"]).await;
    assert_eq!(refused.code, 2, "{refused:#?}");
    assert!(
        refused.stderr.contains("workspace:manage") && refused.stderr.contains("admins and owners"),
        "{refused:#?}"
    );
    let who = mira.run(&["whoami", "--json"]).await.ok().json();
    assert_eq!(who["role"], "member");
    assert!(
        who["permissions"]
            .as_array()
            .is_some_and(|p| p.contains(&"card:create".into()))
    );

    let promoted = ada.run(&["member", "role", "@mira", "admin"]).await.ok();
    assert!(
        promoted.stdout.contains("mira is now admin (was member)"),
        "{promoted:#?}"
    );
    let who = mira.run(&["whoami"]).await.ok();
    assert!(
        who.stdout.contains("as admin") && who.stdout.contains("member:manage"),
        "{who:#?}"
    );
    let renamed = mira
        .run(&["workspace", "rename", "Acme Labs", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(renamed["name"], "Acme Labs");
    let listed = ada.run(&["workspace", "list"]).await.ok();
    assert!(listed.stdout.contains("Acme Labs"), "{listed:#?}");

    // An admin cannot demote the owner; the owner removes the admin, who then sees nothing.
    let refused = mira.run(&["member", "role", "ada", "member"]).await;
    assert!(refused.stderr.contains("owner:manage"), "{refused:#?}");
    ada.run(&["member", "remove", "mira"]).await.ok();
    let gone = mira.run(&["card", "list"]).await;
    assert_eq!(gone.code, 2, "{gone:#?}");
    let list = ada.run(&["member", "list", "--json"]).await.ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_workspace_is_created_used_and_invisible_to_others() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "member").await;
    server.restart().await;
    let ada = Cli::new(&server.http_url(), &server.token);

    let made = ada
        .run(&["workspace", "create", "Side project", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(made["name"], "Side project");
    let side = made["id"].as_str().expect("an id").to_owned();
    let listed = ada.run(&["workspace", "list", "--json"]).await.ok().json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let boards = ada
        .run(&["board", "list", "--workspace", "Side project", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(boards[0]["name"], "Main", "seeded like init: {boards}");
    ada.run(&["card", "add", "side task", "--workspace", &side])
        .await
        .ok();
    let acme_cards = ada.run(&["card", "list", "--json"]).await.ok().json();
    assert_eq!(
        acme_cards.as_array().map(Vec::len),
        Some(0),
        "cards stay in their workspace"
    );

    // Mira is not a member of the new workspace: the same not_found as for one that does not
    // exist, for a command and for a query.
    let mut mira = warren_e2e::connect_hello(server.addr, &mira_token).await;
    let mut answers = Vec::new();
    for ws in [side.as_str(), "ws_0000000000000000"] {
        for frame in [
            serde_json::json!({"type": "query", "request_id": format!("q-{ws}"), "workspace_id": ws, "query": {"type": "snapshot"}}),
            serde_json::json!({"type": "command", "request_id": format!("c-{ws}"), "workspace_id": ws, "command": {"type": "create_room", "name": "x"}}),
        ] {
            let id = frame["request_id"].as_str().expect("id").to_owned();
            mira.send_json(&frame).await.expect("send");
            match mira.try_answer(&id).await {
                Ok(warren_protocol::ServerMessage::Error { code, message, .. }) => {
                    answers.push((code, message.replace(ws, "WS")));
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(
        answers[0], answers[2],
        "query: foreign and missing look alike"
    );
    assert_eq!(
        answers[1], answers[3],
        "command: foreign and missing look alike"
    );
    assert_eq!(answers[0].0, warren_protocol::ErrorCode::NotFound);
}

/// `workspace transfer`: the named member becomes owner and the old owner an admin, so the
/// workspace never lacks an owner; a non-owner is refused and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_is_handed_over_and_only_by_an_owner() {
    let mut server = Server::start().await;
    server.kill_9().await;
    let mira_token = server.add_member("mira", "admin").await;
    server.restart().await;
    let ada = Cli::new(&server.http_url(), &server.token);
    let mira = Cli::new(&server.http_url(), &mira_token);

    let refused = mira.run(&["workspace", "transfer", "mira"]).await;
    assert_ne!(refused.code, 0, "{refused:#?}");
    assert!(refused.stderr.contains("only an owner"), "{refused:#?}");

    let done = ada
        .run(&["workspace", "transfer", "@mira", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(done["owner"]["name"], "mira");
    assert_eq!(done["owner"]["role"], "owner");
    assert_eq!(done["previous_owner"]["name"], "ada");
    assert_eq!(done["previous_owner"]["role"], "admin");
    let roles = ada.run(&["member", "list", "--json"]).await.ok().json();
    let role_of = |name: &str| {
        roles
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["role"].clone())
    };
    assert_eq!(role_of("mira"), Some("owner".into()));
    assert_eq!(role_of("ada"), Some("admin".into()));
    // Ada is no longer an owner, so she cannot hand it over again.
    let again = ada.run(&["workspace", "transfer", "mira"]).await;
    assert!(again.stderr.contains("only an owner"), "{again:#?}");
}
