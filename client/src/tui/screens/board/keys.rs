//! What the board screen's keys do: moving the focus between columns and cards, moving cards,
//! opening, editing and deleting them, the filter, and switching boards; and where typed and
//! pasted text goes (the filter, the card editor). Board and column
//! management is in [`super::admin`], the card editor in [`super::editor`].

use crossterm::event::KeyEvent;
use warren_protocol::{Command, Id, Position};

use super::editor::Field;
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::{is_enter, step, vertical_delta};
use crate::tui::paste::one_line;
use crate::tui::screens::Tab;
use crate::tui::state::{Confirmable, Overlay, single_line};

/// Performs `action` if it is the board's (see [`crate::tui::screens::Screen::perform`]).
pub(super) fn perform(app: &mut App, action: Action, context: Context) -> bool {
    match action {
        Action::ShowBoard => app.show(Tab::Board),
        Action::Density => app.board.compact = !app.board.compact,
        Action::MoveLeft => app.horizontal(-1),
        Action::MoveRight => app.horizontal(1),
        Action::CardNew => app.open_editor(None),
        Action::CardEdit => {
            if let Some(card) = app.selected_card() {
                app.open_editor(Some(card));
            }
        }
        Action::CardOpen => {
            if let Some(card) = app.selected_card() {
                app.overlay = Some(Overlay::Detail {
                    card: card.id,
                    scroll: 0,
                });
            }
        }
        Action::CardDelete => {
            if let Some(card) = app.selected_card() {
                app.overlay = Some(Overlay::Confirm {
                    prompt: format!("Delete card #{} “{}”?", card.number, card.title),
                    what: Confirmable::DeleteCard(card.id),
                });
            }
        }
        Action::CardMoveLeft => app.move_card_across(-1),
        Action::CardMoveRight => app.move_card_across(1),
        Action::CardMoveUp => app.move_card_within(-1),
        Action::CardMoveDown => app.move_card_within(1),
        Action::Filter => {
            app.tab = Tab::Board;
            app.overlay = None;
            app.board.filter_input = Some(single_line(&app.board.filter));
        }
        Action::ClearFilter => {
            app.board.filter.clear();
            app.board.filter_input = None;
        }
        Action::NextBoard | Action::PrevBoard => {
            let n = app.view().boards.len().max(1);
            let step = if action == Action::NextBoard {
                1
            } else {
                n - 1
            };
            app.board.board = (app.board.board + step) % n;
            app.board.column = 0;
        }
        Action::BoardNew => app.board_new(),
        Action::BoardRename => app.board_rename(),
        Action::ColumnNew => app.column_new(),
        Action::ColumnRename => app.column_rename(),
        Action::ColumnMoveLeft => app.column_shift(-1),
        Action::ColumnMoveRight => app.column_shift(1),
        Action::ColumnDelete => app.column_delete(),
        Action::Save => app.save_editor(),
        Action::NextField | Action::PrevField => {
            if let Some(Overlay::Editor(editor)) = app.overlay.as_mut() {
                let n = Field::ALL.len();
                editor.field = if action == Action::NextField {
                    (editor.field + 1) % n
                } else {
                    (editor.field + n - 1) % n
                };
            }
        }
        Action::Newline => match app.overlay.as_mut() {
            Some(Overlay::Editor(editor)) if editor.focused() == Field::Description => {
                editor.description.insert_newline();
            }
            _ => return false,
        },
        Action::Cancel => match context {
            Context::Filter => {
                app.board.filter_input = None;
                app.board.filter.clear();
            }
            Context::Editor if app.editor_changed() => {
                if let Some(editor) = app.overlay.take() {
                    app.under.push(editor);
                }
                app.overlay = Some(Overlay::Confirm {
                    prompt: "Discard your changes to this card?".into(),
                    what: Confirmable::DiscardEdits,
                });
            }
            _ => return false,
        },
        Action::Confirm => match context {
            Context::Board => app.perform(Action::CardOpen),
            Context::Filter => app.board.filter_input = None,
            Context::Editor => app.save_editor(),
            _ => return false,
        },
        _ => {
            let Some(delta) = vertical_delta(action) else {
                return false;
            };
            match context {
                Context::Board | Context::Filter => app.move_card_selection(delta),
                Context::Editor => {
                    if let Some(Overlay::Editor(editor)) = app.overlay.as_mut() {
                        editor.field = step(editor.field, delta, Field::ALL.len());
                    }
                }
                _ => return false,
            }
        }
    }
    true
}

/// Types `key` into the filter or the card editor; says whether the context was one of them.
pub(super) fn type_key(app: &mut App, context: Context, key: KeyEvent) -> bool {
    match context {
        Context::Filter => {
            if let Some(input) = app.board.filter_input.as_mut() {
                if is_enter(&key) {
                    return true;
                }
                input.input(key);
                app.board.filter = input.lines().join(" ");
            }
        }
        Context::Editor => {
            if let Some(Overlay::Editor(editor)) = app.overlay.as_mut() {
                if editor.focused() != Field::Description && is_enter(&key) {
                    editor.field = (editor.field + 1) % Field::ALL.len();
                    return true;
                }
                editor.focused_mut().input(key);
            }
        }
        _ => return false,
    }
    true
}

/// Pastes `text` into the filter or the card editor (line breaks only in the description); says
/// whether the context was one of them.
pub(super) fn paste(app: &mut App, context: Context, text: &str) -> bool {
    match context {
        Context::Filter => {
            if let Some(input) = app.board.filter_input.as_mut() {
                input.insert_str(one_line(text));
                app.board.filter = input.lines().join(" ");
            }
        }
        Context::Editor => {
            if let Some(Overlay::Editor(editor)) = app.overlay.as_mut() {
                if editor.focused() == Field::Description {
                    editor.description.insert_str(text);
                } else {
                    editor.focused_mut().insert_str(one_line(text));
                }
            }
        }
        _ => return false,
    }
    true
}

impl App {
    fn horizontal(&mut self, delta: isize) {
        if self.tab != Tab::Board || self.overlay.is_some() {
            return;
        }
        let n = self.current_columns().len();
        self.board.column = step(self.board.column, delta, n);
    }

    fn select(&mut self, column: &Id, row: usize) {
        let id = self.visible_cards(column).get(row).map(|c| c.id.clone());
        self.board.row.insert(column.clone(), row);
        if let Some(id) = id {
            self.board.selected.insert(column.clone(), id);
        }
    }

    fn move_card_selection(&mut self, delta: isize) {
        let Some(column) = self.focused_column() else {
            return;
        };
        let n = self.visible_cards(&column).len();
        let row = self.selected_row(&column).unwrap_or(0);
        self.select(&column, step(row, delta, n));
    }

    fn move_card_across(&mut self, delta: isize) {
        let Some(card) = self.selected_card() else {
            return;
        };
        let columns = self.current_columns();
        let target = step(self.board.column, delta, columns.len());
        if target == self.board.column {
            return;
        }
        let column = columns[target].id.clone();
        self.submit(Command::MoveCard {
            card_id: card.id.clone(),
            column_id: column.clone(),
            position: Position::Bottom,
        });
        self.board.column = target;
        self.board.selected.insert(column, card.id);
    }

    fn move_card_within(&mut self, delta: isize) {
        let Some(card) = self.selected_card() else {
            return;
        };
        let all: Vec<Id> = self
            .view()
            .column_cards(&card.column_id)
            .iter()
            .map(|c| c.id.clone())
            .collect();
        let Some(i) = all.iter().position(|id| id == &card.id) else {
            return;
        };
        let position = if delta < 0 {
            match i.checked_sub(1) {
                Some(j) => Position::Before {
                    card_id: all[j].clone(),
                },
                None => return,
            }
        } else {
            match all.get(i + 1) {
                Some(next) => Position::After {
                    card_id: next.clone(),
                },
                None => return,
            }
        };
        self.submit(Command::MoveCard {
            card_id: card.id,
            column_id: card.column_id,
            position,
        });
    }
}
