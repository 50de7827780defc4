//! Changes the user made that the server has not confirmed yet.
//!
//! Each command gets its request id (and, for creations, its entity id) when the user makes it,
//! so it can be re-sent after a reconnect without ever being applied twice. Until the server
//! answers, the change is shown optimistically: [`Outbox::project`] applies the pending
//! commands to a copy of the confirmed model.

use warren_protocol::{Card, Change, Command, Id, Message, Position, RequestId, rank};

use super::model::Model;

/// One pending command.
#[derive(Debug, Clone)]
pub struct Pending {
    pub request_id: RequestId,
    pub command: Command,
    /// Sent on the current connection (it is re-sent after a reconnect).
    pub sent: bool,
}

/// The queue of pending commands, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    items: Vec<Pending>,
}

impl Outbox {
    /// Queues a command.
    pub fn push(&mut self, request_id: RequestId, command: Command) {
        self.items.push(Pending {
            request_id,
            command,
            sent: false,
        });
    }

    /// Puts commands saved by an earlier run in front of this run's (skipping any already here).
    pub fn restore(&mut self, saved: Vec<Pending>) {
        let mut saved: Vec<Pending> = saved
            .into_iter()
            .filter(|p| !self.items.iter().any(|q| q.request_id == p.request_id))
            .collect();
        saved.append(&mut self.items);
        self.items = saved;
    }

    /// Every pending command, oldest first.
    pub fn items(&self) -> &[Pending] {
        &self.items
    }

    /// Removes a command the server answered (applied or rejected).
    pub fn resolve(&mut self, request_id: &RequestId) -> Option<Pending> {
        let i = self
            .items
            .iter()
            .position(|p| &p.request_id == request_id)?;
        Some(self.items.remove(i))
    }

    /// Marks every command unsent (the connection dropped).
    pub fn mark_all_unsent(&mut self) {
        for p in &mut self.items {
            p.sent = false;
        }
    }

    /// The commands not yet sent on this connection, marking them sent.
    pub fn take_unsent(&mut self) -> Vec<Pending> {
        let mut out = Vec::new();
        for p in &mut self.items {
            if !p.sent {
                p.sent = true;
                out.push(p.clone());
            }
        }
        out
    }

    /// How many commands wait for the server.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Pending messages of a room, in the order they were written.
    pub fn pending_messages(&self, room: &Id, author: &Id, now: i64) -> Vec<Message> {
        self.items
            .iter()
            .filter_map(|p| match &p.command {
                Command::PostMessage {
                    message_id: Some(id),
                    room_id,
                    body,
                } if room_id == room => Some(Message {
                    id: id.clone(),
                    room_id: room_id.clone(),
                    seq: u64::MAX,
                    author: author.clone(),
                    body: crate::sanitize::block(body),
                    created_at: now,
                    edited_at: None,
                }),
                _ => None,
            })
            .collect()
    }

    /// Whether a card or message has an unconfirmed change.
    pub fn touches(&self, id: &Id) -> bool {
        self.items
            .iter()
            .any(|p| command_target(&p.command) == Some(id))
    }

    /// The confirmed model with every pending card change applied on top. Pending messages are
    /// shown from [`Outbox::pending_messages`] instead, so the (large) chat history is not copied.
    pub fn project(&self, model: &Model, actor: &Id, now: i64) -> Model {
        let mut projected = model.clone();
        for p in &self.items {
            if let Some(change) = local_change(&projected, &p.command, actor, now) {
                projected.apply_change(&change);
            }
        }
        projected
    }
}

fn command_target(command: &Command) -> Option<&Id> {
    match command {
        Command::CreateCard { card_id, .. } => card_id.as_ref(),
        Command::UpdateCard { card_id, .. }
        | Command::MoveCard { card_id, .. }
        | Command::DeleteCard { card_id } => Some(card_id),
        Command::PostMessage { message_id, .. } => message_id.as_ref(),
        Command::EditMessage { message_id, .. } | Command::DeleteMessage { message_id } => {
            Some(message_id)
        }
        Command::CreateBoard { .. }
        | Command::RenameBoard { .. }
        | Command::AddColumn { .. }
        | Command::RenameColumn { .. }
        | Command::MoveColumn { .. }
        | Command::DeleteColumn { .. }
        | Command::RenameWorkspace { .. }
        | Command::SetMemberRole { .. }
        | Command::RemoveMember { .. }
        | Command::DeleteWorkspace { .. }
        | Command::CreateRoom { .. }
        | Command::CreateJob { .. }
        | Command::UpdateJob { .. }
        | Command::DeleteJob { .. }
        | Command::StartRun { .. }
        | Command::CancelRun { .. }
        | Command::ApproveRun { .. }
        | Command::RejectRun { .. }
        | Command::RetryRun { .. }
        | Command::ReportRunStarted { .. }
        | Command::ReportRunFinished { .. }
        | Command::CreateProvider { .. }
        | Command::UpdateProvider { .. }
        | Command::DeleteProvider { .. }
        | Command::TestProvider { .. }
        | Command::CreateAgent { .. }
        | Command::UpdateAgent { .. }
        | Command::DeleteAgent { .. }
        | Command::AskAgent { .. }
        | Command::DecideTool { .. }
        | Command::RevokeApproval { .. }
        | Command::SetBudget { .. }
        | Command::ClearBudget { .. }
        | Command::StartModelCall { .. }
        | Command::FinishModelCall { .. }
        | Command::CallTool { .. }
        | Command::ReportProviderHealth { .. } => None,
    }
}

/// The rank a card would get at `position` in `column`, leaving out `moving`.
pub fn local_rank(model: &Model, column: &Id, position: &Position, moving: Option<&Id>) -> String {
    let ranks: Vec<(&str, &Id)> = model
        .column_cards(column)
        .into_iter()
        .filter(|c| Some(&c.id) != moving)
        .map(|c| (c.rank.as_str(), &c.id))
        .collect();
    let column: Vec<(&str, &str)> = ranks.iter().map(|(r, id)| (*r, id.as_str())).collect();
    // A neighbour that vanished meanwhile: show it at the bottom until the server decides.
    rank::for_position(&column, position)
        .unwrap_or_else(|| rank::between(column.last().map(|(r, _)| *r), None))
}

/// What a pending command will most likely do, computed locally.
fn local_change(model: &Model, command: &Command, actor: &Id, now: i64) -> Option<Change> {
    match command {
        Command::CreateCard {
            card_id: Some(id),
            board_id,
            column_id,
            title,
            description,
            labels,
            assignee,
            priority,
            position,
        } => {
            let board = model.boards.iter().find(|b| &b.id == board_id)?;
            let column = column_id
                .clone()
                .or_else(|| board.columns.first().map(|c| c.id.clone()))?;
            Some(Change::CardCreated {
                card: Card {
                    id: id.clone(),
                    number: 0,
                    board_id: board_id.clone(),
                    rank: local_rank(model, &column, position, None),
                    column_id: column,
                    title: title.clone(),
                    description: description.clone(),
                    labels: labels.clone(),
                    assignee: assignee.clone(),
                    priority: *priority,
                    created_by: actor.clone(),
                    created_at: now,
                    updated_at: now,
                },
            })
        }
        Command::UpdateCard {
            card_id,
            title,
            description,
            labels,
            assignee,
            priority,
        } => {
            let mut card = model.card(card_id)?.clone();
            if let Some(t) = title {
                card.title = t.clone();
            }
            if let Some(d) = description {
                card.description = d.clone();
            }
            if let Some(l) = labels {
                card.labels = l.clone();
            }
            if let Some(a) = assignee {
                card.assignee = a.clone();
            }
            if let Some(p) = priority {
                card.priority = *p;
            }
            Some(Change::CardUpdated { card })
        }
        Command::MoveCard {
            card_id,
            column_id,
            position,
        } => {
            let mut card = model.card(card_id)?.clone();
            let from_column_id = card.column_id.clone();
            card.rank = local_rank(model, column_id, position, Some(card_id));
            card.column_id = column_id.clone();
            Some(Change::CardMoved {
                card,
                from_column_id,
            })
        }
        Command::RenameBoard { board_id, name } => {
            let mut board = model.boards.iter().find(|b| &b.id == board_id)?.clone();
            board.name = name.clone();
            Some(Change::BoardUpdated { board })
        }
        Command::AddColumn {
            board_id,
            column_id: Some(column_id),
            name,
            index,
        } => {
            let mut board = model.boards.iter().find(|b| &b.id == board_id)?.clone();
            let at = index.map_or(board.columns.len(), |i| {
                (i as usize).min(board.columns.len())
            });
            board.columns.insert(
                at,
                warren_protocol::Column {
                    id: column_id.clone(),
                    name: name.clone(),
                },
            );
            Some(Change::BoardUpdated { board })
        }
        Command::RenameColumn {
            board_id,
            column_id,
            name,
        } => {
            let mut board = model.boards.iter().find(|b| &b.id == board_id)?.clone();
            board.columns.iter_mut().find(|c| &c.id == column_id)?.name = name.clone();
            Some(Change::BoardUpdated { board })
        }
        Command::MoveColumn {
            board_id,
            column_id,
            index,
        } => {
            let mut board = model.boards.iter().find(|b| &b.id == board_id)?.clone();
            let from = board.columns.iter().position(|c| &c.id == column_id)?;
            let column = board.columns.remove(from);
            let to = (*index as usize).min(board.columns.len());
            board.columns.insert(to, column);
            Some(Change::BoardUpdated { board })
        }
        Command::DeleteColumn {
            board_id,
            column_id,
            move_cards_to,
        } => {
            let mut board = model.boards.iter().find(|b| &b.id == board_id)?.clone();
            board.columns.retain(|c| &c.id != column_id);
            let mut moved_cards = Vec::new();
            if let Some(target) = move_cards_to {
                let mut last = model.column_cards(target).last().map(|c| c.rank.clone());
                for card in model.column_cards(column_id) {
                    let mut card = card.clone();
                    let rank = rank::between(last.as_deref(), None);
                    card.column_id = target.clone();
                    card.rank = rank.clone();
                    last = Some(rank);
                    moved_cards.push(card);
                }
            }
            Some(Change::ColumnDeleted {
                board,
                column_id: column_id.clone(),
                moved_cards,
            })
        }
        Command::DeleteCard { card_id } => {
            let card = model.card(card_id)?;
            Some(Change::CardDeleted {
                card_id: card_id.clone(),
                board_id: card.board_id.clone(),
            })
        }
        _ => None,
    }
}
