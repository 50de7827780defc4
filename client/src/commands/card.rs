//! `warren card …`: cards are found by number or id, boards and columns by name or id, all
//! against a fresh snapshot.

use warren_protocol::{Board, Card, Change, Command, Position, WorkspaceState};

use crate::cli::{CardAddArgs, CardCommand, CardEditArgs, CardListArgs};
use crate::commands::Out;
use crate::error::ClientError;
use crate::names::Names;
use crate::output;
use crate::resolve::{self, find_board, find_card, find_column, find_member, parse_card_ref};
use crate::sanitize;
use crate::session::Session;

pub(super) async fn run(
    command: CardCommand,
    session: &mut Session,
    out: &mut Out,
) -> Result<(), ClientError> {
    match command {
        CardCommand::Add(args) => add(args, session, out).await,
        CardCommand::List(args) => list(args, session, out).await,
        CardCommand::Show { card } => {
            let card_ref = parse_card_ref(&card)?;
            let state = session.snapshot().await?;
            let card = find_card(&state, &card_ref)?;
            let names = Names::from_state(&state);
            out.either(card, || output::format_card_detail(card, &names))
        }
        CardCommand::Move { card, column } => {
            let card_ref = parse_card_ref(&card)?;
            let state = session.snapshot().await?;
            let card = find_card(&state, &card_ref)?;
            let board = board_of(&state, card)?;
            let column = find_column(board, Some(&column))?;
            let ack = session
                .command(Command::MoveCard {
                    card_id: card.id.clone(),
                    column_id: column.id.clone(),
                    position: Position::Bottom,
                })
                .await?;
            let Change::CardMoved {
                card,
                from_column_id,
            } = ack.event.change
            else {
                return Err(ClientError::Protocol("expected card_moved".to_owned()));
            };
            let names = Names::from_state(&state);
            out.either(&card, || {
                format!(
                    "moved #{} {}: {} -> {}",
                    card.number,
                    sanitize::line(&card.title),
                    names.column(&from_column_id),
                    names.column(&card.column_id)
                )
            })
        }
        CardCommand::Edit(args) => edit(args, session, out).await,
        CardCommand::Rm { card } => {
            let card_ref = parse_card_ref(&card)?;
            let state = session.snapshot().await?;
            let card = find_card(&state, &card_ref)?;
            session
                .command(Command::DeleteCard {
                    card_id: card.id.clone(),
                })
                .await?;
            out.either(card, || {
                format!("deleted #{} {}", card.number, sanitize::line(&card.title))
            })
        }
    }
}

fn board_of<'a>(state: &'a WorkspaceState, card: &Card) -> Result<&'a Board, ClientError> {
    state
        .boards
        .iter()
        .find(|b| b.id == card.board_id)
        .ok_or_else(|| {
            ClientError::Protocol(format!("card #{} is on an unknown board", card.number))
        })
}

/// The board a new card goes on: `--board`, else the board owning a `--column` given by id, else
/// the first board.
fn target_board<'a>(
    state: &'a WorkspaceState,
    board: Option<&str>,
    column: Option<&str>,
) -> Result<&'a Board, ClientError> {
    if board.is_none()
        && let Some(column) = column
        && let Some(owner) = state
            .boards
            .iter()
            .find(|b| b.columns.iter().any(|c| c.id.as_str() == column))
    {
        return Ok(owner);
    }
    find_board(state, board)
}

async fn add(args: CardAddArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let board = target_board(&state, args.board.as_deref(), args.column.as_deref())?;
    let column = find_column(board, args.column.as_deref())?;
    let assignee = match args.assignee.as_deref() {
        Some(name) => Some(find_member(&state, name)?.user_id.clone()),
        None => None,
    };
    let ack = session
        .command(Command::CreateCard {
            card_id: None,
            board_id: board.id.clone(),
            column_id: Some(column.id.clone()),
            title: args.title,
            description: args.description.unwrap_or_default(),
            labels: args.labels,
            assignee,
            priority: args.priority.unwrap_or_default(),
            position: Position::Bottom,
        })
        .await?;
    let Change::CardCreated { card } = ack.event.change else {
        return Err(ClientError::Protocol("expected card_created".to_owned()));
    };
    let names = Names::from_state(&state);
    out.either(&card, || {
        format!(
            "created {} — {}",
            output::format_card_line(&card, &names),
            card.id
        )
    })
}

async fn list(args: CardListArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let state = session.snapshot().await?;
    let cards = select_cards(&state, args.board.as_deref(), args.column.as_deref())?;
    let names = Names::from_state(&state);
    out.either(&cards, || output::format_cards(&cards, &names))
}

/// The cards of a board and/or column; without a board, a column name matches that column on
/// every board.
fn select_cards(
    state: &WorkspaceState,
    board: Option<&str>,
    column: Option<&str>,
) -> Result<Vec<Card>, ClientError> {
    let board_id = match board {
        Some(key) => Some(find_board(state, Some(key))?.id.clone()),
        None => None,
    };
    let column_ids = match (column, board) {
        (None, _) => None,
        (Some(col), Some(key)) => Some(vec![
            find_column(find_board(state, Some(key))?, Some(col))?
                .id
                .clone(),
        ]),
        (Some(col), None) => {
            let mut ids = Vec::new();
            let mut last_error = None;
            for b in &state.boards {
                match find_column(b, Some(col)) {
                    Ok(c) => ids.push(c.id.clone()),
                    Err(e) => last_error = Some(e),
                }
            }
            if ids.is_empty() {
                return Err(last_error.unwrap_or_else(|| {
                    ClientError::NotFound(format!(
                        "no column {:?}: workspace {} has no boards yet",
                        sanitize::line(col),
                        sanitize::line(&state.workspace.name)
                    ))
                }));
            }
            Some(ids)
        }
    };
    Ok(state
        .cards
        .iter()
        .filter(|c| board_id.as_ref().is_none_or(|b| &c.board_id == b))
        .filter(|c| {
            column_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&c.column_id))
        })
        .cloned()
        .collect())
}

async fn edit(args: CardEditArgs, session: &mut Session, out: &mut Out) -> Result<(), ClientError> {
    let card_ref = parse_card_ref(&args.card)?;
    let labels = if args.clear_labels {
        Some(Vec::new())
    } else if args.labels.is_empty() {
        None
    } else {
        Some(args.labels)
    };
    if args.title.is_none()
        && args.description.is_none()
        && labels.is_none()
        && args.priority.is_none()
        && args.assignee.is_none()
        && !args.unassign
    {
        return Err(ClientError::Usage(
            "nothing to change: pass --title, --description, --label, --clear-labels, --priority, --assignee or --unassign"
                .to_owned(),
        ));
    }
    let state = session.snapshot().await?;
    let card = resolve::find_card(&state, &card_ref)?;
    let assignee = match (args.unassign, args.assignee.as_deref()) {
        (true, _) => Some(None),
        (false, Some(name)) => Some(Some(find_member(&state, name)?.user_id.clone())),
        (false, None) => None,
    };
    let ack = session
        .command(Command::UpdateCard {
            card_id: card.id.clone(),
            title: args.title,
            description: args.description,
            labels,
            assignee,
            priority: args.priority,
        })
        .await?;
    let Change::CardUpdated { card } = ack.event.change else {
        return Err(ClientError::Protocol("expected card_updated".to_owned()));
    };
    out.either(&card, || {
        format!("updated #{} {}", card.number, sanitize::line(&card.title))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::state;

    fn numbers(cards: Result<Vec<Card>, ClientError>) -> Vec<u64> {
        cards
            .map(|c| c.iter().map(|c| c.number).collect())
            .unwrap_or_default()
    }

    #[test]
    fn selects_cards_by_board_and_column() {
        let s = state();
        assert_eq!(numbers(select_cards(&s, None, None)), [12, 3]);
        assert_eq!(
            numbers(select_cards(&s, Some("main"), Some("todo"))),
            [12, 3]
        );
        assert_eq!(
            numbers(select_cards(&s, Some("ops"), None)),
            Vec::<u64>::new()
        );
        assert_eq!(
            numbers(select_cards(&s, None, Some("Done"))),
            Vec::<u64>::new()
        );
        assert!(select_cards(&s, None, Some("Nope")).is_err());
    }

    #[test]
    fn column_id_picks_its_board() {
        let s = state();
        let board = target_board(&s, None, Some("col_x")).map(|b| b.name.clone());
        assert_eq!(board.ok().as_deref(), Some("ops"));
        let board = target_board(&s, None, Some("Done")).map(|b| b.name.clone());
        assert_eq!(board.ok().as_deref(), Some("Main"));
    }
}
