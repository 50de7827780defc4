//! `delete_workspace` through the real writer: only an owner, only with the workspace's name,
//! and then nothing of the workspace is left in any table (the store still checks out and the
//! other workspace is untouched), its subscribers get `workspace_deleted` as their last frame,
//! and a lone bot's token is gone.

use std::sync::Arc;

use redb::ReadableTable;
use warren_protocol::account::TokenScope;
use warren_protocol::{Change, Command, ErrorCode, Id, Position, Priority, RequestId, Role};
use warren_server::hub::Hub;
use warren_server::service::workspace::{add_member, bootstrap};
use warren_server::store::tables::*;
use warren_server::store::{Store, read};
use warren_server::{check, writer};

fn request(n: &str) -> RequestId {
    RequestId::parse(n).expect("request id")
}

/// Every row of every workspace-keyed table (and remembered request) that names `ws`.
fn rows_of(store: &Store, ws: &str) -> Vec<String> {
    let txn = store.begin_read().expect("read");
    let mut found = Vec::new();
    let mut pairs = |name: &str, table: redb::TableDefinition<(&str, &str), &[u8]>| {
        for entry in txn.open_table(table).expect("table").iter().expect("iter") {
            if entry.expect("row").0.value().0 == ws {
                found.push(name.to_owned());
            }
        }
    };
    pairs("members", MEMBERS);
    pairs("boards", BOARDS);
    pairs("cards", CARDS);
    pairs("rooms", ROOMS);
    pairs("jobs", JOBS);
    pairs("runs", RUNS);
    pairs("log_progress", LOG_PROGRESS);
    pairs("workers", WORKERS);
    pairs("providers", PROVIDERS);
    pairs("agents", AGENTS);
    pairs("budgets", BUDGETS);
    for entry in txn.open_table(USAGE).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("usage".into());
        }
    }
    for entry in txn.open_table(RUN_NUMBERS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("run_numbers".into());
        }
    }
    for entry in txn.open_table(EVENTS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("events".into());
        }
    }
    for entry in txn.open_table(MESSAGES).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("messages".into());
        }
    }
    for entry in txn.open_table(MESSAGE_IDS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("message_ids".into());
        }
    }
    for entry in txn.open_table(COLUMN_CARDS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("column_cards".into());
        }
    }
    for entry in txn.open_table(COUNTERS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("counters".into());
        }
    }
    for entry in txn.open_table(REQUESTS).expect("t").iter().expect("i") {
        if entry.expect("row").1.value().0 == ws {
            found.push("requests".into());
        }
    }
    for entry in txn.open_table(INVITES).expect("t").iter().expect("i") {
        let (_, value) = entry.expect("row");
        if String::from_utf8_lossy(value.value()).contains(ws) {
            found.push("invites".into());
        }
    }
    if txn
        .open_table(HEADS)
        .expect("t")
        .get(ws)
        .expect("g")
        .is_some()
    {
        found.push("heads".into());
    }
    for entry in txn.open_table(LOG_CHUNKS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("log_chunks".into());
        }
    }
    for entry in txn.open_table(STEPS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("steps".into());
        }
    }
    for entry in txn.open_table(GRANTS).expect("t").iter().expect("i") {
        if entry.expect("row").0.value().0 == ws {
            found.push("grants".into());
        }
    }
    if txn
        .open_table(WORKSPACES)
        .expect("t")
        .get(ws)
        .expect("g")
        .is_some()
    {
        found.push("workspaces".into());
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_workspace_leaves_nothing_of_it_and_only_an_owner_may() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let acme = boot.workspace.id.clone();
    let (bob, _) = add_member(&store, &acme, "bob", Role::Member).expect("add bob");
    let hub = Arc::new(Hub::default());
    let (writer, thread) = writer::spawn(store.clone(), hub.clone()).expect("writer");
    let ada = boot.owner.id.clone();

    let beta = Id::from_random("ws", [7; 10]);
    writer
        .create_workspace(
            ada.clone(),
            beta.clone(),
            request("r-create"),
            "Beta".into(),
        )
        .await
        .expect("create Beta");
    let state = {
        let txn = store.begin_read().expect("read");
        read::snapshot(&txn, &beta).expect("read").expect("Beta")
    };
    let board = &state.boards[0];
    let ack = writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-card"),
            Command::CreateCard {
                card_id: None,
                board_id: board.id.clone(),
                column_id: None,
                title: "t".into(),
                description: String::new(),
                labels: vec![],
                assignee: None,
                priority: Priority::None,
                position: Position::Bottom,
            },
        )
        .await
        .expect("card");
    assert!(matches!(ack.event.change, Change::CardCreated { .. }));
    writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-msg"),
            Command::PostMessage {
                message_id: None,
                room_id: state.rooms[0].id.clone(),
                body: "hello".into(),
            },
        )
        .await
        .expect("message");
    let bot = writer
        .add_bot(
            ada.clone(),
            TokenScope::Full,
            beta.clone(),
            request("r-bot"),
            ("ci".into(), TokenScope::Runs),
        )
        .await
        .expect("bot");
    let bot_token = bot.minted.as_ref().expect("minted").record.id.clone();
    warren_server::service::invites::apply(
        &store,
        &ada,
        (TokenScope::Full, warren_server::audit::Source::Unknown),
        &warren_protocol::account::AccountOp::CreateInvite {
            workspace_id: beta.clone(),
            role: Role::Member,
            expires_in_secs: None,
            uses: None,
        },
        warren_server::service::now_ms(),
    )
    .expect("an invite to Beta");
    assert!(rows_of(&store, beta.as_str()).contains(&"invites".to_owned()));
    // A run's log in each workspace (as the log path stores it).
    for ws in [&beta, &acme] {
        let txn = store.begin_write().expect("write");
        let line = warren_protocol::run::LogLine {
            n: 1,
            ts: 1,
            stream: warren_protocol::run::LogStream::Out,
            text: "built".into(),
            continued: false,
        };
        let bytes = warren_server::logs::codec::encode([&line]);
        txn.open_table(LOG_CHUNKS)
            .expect("t")
            .insert((ws.as_str(), "run_x", 1), bytes.as_slice())
            .expect("chunk");
        let progress = warren_server::logs::progress::Progress {
            next_chunk: 1,
            lines: 1,
            bytes: 5,
            ..Default::default()
        };
        warren_server::logs::progress::write(&txn, ws.as_str(), "run_x", &progress)
            .expect("progress");
        txn.commit().expect("commit");
    }
    // A budget of Beta, and a usage row in each workspace (as a model call's spending stores it).
    writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-budget"),
            Command::SetBudget {
                scope: warren_protocol::budget::BudgetScope::Workspace,
                limit: 5_000_000,
                period: warren_protocol::budget::BudgetPeriod::Month,
            },
        )
        .await
        .expect("a budget");
    for ws in [&beta, &acme] {
        let txn = store.begin_write().expect("write");
        txn.open_table(USAGE)
            .expect("t")
            .insert(
                (ws.as_str(), "2026-12-05", "agent_a", "prov_p", ""),
                b"{}".as_slice(),
            )
            .expect("usage");
        txn.commit().expect("commit");
    }
    let before = rows_of(&store, beta.as_str());
    assert!(
        before.contains(&"log_chunks".to_owned()) && before.contains(&"log_progress".to_owned())
    );
    assert!(before.contains(&"budgets".to_owned()) && before.contains(&"usage".to_owned()));

    // Not an owner: Bob is an admin of Acme, and Acme is not the one being deleted anyway.
    writer
        .submit(
            ada.clone(),
            acme.clone(),
            request("r-admin"),
            Command::SetMemberRole {
                user_id: bob.id.clone(),
                role: Role::Admin,
            },
        )
        .await
        .expect("bob is an admin of Acme");
    let refused = writer
        .submit(
            bob.id.clone(),
            acme.clone(),
            request("r-bob"),
            Command::DeleteWorkspace {
                name: "Acme".into(),
            },
        )
        .await
        .expect_err("an admin may not delete");
    assert_eq!(refused.code, ErrorCode::Forbidden, "{refused:?}");
    assert!(refused.message.contains("workspace:delete"), "{refused:?}");

    // The wrong name deletes nothing.
    let refused = writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-wrong"),
            Command::DeleteWorkspace {
                name: "Acme".into(),
            },
        )
        .await
        .expect_err("the wrong name");
    assert_eq!(refused.code, ErrorCode::Validation, "{refused:?}");

    // A subscriber of Beta gets the deletion as its last frame.
    let mut watcher = hub.subscribe(&beta, hub.new_connection_id(), &ada);
    let done = writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-delete"),
            Command::DeleteWorkspace {
                name: "Beta".into(),
            },
        )
        .await
        .expect("deleted");
    let Change::WorkspaceDeleted { workspace } = &done.event.change else {
        panic!("{:?}", done.event.change)
    };
    assert_eq!(workspace.name, "Beta");
    let last = watcher.rx.recv().await.expect("the last frame");
    assert!(last.text.contains("workspace_deleted"), "{}", last.text);
    assert!(watcher.rx.recv().await.is_none(), "the subscription ended");

    assert_eq!(rows_of(&store, beta.as_str()), Vec::<String>::new());
    assert!(rows_of(&store, acme.as_str()).contains(&"log_chunks".to_owned()));
    assert!(rows_of(&store, acme.as_str()).contains(&"usage".to_owned()));
    {
        // One server-wide audit entry names the deleted workspace.
        let txn = store.begin_read().expect("read");
        let deletions = txn
            .open_table(AUDIT)
            .expect("audit")
            .iter()
            .expect("iter")
            .filter(|row| {
                let (key, value) = row.as_ref().expect("row");
                let text = String::from_utf8_lossy(value.value()).into_owned();
                key.value().0.is_empty()
                    && text.contains("workspace.delete")
                    && text.contains(beta.as_str())
            })
            .count();
        assert_eq!(deletions, 1);
    }
    {
        let txn = store.begin_read().expect("read");
        assert!(
            read::token(&txn, bot_token.as_str())
                .expect("read")
                .is_none(),
            "the lone bot's token went with it"
        );
        assert!(
            read::snapshot(&txn, &acme).expect("read").is_some(),
            "Acme is untouched"
        );
    }
    // Afterwards Beta is not found, like any workspace that never existed.
    let gone = writer
        .submit(
            ada.clone(),
            beta.clone(),
            request("r-after"),
            Command::RenameWorkspace { name: "x".into() },
        )
        .await
        .expect_err("gone");
    assert_eq!(gone.code, ErrorCode::NotFound);

    drop(writer);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    let path = store.path().to_path_buf();
    drop(store);
    let report = check::check_file(&path);
    assert!(report.ok(), "{:#?}", report.problems);
    assert_eq!(report.workspaces.len(), 1);
}
