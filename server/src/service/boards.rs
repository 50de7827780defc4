//! Boards, columns and cards: creating boards, and creating, editing, moving and deleting cards.

use redb::{ReadableTable, Table, WriteTransaction};
use warren_protocol::limits::{
    MAX_COLUMNS, MAX_DESCRIPTION_BYTES, MAX_LABEL_CHARS, MAX_LABELS, MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
};
use warren_protocol::{
    Board, Card, Change, Column, Command, ErrorCode, Id, Member, Position, rank,
};

use warren_protocol::permission::command_named;

use super::{ApplyError, Ctx, pick_id, text};
use crate::store::read::{get_json, list_in_workspace};
use crate::store::tables::{BOARDS, CARDS, COLUMN_CARDS, COUNTERS, MEMBERS};
use crate::store::{StoreError, encode};

/// The columns a board gets when none are named.
pub const DEFAULT_COLUMNS: [&str; 5] = ["Backlog", "Todo", "In Progress", "Review", "Done"];

type ColumnCards<'t> = Table<'t, (&'static str, &'static str, &'static str), &'static str>;

pub fn create_board(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: Option<&Id>,
    name: &str,
    columns: Option<&[String]>,
) -> Result<Change, ApplyError> {
    let name = text::one_line("a board name", name, MAX_NAME_CHARS)?;
    let column_names: Vec<String> = match columns {
        Some(cols) => cols
            .iter()
            .map(|c| text::one_line("a column name", c, MAX_NAME_CHARS))
            .collect::<Result<_, _>>()?,
        None => DEFAULT_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
    };
    if column_names.is_empty() || column_names.len() > MAX_COLUMNS {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("a board needs 1 to {MAX_COLUMNS} columns"),
        ));
    }
    for (i, c) in column_names.iter().enumerate() {
        if column_names[..i].iter().any(|o| o.eq_ignore_ascii_case(c)) {
            return Err(ApplyError::reject(
                ErrorCode::Validation,
                format!("column {c:?} appears twice; column names must differ"),
            ));
        }
    }
    let id = pick_id(board_id, "board")?;
    let mut boards = txn.open_table(BOARDS)?;
    let existing: Vec<Board> = list_in_workspace(&boards, "boards", ctx.ws())?;
    if existing.iter().any(|b| b.id == id) {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("board {id} already exists"),
        ));
    }
    if existing.iter().any(|b| b.name.eq_ignore_ascii_case(&name)) {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("a board named {name:?} already exists; pick another name"),
        ));
    }
    let columns = column_names
        .into_iter()
        .map(|name| {
            Ok(Column {
                id: crate::auth::new_sortable_id("col")?,
                name,
            })
        })
        .collect::<Result<Vec<_>, ApplyError>>()?;
    let board = Board {
        id,
        name,
        columns,
        created_at: ctx.now,
    };
    boards.insert(
        (ctx.ws(), board.id.as_str()),
        encode("boards", &board)?.as_slice(),
    )?;
    Ok(Change::BoardCreated { board })
}

pub(super) fn load_board(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    board_id: &Id,
) -> Result<Board, ApplyError> {
    get_json(
        &txn.open_table(BOARDS)?,
        "boards",
        (ctx.ws(), board_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no board {board_id} in this workspace"),
        )
    })
}

/// Loads a card the actor is about to change with `command`: anyone with `card:edit_any`, or
/// with `card:edit_own` the card's creator or assignee.
fn load_card_to_change(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    card_id: &Id,
    command: &str,
) -> Result<Card, ApplyError> {
    let card = load_card(txn, ctx, card_id)?;
    let owned = &card.created_by == ctx.actor || card.assignee.as_ref() == Some(ctx.actor);
    ctx.check_own(command, command_named(command), owned)?;
    Ok(card)
}

fn load_card(txn: &WriteTransaction, ctx: &Ctx<'_>, card_id: &Id) -> Result<Card, ApplyError> {
    get_json(
        &txn.open_table(CARDS)?,
        "cards",
        (ctx.ws(), card_id.as_str()),
    )?
    .ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            format!("no card {card_id} in this workspace"),
        )
    })
}

fn check_column(board: &Board, column_id: &Id) -> Result<(), ApplyError> {
    if board.columns.iter().any(|c| &c.id == column_id) {
        Ok(())
    } else {
        Err(ApplyError::reject(
            ErrorCode::NotFound,
            format!("board {:?} has no column {column_id}", board.name),
        ))
    }
}

fn check_assignee(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    assignee: Option<&Id>,
) -> Result<(), ApplyError> {
    if let Some(user) = assignee {
        let member: Option<Member> = get_json(
            &txn.open_table(MEMBERS)?,
            "members",
            (ctx.ws(), user.as_str()),
        )?;
        if member.is_none() {
            return Err(ApplyError::reject(
                ErrorCode::NotFound,
                format!("{user} is not a member of this workspace"),
            ));
        }
    }
    Ok(())
}

/// The ranks of a column in order, leaving out `skip` (the card being moved).
fn column_ranks(
    table: &ColumnCards<'_>,
    ws: &str,
    column: &Id,
    skip: Option<&Id>,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut out = Vec::new();
    for entry in table.range((ws, column.as_str(), "")..)? {
        let (key, value) = entry?;
        let (w, c, r) = key.value();
        if w != ws || c != column.as_str() {
            break;
        }
        if skip.is_some_and(|s| s.as_str() == value.value()) {
            continue;
        }
        out.push((r.to_owned(), value.value().to_owned()));
    }
    Ok(out)
}

/// The rank for a new card placed at `position` in a column. `Top` and `Bottom` (the default) read
/// only the column's first or last entry, so creating a card does not get slower as its column
/// grows; `After` and `Before` read the whole column to find the neighbour.
fn new_card_rank(
    table: &ColumnCards<'_>,
    ws: &str,
    column: &Id,
    position: &Position,
) -> Result<String, ApplyError> {
    // Ranks are ASCII letters and digits, all of which sort below '~'.
    let column_keys = (ws, column.as_str(), "")..(ws, column.as_str(), "~");
    match position {
        Position::Top => {
            let first = table.range(column_keys)?.next().transpose()?;
            let first = first.map(|(key, _)| key.value().2.to_owned());
            Ok(rank::between(None, first.as_deref()))
        }
        Position::Bottom => {
            let last = table.range(column_keys)?.next_back().transpose()?;
            let last = last.map(|(key, _)| key.value().2.to_owned());
            Ok(rank::between(last.as_deref(), None))
        }
        Position::After { .. } | Position::Before { .. } => {
            rank_for(&column_ranks(table, ws, column, None)?, position)
        }
    }
}

/// The rank for a card placed at `position` among `ranks` (`(rank, card id)`, in order).
fn rank_for(ranks: &[(String, String)], position: &Position) -> Result<String, ApplyError> {
    let column: Vec<(&str, &str)> = ranks
        .iter()
        .map(|(r, id)| (r.as_str(), id.as_str()))
        .collect();
    rank::for_position(&column, position).ok_or_else(|| {
        ApplyError::reject(
            ErrorCode::NotFound,
            "the card to place it next to is not in the target column",
        )
    })
}

pub fn create_card(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
) -> Result<Change, ApplyError> {
    let Command::CreateCard {
        card_id,
        board_id,
        column_id,
        title,
        description,
        labels,
        assignee,
        priority,
        position,
    } = command
    else {
        return Err(ApplyError::reject(
            ErrorCode::Internal,
            "create_card dispatched wrongly",
        ));
    };
    let title = text::one_line("a card title", title, MAX_TITLE_CHARS)?;
    let description = text::markdown("a description", description, MAX_DESCRIPTION_BYTES, false)?;
    let labels = text::labels(labels, MAX_LABELS, MAX_LABEL_CHARS)?;
    let board = load_board(txn, ctx, board_id)?;
    let column_id =
        match column_id {
            Some(c) => {
                check_column(&board, c)?;
                c.clone()
            }
            None => board.columns.first().map(|c| c.id.clone()).ok_or_else(|| {
                ApplyError::reject(ErrorCode::Validation, "the board has no columns")
            })?,
        };
    check_assignee(txn, ctx, assignee.as_ref())?;
    let id = pick_id(card_id.as_ref(), "card")?;
    let mut cards = txn.open_table(CARDS)?;
    if cards.get((ctx.ws(), id.as_str()))?.is_some() {
        return Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!("card {id} already exists"),
        ));
    }
    let mut column_cards = txn.open_table(COLUMN_CARDS)?;
    let rank = new_card_rank(&column_cards, ctx.ws(), &column_id, position)?;
    let mut counters = txn.open_table(COUNTERS)?;
    let number = counters
        .get((ctx.ws(), "card_number"))?
        .map_or(1, |g| g.value());
    counters.insert((ctx.ws(), "card_number"), number + 1)?;
    let card = Card {
        id,
        number,
        board_id: board.id,
        column_id,
        rank,
        title,
        description,
        labels,
        assignee: assignee.clone(),
        priority: *priority,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    column_cards.insert(
        (ctx.ws(), card.column_id.as_str(), card.rank.as_str()),
        card.id.as_str(),
    )?;
    cards.insert(
        (ctx.ws(), card.id.as_str()),
        encode("cards", &card)?.as_slice(),
    )?;
    Ok(Change::CardCreated { card })
}

pub fn update_card(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
) -> Result<Change, ApplyError> {
    let Command::UpdateCard {
        card_id,
        title,
        description,
        labels,
        assignee,
        priority,
    } = command
    else {
        return Err(ApplyError::reject(
            ErrorCode::Internal,
            "update_card dispatched wrongly",
        ));
    };
    // With no field given, the update only touches the card: `updated_at` moves and a
    // `card_updated` event records it (docs/protocol.md, update_card).
    let mut card = load_card_to_change(txn, ctx, card_id, "update_card")?;
    if let Some(t) = title {
        card.title = text::one_line("a card title", t, MAX_TITLE_CHARS)?;
    }
    if let Some(d) = description {
        card.description = text::markdown("a description", d, MAX_DESCRIPTION_BYTES, false)?;
    }
    if let Some(l) = labels {
        card.labels = text::labels(l, MAX_LABELS, MAX_LABEL_CHARS)?;
    }
    if let Some(a) = assignee {
        check_assignee(txn, ctx, a.as_ref())?;
        card.assignee = a.clone();
    }
    if let Some(p) = priority {
        card.priority = *p;
    }
    card.updated_at = ctx.now;
    txn.open_table(CARDS)?.insert(
        (ctx.ws(), card.id.as_str()),
        encode("cards", &card)?.as_slice(),
    )?;
    Ok(Change::CardUpdated { card })
}

pub fn move_card(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    card_id: &Id,
    column_id: &Id,
    position: &Position,
) -> Result<Change, ApplyError> {
    let mut card = load_card_to_change(txn, ctx, card_id, "move_card")?;
    let board = load_board(txn, ctx, &card.board_id)?;
    check_column(&board, column_id)?;
    if matches!(position, Position::After { card_id: n } | Position::Before { card_id: n } if n == card_id)
    {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            "a card cannot be placed relative to itself",
        ));
    }
    let mut column_cards = txn.open_table(COLUMN_CARDS)?;
    let ranks = column_ranks(&column_cards, ctx.ws(), column_id, Some(card_id))?;
    let rank = rank_for(&ranks, position)?;
    let from_column_id = card.column_id.clone();
    column_cards.remove((ctx.ws(), card.column_id.as_str(), card.rank.as_str()))?;
    card.column_id = column_id.clone();
    card.rank = rank;
    card.updated_at = ctx.now;
    column_cards.insert(
        (ctx.ws(), card.column_id.as_str(), card.rank.as_str()),
        card.id.as_str(),
    )?;
    txn.open_table(CARDS)?.insert(
        (ctx.ws(), card.id.as_str()),
        encode("cards", &card)?.as_slice(),
    )?;
    Ok(Change::CardMoved {
        card,
        from_column_id,
    })
}

pub fn delete_card(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    card_id: &Id,
) -> Result<Change, ApplyError> {
    let card = load_card_to_change(txn, ctx, card_id, "delete_card")?;
    txn.open_table(COLUMN_CARDS)?.remove((
        ctx.ws(),
        card.column_id.as_str(),
        card.rank.as_str(),
    ))?;
    txn.open_table(CARDS)?
        .remove((ctx.ws(), card.id.as_str()))?;
    Ok(Change::CardDeleted {
        card_id: card.id,
        board_id: card.board_id,
    })
}
