//! `warren board …`: list, create and rename boards.

use warren_protocol::{Board, Change, Command};

use crate::cli::BoardCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve;
use crate::session::Session;
use crate::{output, sanitize};

pub(super) async fn run(
    command: BoardCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        BoardCommand::List => {
            let state = session.snapshot().await?;
            out.either(&state.boards, || output::format_boards(&state.boards))
        }
        BoardCommand::Add { name, columns } => {
            let ack = session
                .command(Command::CreateBoard {
                    board_id: None,
                    name,
                    columns: (!columns.is_empty()).then_some(columns),
                })
                .await?;
            let Change::BoardCreated { board } = ack.event.change else {
                return Err(ClientError::Protocol("expected board_created".to_owned()));
            };
            out.either(&board, || {
                format!("created board {}\n", output::board_summary(&board))
            })
        }
        BoardCommand::Rename { board, name } => {
            let state = session.snapshot().await?;
            let found = resolve::find_board(&state, Some(&board))?;
            let old = sanitize::line(&found.name);
            let ack = session
                .command(Command::RenameBoard {
                    board_id: found.id.clone(),
                    name,
                })
                .await?;
            let board = updated_board(ack.event.change)?;
            out.either(&board, || {
                format!("renamed board {old} to {}\n", sanitize::line(&board.name))
            })
        }
    }
}

/// The board a `board_updated` or `column_deleted` event carries.
pub(super) fn updated_board(change: Change) -> Result<Board, ClientError> {
    match change {
        Change::BoardUpdated { board } | Change::ColumnDeleted { board, .. } => Ok(board),
        other => Err(ClientError::Protocol(format!(
            "expected board_updated, got {}",
            other.name()
        ))),
    }
}
