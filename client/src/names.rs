//! A directory of display names (members, boards, columns, rooms, cards) built from a snapshot and
//! kept current by the events that follow, so output can say "Ann moved #12 to Done" instead of
//! printing ids.

use std::collections::HashMap;

use warren_protocol::{Board, Card, Change, Event, Id, WorkspaceState};

use crate::sanitize;

/// Sanitised names by id.
#[derive(Debug, Clone, Default)]
pub struct Names {
    members: HashMap<Id, String>,
    boards: HashMap<Id, String>,
    columns: HashMap<Id, String>,
    rooms: HashMap<Id, String>,
    /// Card id → (number, title).
    cards: HashMap<Id, (u64, String)>,
}

impl Names {
    /// Names as of a snapshot.
    pub fn from_state(state: &WorkspaceState) -> Self {
        let mut names = Self::default();
        for m in &state.members {
            names
                .members
                .insert(m.user_id.clone(), sanitize::line(&m.name));
        }
        for b in &state.boards {
            names.add_board(b);
        }
        for c in &state.cards {
            names.add_card(c);
        }
        for r in &state.rooms {
            names.rooms.insert(r.id.clone(), sanitize::line(&r.name));
        }
        names
    }

    fn add_board(&mut self, board: &Board) {
        self.boards
            .insert(board.id.clone(), sanitize::line(&board.name));
        for c in &board.columns {
            self.columns.insert(c.id.clone(), sanitize::line(&c.name));
        }
    }

    fn add_card(&mut self, card: &Card) {
        self.cards
            .insert(card.id.clone(), (card.number, sanitize::line(&card.title)));
    }

    /// Learns the names an event introduces or changes.
    pub fn observe(&mut self, event: &Event) {
        match &event.change {
            Change::MemberAdded { member } | Change::MemberUpdated { member } => {
                self.members
                    .insert(member.user_id.clone(), sanitize::line(&member.name));
            }
            Change::BoardCreated { board } | Change::BoardUpdated { board } => {
                self.add_board(board)
            }
            Change::ColumnDeleted {
                board, moved_cards, ..
            } => {
                self.add_board(board);
                for card in moved_cards {
                    self.add_card(card);
                }
            }
            Change::CardCreated { card }
            | Change::CardUpdated { card }
            | Change::CardMoved { card, .. } => self.add_card(card),
            Change::RoomCreated { room } => {
                self.rooms
                    .insert(room.id.clone(), sanitize::line(&room.name));
            }
            _ => {}
        }
    }

    /// A member's name, or the id when unknown.
    pub fn member(&self, id: &Id) -> String {
        self.members
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A board's name, or the id when unknown.
    pub fn board(&self, id: &Id) -> String {
        self.boards
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A column's name, or the id when unknown.
    pub fn column(&self, id: &Id) -> String {
        self.columns
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A room's name with a leading `#`, or the id when unknown.
    pub fn room(&self, id: &Id) -> String {
        self.rooms
            .get(id)
            .map_or_else(|| id.to_string(), |name| format!("#{name}"))
    }

    /// `#12 Title` for a card, or its id when unknown.
    pub fn card(&self, id: &Id) -> String {
        self.cards
            .get(id)
            .map_or_else(|| id.to_string(), |(n, title)| format!("#{n} {title}"))
    }

    /// `#12` for a card, or its id when unknown.
    pub fn card_number(&self, id: &Id) -> String {
        self.cards
            .get(id)
            .map_or_else(|| id.to_string(), |(n, _)| format!("#{n}"))
    }

    /// Number of boards known.
    pub fn board_count(&self) -> usize {
        self.boards.len()
    }
}
