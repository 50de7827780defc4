//! Turning keys into actions and performing them. The context decides which bindings apply;
//! unbound keys in text fields are typed into the field.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use warren_protocol::{Card, Command, Id, Position, Priority};

use crate::keymap::{Action, Context};
use super::app::App;
use super::filter;
use super::net::NetRequest;
use super::prompt::PromptFor;
use super::state::{Confirmable, Field, Overlay, Tab, new_compose, single_line};

/// Rows a page-up/page-down moves.
const PAGE: usize = 10;

impl App {
    /// The context the keys are read in right now.
    pub fn context(&self) -> Context {
        match &self.overlay {
            Some(Overlay::Palette { .. }) => Context::Palette,
            Some(Overlay::Confirm { .. }) => Context::Confirm,
            Some(Overlay::Editor(_)) => Context::Editor,
            Some(Overlay::Prompt(_)) => Context::Prompt,
            Some(Overlay::Members { .. }) => Context::Members,
            Some(Overlay::Tokens { .. }) => Context::Tokens,
            Some(
                Overlay::Help { .. }
                | Overlay::Detail { .. }
                | Overlay::Problems { .. }
                | Overlay::Messages { .. }
                | Overlay::Invite(_)
                | Overlay::Secret(_)
                | Overlay::Audit { .. },
            ) => Context::Detail,
            None => self.screen_context(),
        }
    }

    /// The context of the screen under any overlay (what help shows first).
    pub fn screen_context(&self) -> Context {
        match self.tab {
            Tab::Board if self.board.filter_input.is_some() => Context::Filter,
            Tab::Board => Context::Board,
            Tab::Chat if self.chat.composing => Context::Compose,
            Tab::Chat => Context::Chat,
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let context = self.context();
        let filter_before = (context == Context::Filter).then(|| self.board.filter.clone());
        match self.keymap.action(context, &key) {
            Some(action) => self.perform(action),
            None if context.is_text_entry() => self.type_key(context, key),
            None => {}
        }
        if filter_before.is_some_and(|before| before != self.board.filter) {
            self.reveal_filter_matches();
        }
    }

    fn type_key(&mut self, context: Context, key: KeyEvent) {
        match context {
            Context::Compose if self.chat.compose.input(key) => self.maybe_send_typing(),
            Context::Filter => {
                if let Some(input) = self.board.filter_input.as_mut() {
                    if is_enter(&key) {
                        return;
                    }
                    input.input(key);
                    self.board.filter = input.lines().join(" ");
                }
            }
            Context::Palette => {
                if let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() {
                    if is_enter(&key) {
                        return;
                    }
                    if input.input(key) {
                        *selected = 0;
                    }
                }
            }
            Context::Prompt => self.prompt_input(key),
            Context::Editor => {
                if let Some(Overlay::Editor(editor)) = self.overlay.as_mut() {
                    if editor.focused() != Field::Description && is_enter(&key) {
                        editor.field = (editor.field + 1) % Field::ALL.len();
                        return;
                    }
                    editor.focused_mut().input(key);
                }
            }
            _ => {}
        }
    }

    pub(super) fn maybe_send_typing(&mut self) {
        let now = tokio::time::Instant::now();
        let due = self
            .chat
            .typing_sent
            .is_none_or(|t| now.duration_since(t) > std::time::Duration::from_secs(3));
        if due && let Some(room_id) = self.current_room() {
            self.chat.typing_sent = Some(now);
            self.outbound.push(NetRequest::Typing { room_id });
        }
    }

    /// Performs an action in the current context.
    pub fn perform(&mut self, action: Action) {
        let context = self.context();
        // A question takes an answer (or quit), nothing else: a stray key must not close the
        // editor waiting under it.
        if context == Context::Confirm
            && !matches!(action, Action::Confirm | Action::Cancel | Action::Quit)
        {
            return;
        }
        // The invite window is only read, copied or closed: the card keys of the detail
        // context must not act on the board under it.
        if matches!(self.overlay, Some(Overlay::Invite(_) | Overlay::Secret(_)))
            && !matches!(action, Action::Copy | Action::Cancel | Action::Quit)
        {
            return;
        }
        // The audit window is only read: no card key acts on the board under it.
        if matches!(self.overlay, Some(Overlay::Audit { .. }))
            && matches!(action, Action::CardEdit | Action::CardDelete | Action::Copy)
        {
            return;
        }
        match action {
            Action::Quit => self.request_quit(),
            Action::Help => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help { .. }) => None,
                    _ => Some(Overlay::Help { scroll: 0 }),
                }
            }
            Action::Copy => self.copy_selection(),
            Action::Density => self.board.compact = !self.board.compact,
            Action::Undo => self.undo_delete(tokio::time::Instant::now()),
            Action::Messages => {
                self.overlay = match self.overlay {
                    Some(Overlay::Messages { .. }) => None,
                    _ => Some(Overlay::Messages { scroll: 0 }),
                }
            }
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: Box::new(single_line("")),
                    selected: 0,
                })
            }
            Action::NextTab | Action::PrevTab => {
                self.overlay = None;
                self.tab = match self.tab {
                    Tab::Board => Tab::Chat,
                    Tab::Chat => Tab::Board,
                };
                self.on_tab_change();
            }
            Action::ShowBoard => {
                self.overlay = None;
                self.tab = Tab::Board;
            }
            Action::ShowChat => {
                self.overlay = None;
                self.tab = Tab::Chat;
                self.on_tab_change();
            }
            Action::Cancel => self.cancel(context),
            Action::Confirm => self.confirm(context),
            Action::MoveUp => self.vertical(context, -1),
            Action::MoveDown => self.vertical(context, 1),
            Action::PageUp => self.vertical(context, -(PAGE as isize)),
            Action::PageDown => self.vertical(context, PAGE as isize),
            Action::First => self.vertical(context, isize::MIN / 2),
            Action::Last => self.vertical(context, isize::MAX / 2),
            Action::MoveLeft => self.horizontal(-1),
            Action::MoveRight => self.horizontal(1),
            Action::CardNew => self.open_editor(None),
            Action::CardEdit => {
                if let Some(card) = self.selected_card() {
                    self.open_editor(Some(card));
                }
            }
            Action::CardOpen => {
                if let Some(card) = self.selected_card() {
                    self.overlay = Some(Overlay::Detail {
                        card: card.id,
                        scroll: 0,
                    });
                }
            }
            Action::CardDelete => {
                if let Some(card) = self.selected_card() {
                    self.overlay = Some(Overlay::Confirm {
                        prompt: format!("Delete card #{} “{}”?", card.number, card.title),
                        what: Confirmable::DeleteCard(card.id),
                    });
                }
            }
            Action::CardMoveLeft => self.move_card_across(-1),
            Action::CardMoveRight => self.move_card_across(1),
            Action::CardMoveUp => self.move_card_within(-1),
            Action::CardMoveDown => self.move_card_within(1),
            Action::Filter => {
                self.tab = Tab::Board;
                self.overlay = None;
                self.board.filter_input = Some(single_line(&self.board.filter));
            }
            Action::ClearFilter => {
                self.board.filter.clear();
                self.board.filter_input = None;
            }
            Action::NextBoard | Action::PrevBoard => {
                let n = self.view().boards.len().max(1);
                let step = if action == Action::NextBoard {
                    1
                } else {
                    n - 1
                };
                self.board.board = (self.board.board + step) % n;
                self.board.column = 0;
            }
            Action::Members => self.toggle_members(),
            Action::MemberRole => self.member_role(),
            Action::MemberRemove => self.member_remove(),
            Action::Invite => self.invite(),
            Action::Audit => self.open_audit(),
            Action::WorkspaceNew => self.workspace_new(),
            Action::WorkspaceRename => self.workspace_rename(),
            Action::WorkspaceDelete => self.workspace_delete(),
            Action::MemberOwner => self.member_owner(),
            Action::BotAdd => self.bot_add(),
            Action::Tokens => self.tokens(),
            Action::TokenNew => self.token_new(),
            Action::TokenRevoke => self.token_revoke(),
            Action::TokenRotate => self.token_rotate(),
            Action::TokenRevokeOthers => self.token_revoke_others(),
            Action::BoardNew => self.board_new(),
            Action::BoardRename => self.board_rename(),
            Action::ColumnNew => self.column_new(),
            Action::ColumnRename => self.column_rename(),
            Action::ColumnMoveLeft => self.column_shift(-1),
            Action::ColumnMoveRight => self.column_shift(1),
            Action::ColumnDelete => self.column_delete(),
            Action::NextRoom | Action::PrevRoom => {
                let n = self.view().rooms.len().max(1);
                let step = if action == Action::NextRoom { 1 } else { n - 1 };
                self.chat.room = (self.chat.room + step) % n;
                self.chat.selected = None;
                self.tab = Tab::Chat;
                self.on_tab_change();
            }
            Action::RoomNew => self.open_room_prompt(PromptFor::NewRoom, ""),
            Action::RoomJump => self.open_room_prompt(PromptFor::JumpToRoom, ""),
            Action::Compose => {
                self.tab = Tab::Chat;
                self.chat.composing = true;
            }
            Action::Send => self.send_message(),
            Action::Newline => {
                if context == Context::Compose {
                    self.chat.compose.insert_newline();
                } else if let Some(Overlay::Editor(editor)) = self.overlay.as_mut()
                    && editor.focused() == Field::Description
                {
                    editor.description.insert_newline();
                }
            }
            Action::MessageEdit => self.edit_message(),
            Action::MessageDelete => self.delete_message(),
            Action::Save => self.save_editor(),
            Action::NextField | Action::PrevField => {
                if let Some(Overlay::Editor(editor)) = self.overlay.as_mut() {
                    let n = Field::ALL.len();
                    editor.field = if action == Action::NextField {
                        (editor.field + 1) % n
                    } else {
                        (editor.field + n - 1) % n
                    };
                }
            }
        }
    }

    fn on_tab_change(&mut self) {
        if self.tab == Tab::Chat {
            self.ensure_history();
            self.mark_read();
        }
    }

    fn cancel(&mut self, context: Context) {
        match context {
            Context::Filter => {
                self.board.filter_input = None;
                self.board.filter.clear();
            }
            Context::Compose if self.message_edit_changed() => {
                self.overlay = Some(Overlay::Confirm {
                    prompt: "Discard your changes to this message?".into(),
                    what: Confirmable::DiscardMessageEdit,
                });
            }
            Context::Compose => self.leave_compose(),
            Context::Editor if self.editor_changed() => {
                if let Some(editor) = self.overlay.take() {
                    self.under.push(editor);
                }
                self.overlay = Some(Overlay::Confirm {
                    prompt: "Discard your changes to this card?".into(),
                    what: Confirmable::DiscardEdits,
                });
            }
            _ => {
                if self.overlay.is_none() {
                    self.notice = None;
                }
                self.close_overlay();
            }
        }
    }

    /// Closes the open overlay, showing the one under it again (if any).
    pub fn close_overlay(&mut self) {
        self.overlay = self.under.pop();
    }

    fn confirm(&mut self, context: Context) {
        match context {
            Context::Board => self.perform(Action::CardOpen),
            Context::Chat => self.perform(Action::Compose),
            Context::Filter => self.board.filter_input = None,
            Context::Compose => self.send_message(),
            Context::Editor => self.save_editor(),
            Context::Prompt => self.submit_prompt(),
            Context::Palette => self.run_palette_choice(self.palette_selected()),
            Context::Confirm => {
                if let Some(Overlay::Confirm { what, .. }) = self.overlay.take() {
                    self.close_overlay();
                    match what {
                        Confirmable::Quit => self.quit = true,
                        // The editor is the overlay under the question: it goes too.
                        Confirmable::DiscardEdits => self.close_overlay(),
                        Confirmable::DiscardMessageEdit => self.leave_compose(),
                        Confirmable::DeleteCard(card_id) => {
                            self.delete_card_with_undo(card_id, tokio::time::Instant::now())
                        }
                        Confirmable::DeleteMessage(message_id) => {
                            self.delete_message_with_undo(message_id, tokio::time::Instant::now())
                        }
                        Confirmable::RemoveMember(user_id) => {
                            self.submit(Command::RemoveMember { user_id })
                        }
                        Confirmable::Transfer(user_id) => self.transfer(user_id),
                        Confirmable::RevokeToken(token_id) => self.confirmed_revoke(Some(token_id)),
                        Confirmable::RevokeOtherTokens => self.confirmed_revoke(None),
                        Confirmable::DeleteColumn {
                            board_id,
                            column_id,
                            move_cards_to,
                        } => {
                            self.board.column = self.board.column.saturating_sub(1);
                            self.submit(Command::DeleteColumn {
                                board_id,
                                column_id,
                                move_cards_to,
                            })
                        }
                    }
                }
            }
            Context::Members => self.member_role(),
            Context::Tokens => {}
            Context::Detail | Context::Global => self.close_overlay(),
        }
    }

    fn palette_selected(&self) -> usize {
        match &self.overlay {
            Some(Overlay::Palette { selected, .. }) => *selected,
            _ => 0,
        }
    }

    fn vertical(&mut self, context: Context, delta: isize) {
        match context {
            Context::Board | Context::Filter => self.move_card_selection(delta),
            Context::Chat => self.move_message_selection(delta),
            Context::Palette => {
                let n = self.palette_entries().len();
                if let Some(Overlay::Palette { selected, .. }) = self.overlay.as_mut() {
                    *selected = step(*selected, delta, n);
                }
            }
            Context::Detail => {
                if let Some(
                    Overlay::Help { scroll }
                    | Overlay::Detail { scroll, .. }
                    | Overlay::Problems { scroll, .. }
                    | Overlay::Messages { scroll }
                    | Overlay::Audit { scroll, .. },
                ) = self.overlay.as_mut()
                {
                    let max = self.overlay_max_scroll.get().unwrap_or(usize::MAX / 4);
                    *scroll = step((*scroll).min(max), delta, max + 1);
                }
            }
            Context::Editor => {
                if let Some(Overlay::Editor(editor)) = self.overlay.as_mut() {
                    let n = Field::ALL.len();
                    editor.field = step(editor.field, delta, n);
                }
            }
            Context::Tokens => self.move_token_selection(delta),
            Context::Members => {
                let n = self.members_listed().len();
                if let Some(Overlay::Members { selected }) = self.overlay.as_mut() {
                    *selected = step(*selected, delta, n);
                }
            }
            Context::Prompt => {
                let n = self.room_choices().len();
                if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                    prompt.selected = step(prompt.selected, delta, n);
                }
            }
            _ => {}
        }
    }

    fn horizontal(&mut self, delta: isize) {
        if self.tab != Tab::Board || self.overlay.is_some() {
            return;
        }
        let n = self.current_columns().len();
        self.board.column = step(self.board.column, delta, n);
    }

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

    fn open_editor(&mut self, card: Option<Card>) {
        let Some(board) = self
            .view()
            .boards
            .get(self.board.board)
            .map(|b| b.id.clone())
        else {
            self.notify("there is no board to add a card to", true);
            return;
        };
        let Some(column) = self.focused_column() else {
            return;
        };
        let editor = self.card_editor(card.as_ref(), board, column);
        if let Some(detail @ Overlay::Detail { .. }) = self.overlay.take() {
            // Saving or leaving the editor returns to the card's details.
            self.under.push(detail);
        }
        self.overlay = Some(Overlay::Editor(Box::new(editor)));
    }

    fn save_editor(&mut self) {
        let Some(Overlay::Editor(editor)) = &self.overlay else {
            return;
        };
        let text = |t: &ratatui_textarea::TextArea<'static>| t.lines().join("\n");
        let title = text(&editor.title).trim().to_owned();
        if title.is_empty() {
            self.notify("a card needs a title", true);
            return;
        }
        let labels: Vec<String> = text(&editor.labels)
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        let priority_text = text(&editor.priority).trim().to_lowercase();
        let priority = if priority_text.is_empty() {
            Priority::None
        } else {
            match Priority::parse(&priority_text) {
                Some(p) => p,
                None => {
                    self.notify(
                        format!("unknown priority {priority_text:?}; use none, low, medium, high or urgent"),
                        true,
                    );
                    return;
                }
            }
        };
        let assignee_text = text(&editor.assignee).trim().to_owned();
        let assignee = if assignee_text.is_empty() {
            None
        } else {
            match self
                .view()
                .members
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(&assignee_text))
            {
                Some(m) => Some(m.user_id.clone()),
                None => {
                    self.notify(format!("no member named {assignee_text:?}"), true);
                    return;
                }
            }
        };
        let description = text(&editor.description);
        let command = match &editor.card {
            None => Command::CreateCard {
                card_id: new_id("card"),
                board_id: editor.board.clone(),
                column_id: Some(editor.column.clone()),
                title,
                description,
                labels,
                assignee,
                priority,
                position: Position::Bottom,
            },
            Some(card_id) => Command::UpdateCard {
                card_id: card_id.clone(),
                title: Some(title),
                description: Some(description),
                labels: Some(labels),
                assignee: Some(assignee),
                priority: Some(priority),
            },
        };
        let created = match &command {
            Command::CreateCard {
                card_id, column_id, ..
            } => card_id.clone().zip(column_id.clone()),
            _ => None,
        };
        self.close_overlay();
        self.submit(command);
        if let Some((card, column)) = created {
            self.board.selected.insert(column, card);
        }
    }

    pub(super) fn room_messages(&self) -> Vec<warren_protocol::Message> {
        let Some(room) = self.current_room() else {
            return Vec::new();
        };
        self.view()
            .history
            .get(&room)
            .map(|h| h.messages.clone())
            .unwrap_or_default()
    }

    fn move_message_selection(&mut self, delta: isize) {
        let messages = self.room_messages();
        if messages.is_empty() {
            return;
        }
        let current = self
            .chat
            .selected
            .as_ref()
            .and_then(|id| messages.iter().position(|m| &m.id == id));
        let index = match current {
            None if delta > 0 => return,
            None => step(messages.len(), delta, messages.len() + 1).min(messages.len() - 1),
            Some(i) => {
                let next = i as isize + delta;
                if next >= messages.len() as isize {
                    self.chat.selected = None;
                    return;
                }
                next.max(0) as usize
            }
        };
        if index == 0 {
            self.load_older();
        }
        self.chat.selected = Some(messages[index].id.clone());
    }

    fn send_message(&mut self) {
        let body = self.chat.compose.lines().join("\n");
        if body.trim().is_empty() {
            return;
        }
        let Some(room_id) = self.current_room() else {
            self.notify("there is no room to write in", true);
            return;
        };
        let command = match self.chat.editing.take() {
            Some(message_id) => Command::EditMessage { message_id, body },
            None => Command::PostMessage {
                message_id: new_id("msg"),
                room_id,
                body,
            },
        };
        self.chat.compose = new_compose();
        self.chat.selected = None;
        self.submit(command);
    }
}

fn is_enter(key: &KeyEvent) -> bool {
    key.code == KeyCode::Enter && key.modifiers.difference(KeyModifiers::SHIFT).is_empty()
}

/// Moves an index by `delta` within `0..n`, clamping at both ends.
fn step(index: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let moved = index as isize + delta;
    moved.clamp(0, n as isize - 1) as usize
}

/// A new client-side id of a kind (for offline creation).
pub(crate) fn new_id(prefix: &str) -> Option<Id> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).ok()?;
    Some(Id::from_random(prefix, random))
}
