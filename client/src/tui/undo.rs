//! Undoing the last delete for a few seconds. The protocol has no "undelete", so undo re-creates
//! the card or message on the client's behalf with the same content: a card comes back in the
//! same column at the same place, with a new number; a message comes back as a new message at
//! the end of its room.

use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::{Card, Command, Id, Message, Position};

use super::app::App;
use crate::keymap::{Action, Context};

/// How long a delete can be undone.
pub const UNDO_TTL: Duration = Duration::from_secs(10);

/// What the last delete removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The card and the card above it in its column, to put it back in place.
    Card {
        card: Card,
        after: Option<Id>,
    },
    Message(Message),
}

/// The last delete and until when it can be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undoable {
    pub deleted: Deleted,
    pub until: Instant,
}

impl App {
    /// Deletes a card (already confirmed), remembering it for undo.
    pub fn delete_card_with_undo(&mut self, card_id: Id, now: Instant) {
        let view = self.view();
        let Some(card) = view.card(&card_id).cloned() else {
            self.submit(Command::DeleteCard { card_id });
            return;
        };
        let column = view.column_cards(&card.column_id);
        let after = column
            .iter()
            .position(|c| c.id == card.id)
            .and_then(|i| i.checked_sub(1))
            .map(|i| column[i].id.clone());
        let label = if card.number == 0 {
            "Card deleted".to_owned()
        } else {
            format!("Card #{} deleted", card.number)
        };
        self.submit(Command::DeleteCard { card_id });
        self.remember(Deleted::Card { card, after }, &label, now);
    }

    /// Deletes a message (already confirmed), remembering it for undo.
    pub fn delete_message_with_undo(&mut self, message_id: Id, now: Instant) {
        let message = self
            .view()
            .history
            .values()
            .flat_map(|h| h.messages.iter())
            .find(|m| m.id == message_id)
            .cloned();
        self.submit(Command::DeleteMessage { message_id });
        if let Some(message) = message {
            self.remember(Deleted::Message(message), "Message deleted", now);
        }
    }

    fn remember(&mut self, deleted: Deleted, label: &str, now: Instant) {
        let until = now + UNDO_TTL;
        self.undo = Some(Undoable { deleted, until });
        let key = [Context::Board, Context::Chat, Context::Global]
            .into_iter()
            .find_map(|c| self.keymap.keys_for(c, Action::Undo).first().cloned());
        let text = match key {
            Some(k) => format!("{label} — {k} to undo"),
            None => format!("{label} — undo from the palette"),
        };
        self.notify_at(text, false, now);
        self.notices.until = Some(until);
    }

    /// The delete the server refused did not happen: there is nothing to undo.
    pub fn forget_undo_of(&mut self, command: &Command) {
        let refused = match (command, self.undo.as_ref().map(|u| &u.deleted)) {
            (Command::DeleteCard { card_id }, Some(Deleted::Card { card, .. })) => {
                &card.id == card_id
            }
            (Command::DeleteMessage { message_id }, Some(Deleted::Message(m))) => {
                &m.id == message_id
            }
            _ => false,
        };
        if refused {
            self.undo = None;
        }
    }

    /// The undo action: re-creates what the last delete removed, if it is recent enough.
    pub fn undo_delete(&mut self, now: Instant) {
        let Some(undo) = self.undo.take().filter(|u| u.until > now) else {
            self.notify(
                format!(
                    "Nothing to undo: a delete can be undone for {} seconds",
                    UNDO_TTL.as_secs()
                ),
                false,
            );
            return;
        };
        match undo.deleted {
            Deleted::Card { card, after } => {
                let still_there = after.as_ref().and_then(|id| self.view().card(id)).is_some();
                let position = match after {
                    Some(card_id) if still_there => Position::After { card_id },
                    _ => Position::Top,
                };
                let card_id = super::input::new_id("card");
                if let Some(id) = &card_id {
                    self.board
                        .selected
                        .insert(card.column_id.clone(), id.clone());
                }
                self.submit(Command::CreateCard {
                    card_id,
                    board_id: card.board_id,
                    column_id: Some(card.column_id),
                    title: card.title.clone(),
                    description: card.description,
                    labels: card.labels,
                    assignee: card.assignee,
                    priority: card.priority,
                    position,
                });
                self.notify(
                    format!("Card “{}” restored (it gets a new number)", card.title),
                    false,
                );
            }
            Deleted::Message(message) => {
                self.submit(Command::PostMessage {
                    message_id: super::input::new_id("msg"),
                    room_id: message.room_id,
                    body: message.body,
                });
                self.notify(
                    "Message restored (as a new message at the end of the room)",
                    false,
                );
            }
        }
    }
}
