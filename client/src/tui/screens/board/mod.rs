//! The board screen: boards of columns of cards. This module holds what the screen remembers
//! (the board, column and card in focus, the filter, the density) and what it reads from the
//! workspace (the focused column, the cards that pass the filter, the selected card); what its
//! keys do is in [`keys`], how it is drawn in [`draw`] (its windows, the card editor and a
//! card's details, in [`windows`]).

pub mod admin;
pub mod draw;
pub mod editor;
pub mod filter;
mod keys;
pub mod reveal;
pub mod windows;

use std::cell::Cell;
use std::collections::HashMap;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;
use warren_protocol::{Card, Id};

use super::Screen;
use crate::keymap::{Action, Context};
use crate::tui::app::App;

/// The board screen, as registered in [`super::Tab`].
pub struct Board;

/// The one board screen.
pub static SCREEN: Board = Board;

impl Screen for Board {
    fn title(&self) -> &'static str {
        "Board"
    }

    fn context(&self, app: &App) -> Context {
        if app.board.filter_input.is_some() {
            Context::Filter
        } else {
            Context::Board
        }
    }

    fn perform(&self, app: &mut App, action: Action, context: Context) -> bool {
        keys::perform(app, action, context)
    }

    fn type_key(&self, app: &mut App, context: Context, key: KeyEvent) -> bool {
        keys::type_key(app, context, key)
    }

    fn paste(&self, app: &mut App, context: Context, text: &str) -> bool {
        keys::paste(app, context, text)
    }

    fn copy(&self, app: &App) -> Option<(String, String)> {
        app.selected_card()
            .map(|c| (format!("card #{}", c.number), card_text(&c)))
    }

    fn clamp(&self, app: &mut App) {
        let boards = app.model.boards.len();
        if app.board.board >= boards {
            app.board.board = boards.saturating_sub(1);
        }
        let columns = app
            .model
            .boards
            .get(app.board.board)
            .map_or(0, |b| b.columns.len());
        if app.board.column >= columns {
            app.board.column = columns.saturating_sub(1);
        }
    }

    fn forget(&self, app: &mut App) {
        app.board = BoardUi::default();
    }

    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        draw::render(app, frame, area);
    }
}

/// A card as plain text (what copying it copies): number and title, then the description.
pub fn card_text(card: &Card) -> String {
    if card.description.trim().is_empty() {
        format!("#{} {}", card.number, card.title)
    } else {
        format!("#{} {}\n\n{}", card.number, card.title, card.description)
    }
}

/// What the board screen remembers.
#[derive(Debug, Default)]
pub struct BoardUi {
    /// Index into the model's boards.
    pub board: usize,
    /// Index of the focused column.
    pub column: usize,
    /// The selected card per column, by id, so live updates never move the selection.
    pub selected: HashMap<Id, Id>,
    /// The selected row per column, the fallback when the selected card disappears.
    pub row: HashMap<Id, usize>,
    /// The filter text (`word`, `#label`, `@assignee`, `!priority`, `#12`).
    pub filter: String,
    /// The filter field while it is being typed in.
    pub filter_input: Option<TextArea<'static>>,
    /// One row per card (titles only) instead of title plus labels.
    pub compact: bool,
    /// First visible column (kept by the renderer so scrolling is stable).
    pub first_column: Cell<usize>,
    /// First visible card row per column (kept by the renderer).
    pub first_row: std::cell::RefCell<HashMap<Id, usize>>,
}

impl App {
    /// The columns of the current board.
    pub fn current_columns(&self) -> Vec<warren_protocol::Column> {
        self.view()
            .boards
            .get(self.board.board)
            .map(|b| b.columns.clone())
            .unwrap_or_default()
    }

    /// The id of the focused column of the current board.
    pub fn focused_column(&self) -> Option<Id> {
        self.view()
            .boards
            .get(self.board.board)?
            .columns
            .get(self.board.column)
            .map(|c| c.id.clone())
    }

    /// The cards of a column that pass the filter, in order.
    pub fn visible_cards(&self, column: &Id) -> Vec<&Card> {
        let view = self.view();
        view.column_cards(column)
            .into_iter()
            .filter(|c| filter::matches(c, &self.board.filter, view))
            .collect()
    }

    /// The row of the selected card in a column's visible cards.
    pub fn selected_row(&self, column: &Id) -> Option<usize> {
        self.selected_row_in(column, &self.visible_cards(column))
    }

    /// The row of the selected card among `cards`, a column's visible cards.
    pub fn selected_row_in(&self, column: &Id, cards: &[&Card]) -> Option<usize> {
        if cards.is_empty() {
            return None;
        }
        let by_id = self
            .board
            .selected
            .get(column)
            .and_then(|id| cards.iter().position(|c| &c.id == id));
        Some(by_id.unwrap_or_else(|| {
            self.board
                .row
                .get(column)
                .copied()
                .unwrap_or(0)
                .min(cards.len() - 1)
        }))
    }

    /// The selected card of the focused column.
    pub fn selected_card(&self) -> Option<Card> {
        let column = self.focused_column()?;
        let row = self.selected_row(&column)?;
        self.visible_cards(&column).get(row).map(|c| (*c).clone())
    }
}
