//! The store, domain services and group-commit writer, driven through the library API with a
//! real redb file in a temp dir.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use warren_protocol::{Change, Command, ErrorCode, Id, Position, RequestId, WorkspaceState};
use warren_server::hub::Hub;
use warren_server::service::workspace::{Bootstrapped, bootstrap};
use warren_server::store::{Store, StoreError, read, schema, tables::META};
use warren_server::writer::{self, WriterHandle};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    boot: Bootstrapped,
    writer: WriterHandle,
    hub: Arc<Hub>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create store");
    let boot = bootstrap(&store, "ada", "Acme").expect("bootstrap");
    let hub = Arc::new(Hub::default());
    let (writer, _thread) = writer::spawn(store.clone(), hub.clone()).expect("writer");
    Fixture {
        _dir: dir,
        store,
        boot,
        writer,
        hub,
    }
}

impl Fixture {
    fn snapshot(&self) -> WorkspaceState {
        let txn = self.store.begin_read().expect("read");
        read::snapshot(&txn, &self.boot.workspace.id)
            .expect("snapshot")
            .expect("workspace exists")
    }

    async fn run(
        &self,
        request_id: &str,
        command: Command,
    ) -> Result<writer::Applied, warren_protocol::WireError> {
        self.writer
            .submit(
                self.boot.owner.id.clone(),
                self.boot.workspace.id.clone(),
                RequestId::parse(request_id).expect("request id"),
                command,
            )
            .await
    }

    fn add_card(&self, title: &str) -> Command {
        let board = &self.snapshot().boards[0];
        Command::CreateCard {
            card_id: None,
            board_id: board.id.clone(),
            column_id: None,
            title: title.into(),
            description: String::new(),
            labels: vec![],
            assignee: None,
            priority: Default::default(),
            position: Position::Bottom,
        }
    }
}

#[test]
fn init_creates_a_usable_workspace() {
    let f = fixture();
    let state = f.snapshot();
    assert_eq!(
        state.seq, 4,
        "workspace_created, member_added, board_created, room_created"
    );
    assert_eq!(state.boards.len(), 1);
    let names: Vec<_> = state.boards[0]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Backlog", "Todo", "In Progress", "Review", "Done"]);
    assert_eq!(state.rooms[0].name, "general");
    assert_eq!(state.members[0].name, "ada");
}

#[tokio::test]
async fn a_repeated_request_id_is_applied_once() {
    let f = fixture();
    let first = f.run("req-1", f.add_card("one")).await.expect("applied");
    let again = f.run("req-1", f.add_card("one")).await.expect("answered");
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(first.event.seq, again.event.seq);
    assert_eq!(first.event, again.event);
    assert_eq!(f.snapshot().cards.len(), 1);
}

#[tokio::test]
async fn concurrent_commands_share_commits_and_stay_gap_free() {
    let f = fixture();
    let command = f.add_card("x");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let writer = f.writer.clone();
        let user = f.boot.owner.id.clone();
        let ws = f.boot.workspace.id.clone();
        let command = command.clone();
        tasks.push(tokio::spawn(async move {
            writer
                .submit(
                    user,
                    ws,
                    RequestId::parse(&format!("c{i}")).expect("id"),
                    command,
                )
                .await
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("join").expect("applied").event.seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (5..205).collect::<Vec<u64>>());
    let commits = f.writer.stats.commits.load(Ordering::Relaxed);
    let commands = f.writer.stats.commands.load(Ordering::Relaxed);
    assert_eq!(commands, 200);
    assert!(
        commits < commands,
        "group commit: {commits} commits for {commands} commands"
    );
    let numbers: Vec<u64> = f.snapshot().cards.iter().map(|c| c.number).collect();
    assert_eq!(numbers.len(), 200);
}

#[tokio::test]
async fn a_rejected_command_does_not_disturb_its_batch() {
    let f = fixture();
    let bad = Command::DeleteCard {
        card_id: Id::parse("card_doesnotexist").expect("id"),
    };
    let (a, b, c) = tokio::join!(
        f.run("a", f.add_card("a")),
        f.run("b", bad),
        f.run("c", f.add_card("c"))
    );
    assert!(a.is_ok() && c.is_ok());
    assert_eq!(b.expect_err("rejected").code, ErrorCode::NotFound);
    assert_eq!(f.snapshot().cards.len(), 2);
    assert_eq!(f.snapshot().seq, 6);
}

#[tokio::test]
async fn moves_rewrite_one_card_and_keep_order() {
    let f = fixture();
    let mut ids = Vec::new();
    for (i, title) in ["a", "b", "c"].iter().enumerate() {
        let applied = f
            .run(&format!("r{i}"), f.add_card(title))
            .await
            .expect("created");
        let Change::CardCreated { card } = &applied.event.change else {
            panic!("unexpected {:?}", applied.event.change)
        };
        ids.push(card.id.clone());
    }
    let column = f.snapshot().boards[0].columns[0].id.clone();
    let before: Vec<String> = f.snapshot().cards.iter().map(|c| c.rank.clone()).collect();
    f.run(
        "m1",
        Command::MoveCard {
            card_id: ids[2].clone(),
            column_id: column.clone(),
            position: Position::Top,
        },
    )
    .await
    .expect("moved");
    let after = f.snapshot();
    let titles: Vec<&str> = after.cards.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["c", "a", "b"]);
    // a and b kept their ranks: only the moved card changed.
    assert_eq!(after.cards[1].rank, before[0]);
    assert_eq!(after.cards[2].rank, before[1]);
    f.run(
        "m2",
        Command::MoveCard {
            card_id: ids[2].clone(),
            column_id: column,
            position: Position::After {
                card_id: ids[0].clone(),
            },
        },
    )
    .await
    .expect("moved");
    let titles: Vec<String> = f.snapshot().cards.iter().map(|c| c.title.clone()).collect();
    assert_eq!(titles, ["a", "c", "b"]);
}

#[tokio::test]
async fn new_cards_go_to_the_top_or_bottom_of_their_own_column() {
    let f = fixture();
    let board = f.snapshot().boards[0].clone();
    let card = |title: &str, column: usize, position: Position| Command::CreateCard {
        card_id: None,
        board_id: board.id.clone(),
        column_id: Some(board.columns[column].id.clone()),
        title: title.into(),
        description: String::new(),
        labels: vec![],
        assignee: None,
        priority: Default::default(),
        position,
    };
    // Cards in the neighbouring columns must not count as the first or last of column 1.
    let steps = [
        ("before", 0, Position::Bottom),
        ("after", 2, Position::Top),
        ("a", 1, Position::Bottom),
        ("b", 1, Position::Bottom),
        ("top", 1, Position::Top),
        ("z", 1, Position::Bottom),
        ("first", 1, Position::Top),
    ];
    for (i, (title, column, position)) in steps.into_iter().enumerate() {
        f.run(&format!("c{i}"), card(title, column, position))
            .await
            .expect("created");
    }
    let column = &board.columns[1].id;
    let titles: Vec<String> = f
        .snapshot()
        .cards
        .iter()
        .filter(|c| &c.column_id == column)
        .map(|c| c.title.clone())
        .collect();
    assert_eq!(titles, ["first", "top", "a", "b", "z"]);
}

#[tokio::test]
async fn validation_errors_name_the_problem() {
    let f = fixture();
    let err = f
        .run("t1", f.add_card("   "))
        .await
        .expect_err("empty title");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.message.contains("title"), "{}", err.message);
    let err = f
        .run(
            "t2",
            Command::CreateRoom {
                room_id: None,
                name: "#general".into(),
                topic: String::new(),
            },
        )
        .await
        .expect_err("duplicate room");
    assert_eq!(err.code, ErrorCode::Conflict);
    let err = f
        .run(
            "t3",
            Command::CreateRoom {
                room_id: None,
                name: "Dev Ops".into(),
                topic: String::new(),
            },
        )
        .await
        .expect_err("not a room name");
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(
        err.message
            .contains("lowercase letters, digits, '-' and '_'")
            && err.message.contains("try \"dev-ops\""),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn events_reach_hub_subscribers_in_order() {
    let f = fixture();
    let mut sub = f.hub.subscribe(
        &f.boot.workspace.id,
        f.hub.new_connection_id(),
        &f.boot.owner.id,
    );
    for i in 0..5 {
        f.run(&format!("e{i}"), f.add_card("x"))
            .await
            .expect("applied");
    }
    for seq in 5..10 {
        assert_eq!(sub.rx.recv().await.map(|frame| frame.seq), Some(seq));
    }
}

#[test]
fn a_store_from_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::create(dir.path()).expect("create");
    let txn = store.begin_write().expect("write");
    txn.open_table(META)
        .expect("meta")
        .insert(
            "schema_version",
            (schema::CURRENT + 1).to_le_bytes().as_slice(),
        )
        .expect("insert");
    txn.commit().expect("commit");
    drop(store);
    match Store::open(dir.path()) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (schema::CURRENT + 1, schema::CURRENT));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn opening_a_missing_store_says_how_to_create_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = Store::open(dir.path()).expect_err("missing");
    assert!(err.to_string().contains("warren-server init"), "{err}");
}
