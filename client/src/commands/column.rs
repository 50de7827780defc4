//! `warren column …`: add, rename, move and delete the columns of a board.

use warren_protocol::Command;

use super::board::updated_board;
use crate::cli::ColumnCommand;
use crate::commands::Out;
use crate::error::ClientError;
use crate::resolve;
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: ColumnCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let (wire, done) = match command {
        ColumnCommand::Add { name, board, at } => {
            let board = resolve::find_board(&state, board.as_deref())?;
            let text = format!("added column {}", sanitize::line(&name));
            let command = Command::AddColumn {
                board_id: board.id.clone(),
                column_id: None,
                name,
                index: at.map(|n| n.saturating_sub(1)),
            };
            (command, text)
        }
        ColumnCommand::Rename {
            column,
            name,
            board,
        } => {
            let board = resolve::find_board(&state, board.as_deref())?;
            let found = resolve::find_column(board, Some(&column))?;
            let text = format!(
                "renamed column {} to {}",
                sanitize::line(&found.name),
                sanitize::line(&name)
            );
            let command = Command::RenameColumn {
                board_id: board.id.clone(),
                column_id: found.id.clone(),
                name,
            };
            (command, text)
        }
        ColumnCommand::Move { column, to, board } => {
            let board = resolve::find_board(&state, board.as_deref())?;
            let found = resolve::find_column(board, Some(&column))?;
            let text = format!(
                "moved column {} to position {to}",
                sanitize::line(&found.name)
            );
            let command = Command::MoveColumn {
                board_id: board.id.clone(),
                column_id: found.id.clone(),
                index: to.saturating_sub(1),
            };
            (command, text)
        }
        ColumnCommand::Rm {
            column,
            move_cards_to,
            board,
        } => {
            let board = resolve::find_board(&state, board.as_deref())?;
            let found = resolve::find_column(board, Some(&column))?;
            let target = match move_cards_to.as_deref() {
                Some(key) => Some(resolve::find_column(board, Some(key))?.id.clone()),
                None => None,
            };
            let text = format!("deleted column {}", sanitize::line(&found.name));
            let command = Command::DeleteColumn {
                board_id: board.id.clone(),
                column_id: found.id.clone(),
                move_cards_to: target,
            };
            (command, text)
        }
    };
    let ack = session.command(wire).await?;
    let board = updated_board(ack.event.change)?;
    out.either(&board, || {
        format!("{done}: {}\n", crate::output::board_summary(&board))
    })
}
