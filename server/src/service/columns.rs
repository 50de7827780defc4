//! A board's name and its columns: renaming boards, and adding, renaming, moving and deleting
//! columns. Every command here rewrites the one board record and answers with the whole board,
//! so a client replaces its copy instead of replaying column arithmetic.

use redb::{ReadableTable, WriteTransaction};
use warren_protocol::limits::{MAX_COLUMNS, MAX_NAME_CHARS};
use warren_protocol::{Board, Card, Change, Column, ErrorCode, Id, rank};

use super::boards::load_board;
use super::{ApplyError, Ctx, pick_id, text};
use crate::store::encode;
use crate::store::read::{get_json, list_in_workspace};
use crate::store::tables::{BOARDS, CARDS, COLUMN_CARDS};

fn save_board(txn: &WriteTransaction, ctx: &Ctx<'_>, board: &Board) -> Result<(), ApplyError> {
    txn.open_table(BOARDS)?.insert(
        (ctx.ws(), board.id.as_str()),
        encode("boards", board)?.as_slice(),
    )?;
    Ok(())
}

fn column_index(board: &Board, column_id: &Id) -> Result<usize, ApplyError> {
    board
        .columns
        .iter()
        .position(|c| &c.id == column_id)
        .ok_or_else(|| {
            ApplyError::reject(
                ErrorCode::NotFound,
                format!("board {:?} has no column {column_id}", board.name),
            )
        })
}

/// Refuses a column name another column of the board (other than `except`) already has.
fn check_unique_column(board: &Board, name: &str, except: Option<&Id>) -> Result<(), ApplyError> {
    let taken = board
        .columns
        .iter()
        .any(|c| Some(&c.id) != except && c.name.eq_ignore_ascii_case(name));
    if taken {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "board {:?} already has a column named {name:?}; pick another name",
                board.name
            ),
        ));
    }
    Ok(())
}

pub fn rename_board(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
    name: &str,
) -> Result<Change, ApplyError> {
    let name = text::one_line("a board name", name, MAX_NAME_CHARS)?;
    let mut board = load_board(txn, ctx, board_id)?;
    let others: Vec<Board> = list_in_workspace(&txn.open_table(BOARDS)?, "boards", ctx.ws())?;
    if others
        .iter()
        .any(|b| b.id != board.id && b.name.eq_ignore_ascii_case(&name))
    {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("a board named {name:?} already exists; pick another name"),
        ));
    }
    board.name = name;
    save_board(txn, ctx, &board)?;
    Ok(Change::BoardUpdated { board })
}

pub fn add_column(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
    column_id: Option<&Id>,
    name: &str,
    index: Option<u32>,
) -> Result<Change, ApplyError> {
    let name = text::one_line("a column name", name, MAX_NAME_CHARS)?;
    let mut board = load_board(txn, ctx, board_id)?;
    if board.columns.len() >= MAX_COLUMNS {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "board {:?} already has {MAX_COLUMNS} columns, the limit; delete one first",
                board.name
            ),
        ));
    }
    check_unique_column(&board, &name, None)?;
    let id = pick_id(column_id, "col")?;
    if board.columns.iter().any(|c| c.id == id) {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("column {id} already exists"),
        ));
    }
    let at = index.map_or(board.columns.len(), |i| {
        usize::try_from(i).map_or(board.columns.len(), |i| i.min(board.columns.len()))
    });
    board.columns.insert(at, Column { id, name });
    save_board(txn, ctx, &board)?;
    Ok(Change::BoardUpdated { board })
}

pub fn rename_column(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
    column_id: &Id,
    name: &str,
) -> Result<Change, ApplyError> {
    let name = text::one_line("a column name", name, MAX_NAME_CHARS)?;
    let mut board = load_board(txn, ctx, board_id)?;
    let i = column_index(&board, column_id)?;
    check_unique_column(&board, &name, Some(column_id))?;
    board.columns[i].name = name;
    save_board(txn, ctx, &board)?;
    Ok(Change::BoardUpdated { board })
}

pub fn move_column(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
    column_id: &Id,
    index: u32,
) -> Result<Change, ApplyError> {
    let mut board = load_board(txn, ctx, board_id)?;
    let from = column_index(&board, column_id)?;
    let column = board.columns.remove(from);
    let to = usize::try_from(index).map_or(board.columns.len(), |i| i.min(board.columns.len()));
    board.columns.insert(to, column);
    save_board(txn, ctx, &board)?;
    Ok(Change::BoardUpdated { board })
}

pub fn delete_column(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
    column_id: &Id,
    move_cards_to: Option<&Id>,
) -> Result<Change, ApplyError> {
    let mut board = load_board(txn, ctx, board_id)?;
    let i = column_index(&board, column_id)?;
    if board.columns.len() == 1 {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!(
                "{:?} is the last column of board {:?}; a board keeps at least one column",
                board.columns[i].name, board.name
            ),
        ));
    }
    let mut column_cards = txn.open_table(COLUMN_CARDS)?;
    let ws = ctx.ws();
    let keys = (ws, column_id.as_str(), "")..(ws, column_id.as_str(), "~");
    let mut entries: Vec<(String, String)> = Vec::new();
    for entry in column_cards.range(keys)? {
        let (key, value) = entry?;
        entries.push((key.value().2.to_owned(), value.value().to_owned()));
    }
    let target = match (move_cards_to, entries.is_empty()) {
        (_, true) => None,
        (None, false) => {
            return Err(ApplyError::reject(
                ErrorCode::Validation,
                format!(
                    "column {:?} holds {} card(s); move them first, or give move_cards_to \
                     (another column of the board) to move them with the deletion",
                    board.columns[i].name,
                    entries.len()
                ),
            ));
        }
        (Some(target), false) => Some(target),
    };
    let mut moved_cards = Vec::with_capacity(entries.len());
    if let Some(target) = target {
        if target == column_id {
            return Err(ApplyError::reject(
                ErrorCode::Validation,
                "move_cards_to must be another column than the one being deleted",
            ));
        }
        column_index(&board, target)?;
        let bottom = (ws, target.as_str(), "")..(ws, target.as_str(), "~");
        let mut last = column_cards
            .range(bottom)?
            .next_back()
            .transpose()?
            .map(|(key, _)| key.value().2.to_owned());
        let mut cards = txn.open_table(CARDS)?;
        for (old_rank, card_id) in &entries {
            let card: Option<Card> = get_json(&cards, "cards", (ws, card_id.as_str()))?;
            let Some(mut card) = card else {
                continue;
            };
            let new_rank = rank::between(last.as_deref(), None);
            column_cards.remove((ws, column_id.as_str(), old_rank.as_str()))?;
            column_cards.insert((ws, target.as_str(), new_rank.as_str()), card_id.as_str())?;
            card.column_id = target.clone();
            card.rank = new_rank.clone();
            card.updated_at = ctx.now;
            cards.insert((ws, card_id.as_str()), encode("cards", &card)?.as_slice())?;
            last = Some(new_rank);
            moved_cards.push(card);
        }
    }
    board.columns.remove(i);
    save_board(txn, ctx, &board)?;
    Ok(Change::ColumnDeleted {
        board,
        column_id: column_id.clone(),
        moved_cards,
    })
}
