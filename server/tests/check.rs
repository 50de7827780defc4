//! `check` agrees with the services: a store changed by every kind of command through the real
//! writer (boards, columns, cards, rooms, messages, members, the workspace, budgets, invites and a join)
//! checks out, so the
//! check's replay never calls a sound store damaged. A backup of it checks out too.

use std::sync::Arc;

use warren_protocol::{Command, Id, Position, Priority, RequestId, Role};
use warren_server::hub::Hub;
use warren_server::service::workspace::{add_member, bootstrap};
use warren_server::store::{Store, read};
use warren_server::{backup, check, writer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_changed_by_every_command_checks_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let ws = boot.workspace.id.clone();
    let (bob, _) = add_member(&store, &ws, "bob", Role::Member).expect("add bob");
    let (carol, _) = add_member(&store, &ws, "carol", Role::Viewer).expect("add carol");
    let (writer, thread) = writer::spawn(store.clone(), Arc::new(Hub::default())).expect("writer");
    let mut n = 0;
    let mut run = async |command: Command| {
        n += 1;
        let request = RequestId::parse(&format!("req-{n}")).expect("request id");
        writer
            .submit(boot.owner.id.clone(), ws.clone(), request, command)
            .await
            .unwrap_or_else(|e| panic!("command {n} refused: {e:?}"))
            .event
    };
    let snapshot = |store: &Store| {
        let txn = store.begin_read().expect("read");
        read::snapshot(&txn, &ws)
            .expect("snapshot")
            .expect("exists")
    };
    let board = snapshot(&store).boards[0].clone();
    let (todo, doing) = (board.columns[0].id.clone(), board.columns[1].id.clone());
    let card = |title: &str, column: &Id| Command::CreateCard {
        card_id: None,
        board_id: board.id.clone(),
        column_id: Some(column.clone()),
        title: title.to_owned(),
        description: String::new(),
        labels: Vec::new(),
        assignee: None,
        priority: Priority::None,
        position: Position::Bottom,
    };
    let card_id = |event: &Arc<warren_protocol::Event>| match &event.change {
        warren_protocol::Change::CardCreated { card } => card.id.clone(),
        other => panic!("expected card_created, got {other:?}"),
    };
    let a = card_id(&run(card("a", &todo)).await);
    let b = card_id(&run(card("b", &todo)).await);
    let c = card_id(&run(card("c", &doing)).await);
    run(Command::UpdateCard {
        card_id: a.clone(),
        title: Some("a, renamed".into()),
        description: Some("more".into()),
        labels: Some(vec!["docs".into()]),
        assignee: Some(Some(bob.id.clone())),
        priority: Some(Priority::High),
    })
    .await;
    run(Command::MoveCard {
        card_id: b.clone(),
        column_id: doing.clone(),
        position: Position::Top,
    })
    .await;
    run(Command::DeleteCard { card_id: c }).await;
    run(Command::RenameBoard {
        board_id: board.id.clone(),
        name: "Main board".into(),
    })
    .await;
    run(Command::AddColumn {
        board_id: board.id.clone(),
        column_id: None,
        name: "Later".into(),
        index: Some(0),
    })
    .await;
    run(Command::RenameColumn {
        board_id: board.id.clone(),
        column_id: todo.clone(),
        name: "To do".into(),
    })
    .await;
    run(Command::MoveColumn {
        board_id: board.id.clone(),
        column_id: todo.clone(),
        index: 2,
    })
    .await;
    run(Command::DeleteColumn {
        board_id: board.id.clone(),
        column_id: doing,
        move_cards_to: Some(todo.clone()),
    })
    .await;
    run(Command::CreateBoard {
        board_id: None,
        name: "Ops".into(),
        columns: None,
    })
    .await;
    let room = snapshot(&store).rooms[0].id.clone();
    run(Command::CreateRoom {
        room_id: None,
        name: "random".into(),
        topic: "anything".into(),
    })
    .await;
    let message_id = |event: &Arc<warren_protocol::Event>| match &event.change {
        warren_protocol::Change::MessagePosted { message } => message.id.clone(),
        other => panic!("expected message_posted, got {other:?}"),
    };
    let m1 = message_id(
        &run(Command::PostMessage {
            message_id: None,
            room_id: room.clone(),
            body: "one".into(),
        })
        .await,
    );
    let m2 = message_id(
        &run(Command::PostMessage {
            message_id: None,
            room_id: room.clone(),
            body: "two".into(),
        })
        .await,
    );
    run(Command::EditMessage {
        message_id: m1,
        body: "one, edited".into(),
    })
    .await;
    run(Command::DeleteMessage { message_id: m2 }).await;
    run(Command::RenameWorkspace {
        name: "Acme Inc".into(),
    })
    .await;
    run(Command::SetMemberRole {
        user_id: bob.id.clone(),
        role: Role::Admin,
    })
    .await;
    run(Command::RemoveMember {
        user_id: carol.id.clone(),
    })
    .await;
    // Budgets: one set, replaced and left; one set and cleared.
    for (scope, limit) in [
        (warren_protocol::budget::BudgetScope::Workspace, 20_000_000),
        (warren_protocol::budget::BudgetScope::Workspace, 30_000_000),
        (
            warren_protocol::budget::BudgetScope::Room {
                room_id: snapshot(&store).rooms[0].id.clone(),
            },
            1_000_000,
        ),
    ] {
        run(Command::SetBudget {
            scope,
            limit,
            period: warren_protocol::budget::BudgetPeriod::Week,
        })
        .await;
    }
    run(Command::ClearBudget {
        scope: warren_protocol::budget::BudgetScope::Room {
            room_id: snapshot(&store).rooms[0].id.clone(),
        },
    })
    .await;
    // A join through an invite (its member_added replays like any other), and an invite left
    // unused.
    let op = warren_protocol::account::AccountOp::CreateInvite {
        workspace_id: ws.clone(),
        role: Role::Member,
        expires_in_secs: None,
        uses: Some(2),
    };
    let now = warren_server::service::now_ms();
    let scope = (
        warren_protocol::account::TokenScope::Full,
        warren_server::audit::Source::Unknown,
    );
    for _ in 0..2 {
        warren_server::service::invites::apply(&store, &boot.owner.id, scope, &op, now)
            .expect("create an invite");
    }
    let listed = warren_server::service::invites::apply(
        &store,
        &boot.owner.id,
        scope,
        &warren_protocol::account::AccountOp::ListInvites {
            workspace_id: ws.clone(),
        },
        now,
    )
    .expect("list");
    assert!(matches!(
        listed,
        warren_protocol::account::AccountResult::Invites { ref invites } if invites.len() == 2
    ));
    let made = warren_server::service::invites::apply(&store, &boot.owner.id, scope, &op, now)
        .expect("create an invite");
    let warren_protocol::account::AccountResult::InviteCreated { code, .. } = made else {
        panic!("expected invite_created");
    };
    let (invite, secret) = warren_server::service::invites::find(&store, &code)
        .expect("read")
        .expect("found");
    writer
        .join(
            ws.clone(),
            invite.id,
            secret,
            warren_server::service::invites::Joiner::New {
                id: warren_server::auth::new_id("usr").expect("id"),
                name: "dora".into(),
            },
        )
        .await
        .expect("dora joins");

    let copy = dir.path().join("copy.redb");
    {
        let txn = store.begin_read().expect("read");
        backup::copy_snapshot(&txn, &copy).expect("backup");
    }
    drop(writer);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    let path = store.path().to_path_buf();
    drop(store);
    for file in [&path, &copy] {
        let report = check::check_file(file);
        assert!(report.ok(), "{}: {:#?}", file.display(), report.problems);
        assert!(report.events >= 20, "{report:?}");
    }
}
