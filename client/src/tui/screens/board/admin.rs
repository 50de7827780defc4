//! Managing boards and columns from the board screen: create and rename boards; add, rename,
//! move and delete columns. Each action opens a prompt or a confirmation, then queues one
//! command, which shows at once (the outbox projects it) and is sent like any other change.

use warren_protocol::{Board, Command};

use crate::tui::app::App;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::state::{Confirmable, Overlay};

impl App {
    fn current_board(&self) -> Option<Board> {
        self.view().boards.get(self.board.board).cloned()
    }

    /// Asks for the name of a new board.
    pub fn board_new(&mut self) {
        self.open_prompt(Prompt::new("New board: name", "", PromptFor::NewBoard));
    }

    /// Asks for the current board's new name.
    pub fn board_rename(&mut self) {
        let Some(board) = self.current_board() else {
            return self.notify("There is no board to rename.", true);
        };
        let title = format!("Rename board {}", board.name);
        let purpose = PromptFor::RenameBoard { board_id: board.id };
        self.open_prompt(Prompt::new(title, &board.name, purpose));
    }

    /// Asks for the name of a column to add right of the focused one.
    pub fn column_new(&mut self) {
        let Some(board) = self.current_board() else {
            return self.notify("There is no board to add a column to.", true);
        };
        let index = if board.columns.is_empty() {
            0
        } else {
            self.board.column + 1
        };
        let purpose = PromptFor::NewColumn {
            board_id: board.id,
            index: u32::try_from(index).unwrap_or(u32::MAX),
        };
        self.open_prompt(Prompt::new("New column: name", "", purpose));
    }

    /// Asks for the focused column's new name.
    pub fn column_rename(&mut self) {
        let Some(board) = self.current_board() else {
            return;
        };
        let Some(column) = board.columns.get(self.board.column).cloned() else {
            return;
        };
        let title = format!("Rename column {}", column.name);
        let purpose = PromptFor::RenameColumn {
            board_id: board.id,
            column_id: column.id,
        };
        self.open_prompt(Prompt::new(title, &column.name, purpose));
    }

    /// Moves the focused column one place left (`-1`) or right (`1`); focus goes with it.
    pub fn column_shift(&mut self, delta: isize) {
        let Some(board) = self.current_board() else {
            return;
        };
        let from = self.board.column;
        let Some(column) = board.columns.get(from) else {
            return;
        };
        let Some(to) = from
            .checked_add_signed(delta)
            .filter(|t| *t < board.columns.len())
        else {
            return;
        };
        self.submit(Command::MoveColumn {
            board_id: board.id.clone(),
            column_id: column.id.clone(),
            index: u32::try_from(to).unwrap_or(u32::MAX),
        });
        self.board.column = to;
    }

    /// Asks before deleting the focused column. Its cards go to the column on its left (the
    /// one on its right for the first column), and the question says so.
    pub fn column_delete(&mut self) {
        let Some(board) = self.current_board() else {
            return;
        };
        let i = self.board.column;
        let Some(column) = board.columns.get(i).cloned() else {
            return;
        };
        if board.columns.len() == 1 {
            return self.notify(
                format!(
                    "{} is the board's only column; a board keeps at least one.",
                    column.name
                ),
                true,
            );
        }
        let cards = self.view().column_len(&column.id);
        let neighbour = if i == 0 { 1 } else { i - 1 };
        let target = board.columns.get(neighbour).cloned();
        let (prompt, move_cards_to) = match (cards, target) {
            (0, _) | (_, None) => (format!("Delete the empty column {}?", column.name), None),
            (n, Some(t)) => (
                format!(
                    "Delete column {}? Its {n} card{} move to {}.",
                    column.name,
                    if n == 1 { "" } else { "s" },
                    t.name
                ),
                Some(t.id),
            ),
        };
        self.overlay = Some(Overlay::Confirm {
            prompt,
            what: Confirmable::DeleteColumn {
                board_id: board.id,
                column_id: column.id,
                move_cards_to,
            },
        });
    }

    /// After a board made here is confirmed by the server, shows it.
    pub fn follow_pending_board(&mut self) {
        let Some(id) = &self.pending_board else {
            return;
        };
        if let Some(i) = self.view().boards.iter().position(|b| &b.id == id) {
            self.board.board = i;
            self.board.column = 0;
            self.pending_board = None;
        }
    }
}
