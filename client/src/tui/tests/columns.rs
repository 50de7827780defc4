//! Board and column changes in the replica and the optimistic view: a renamed or reordered board
//! replaces the old copy, a deleted column's cards land where the server put them, and pending
//! column commands show before the server answers.

use warren_protocol::{Board, Change, Command, Id};

use super::fixture::{column_ids, event, me, sample_app};

fn main_board(app: &super::super::app::App) -> Board {
    app.view().boards[0].clone()
}

fn titles(app: &super::super::app::App, column: &Id) -> Vec<String> {
    app.view()
        .column_cards(column)
        .iter()
        .map(|c| c.title.clone())
        .collect()
}

#[test]
fn board_updated_replaces_the_board_and_keeps_its_cards() {
    let mut app = sample_app();
    let mut board = main_board(&app);
    board.name = "Sprint".into();
    board.columns.swap(0, 1);
    let update = event(&app, &me(), Change::BoardUpdated { board });
    app.on_net(update);
    let board = main_board(&app);
    assert_eq!(board.name, "Sprint");
    assert_eq!(board.columns[0].name, "Todo");
    assert_eq!(board.columns[1].name, "Backlog");
    assert_eq!(app.view().boards.len(), 1);
    assert_eq!(
        titles(&app, &column_ids()[1]),
        ["Rate-limit login attempts"]
    );
}

#[test]
fn column_deleted_moves_the_cards_the_server_moved_and_drops_the_column() {
    let mut app = sample_app();
    let cols = column_ids();
    let mut board = main_board(&app);
    board.columns.retain(|c| c.id != cols[0]);
    let moved_cards: Vec<_> = app
        .view()
        .column_cards(&cols[0])
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.clone();
            c.column_id = cols[4].clone();
            c.rank = format!("z{i}");
            c
        })
        .collect();
    assert_eq!(moved_cards.len(), 2, "the fixture's backlog has two cards");
    let deleted = event(
        &app,
        &me(),
        Change::ColumnDeleted {
            board,
            column_id: cols[0].clone(),
            moved_cards,
        },
    );
    app.on_net(deleted);
    assert!(titles(&app, &cols[0]).is_empty());
    assert_eq!(
        titles(&app, &cols[4]),
        [
            "Token auth with hashed secrets",
            "Dark mode for exported boards",
            "Export a board as markdown"
        ]
    );
    assert_eq!(main_board(&app).columns.len(), 4);
}

#[test]
fn pending_column_commands_show_at_once() {
    let mut app = sample_app();
    let cols = column_ids();
    let board_id = main_board(&app).id;
    app.conn = super::super::state::ConnState::Offline {
        reason: "test".into(),
    };
    app.submit(Command::AddColumn {
        board_id: board_id.clone(),
        column_id: Some(super::fixture::id("col", 99)),
        name: "QA".into(),
        index: Some(1),
    });
    app.submit(Command::RenameColumn {
        board_id: board_id.clone(),
        column_id: cols[2].clone(),
        name: "Doing".into(),
    });
    app.submit(Command::MoveColumn {
        board_id: board_id.clone(),
        column_id: cols[4].clone(),
        index: 0,
    });
    app.submit(Command::DeleteColumn {
        board_id: board_id.clone(),
        column_id: cols[0].clone(),
        move_cards_to: Some(cols[1].clone()),
    });
    app.submit(Command::RenameBoard {
        board_id,
        name: "Sprint".into(),
    });
    let board = main_board(&app);
    let names: Vec<&str> = board.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Done", "QA", "Todo", "Doing", "Review"]);
    assert_eq!(board.name, "Sprint");
    assert_eq!(
        titles(&app, &cols[1]),
        [
            "Rate-limit login attempts",
            "Dark mode for exported boards",
            "Export a board as markdown"
        ]
    );
    assert_eq!(
        app.model.boards[0].columns.len(),
        5,
        "confirmed state unchanged"
    );
}
