//! Bringing things into view on the board: a card chosen in the palette, and the matches of a
//! filter that are in columns off screen.

use warren_protocol::Id;

use super::filter;
use crate::tui::app::App;
use crate::tui::screens::Tab;

impl App {
    /// Shows a card on the board: its board, its column focused, the card selected (clearing a
    /// filter that hides it).
    pub fn reveal_card(&mut self, card_id: &Id) {
        let view = self.view();
        let Some(card) = view.card(card_id).cloned() else {
            return;
        };
        let Some(b) = view.boards.iter().position(|b| b.id == card.board_id) else {
            return;
        };
        let Some(c) = view.boards[b]
            .columns
            .iter()
            .position(|c| c.id == card.column_id)
        else {
            return;
        };
        self.tab = Tab::Board;
        self.board.board = b;
        self.board.column = c;
        if !filter::matches(&card, &self.board.filter, self.view()) {
            self.board.filter.clear();
            self.board.filter_input = None;
        }
        self.board
            .selected
            .insert(card.column_id.clone(), card.id.clone());
    }

    /// After the filter changed: if the focused column has no match but another column does,
    /// focus the first such column, so matches off screen come into view.
    pub fn reveal_filter_matches(&mut self) {
        if self.board.filter.trim().is_empty() {
            return;
        }
        let columns = self.current_columns();
        let has_match = |app: &App, i: usize| {
            columns
                .get(i)
                .is_some_and(|c| !app.visible_cards(&c.id).is_empty())
        };
        if has_match(self, self.board.column) {
            return;
        }
        if let Some(i) = (0..columns.len()).find(|&i| has_match(self, i)) {
            self.board.column = i;
        }
    }

    /// Whether any card of the current board passes the filter.
    pub fn filter_has_matches(&self) -> bool {
        self.current_columns()
            .iter()
            .any(|c| !self.visible_cards(&c.id).is_empty())
    }
}
