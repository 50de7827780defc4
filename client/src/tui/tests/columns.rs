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

/// The commands the app queued for the network, by wire name.
fn sent(app: &mut super::super::app::App) -> Vec<Command> {
    app.outbound
        .drain(..)
        .filter_map(|r| match r {
            super::super::net::NetRequest::Command { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

#[test]
fn keys_create_rename_move_and_delete_columns_and_boards() {
    use super::fixture::press;
    let mut app = sample_app();
    let cols = column_ids();

    // C: a column right of the focused one (Backlog), named in a prompt.
    press(&mut app, "CQA\n");
    let cmds = sent(&mut app);
    assert!(
        matches!(&cmds[..], [Command::AddColumn { name, index: Some(1), column_id: Some(_), .. }] if name == "QA"),
        "{cmds:?}"
    );
    let board = main_board(&app);
    assert_eq!(board.columns[1].name, "QA", "shown at once");
    assert_eq!(app.board.column, 1, "focus follows the new column");

    // An empty name keeps the prompt open and says why; esc leaves without a change.
    press(&mut app, "C\n");
    assert!(sent(&mut app).is_empty());
    match &app.overlay {
        Some(super::super::state::Overlay::Prompt(p)) => assert!(p.error.is_some()),
        other => panic!("the prompt stays open: {other:?}"),
    }
    app.on_key(super::fixture::key(crossterm::event::KeyCode::Esc));
    assert!(app.overlay.is_none());

    // R renames the focused column (the prompt starts with its name); > moves it right.
    app.board.column = 2;
    press(&mut app, "R");
    for _ in 0.."In Progress".len() {
        app.on_key(super::fixture::key(crossterm::event::KeyCode::Backspace));
    }
    press(&mut app, "Doing\n>");
    let cmds = sent(&mut app);
    assert!(
        matches!(&cmds[..], [Command::RenameColumn { name, column_id, .. }, Command::MoveColumn { index: 3, .. }] if name == "Doing" && column_id == &cols[1]),
        "{cmds:?}"
    );
    assert_eq!(app.board.column, 3);

    // X asks, names where the cards go, and deletes with them moved to the left neighbour.
    app.board.column = 0;
    press(&mut app, "X");
    match &app.overlay {
        Some(super::super::state::Overlay::Confirm { prompt, .. }) => {
            assert!(prompt.contains("2 cards move to"), "{prompt}")
        }
        other => panic!("asks first: {other:?}"),
    }
    press(&mut app, "y");
    let cmds = sent(&mut app);
    assert!(
        matches!(&cmds[..], [Command::DeleteColumn { column_id, move_cards_to: Some(_), .. }] if column_id == &cols[0]),
        "{cmds:?}"
    );

    // B makes a board; once the server confirms it, the board is shown.
    press(&mut app, "BLaunch\n");
    let cmds = sent(&mut app);
    let Some(Command::CreateBoard {
        board_id: Some(new_board),
        name,
        ..
    }) = cmds.first()
    else {
        panic!("{cmds:?}");
    };
    assert_eq!(name, "Launch");
    let created = Board {
        id: new_board.clone(),
        name: "Launch".into(),
        columns: vec![],
        created_at: 0,
    };
    let event = event(&app, &me(), Change::BoardCreated { board: created });
    app.on_net(event);
    assert_eq!(app.view().boards[app.board.board].name, "Launch");
}

#[test]
fn the_prompt_is_drawn_with_its_question_and_keys() {
    use super::fixture::{draw, press};
    let mut app = sample_app();
    press(&mut app, "CQ");
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
}
