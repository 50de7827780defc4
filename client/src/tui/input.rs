//! Turning keys into actions and performing them. The context decides which bindings apply;
//! unbound keys in text fields are typed into the field. The screens perform their own actions
//! ([`super::screens`]); what is left here belongs to no one screen: quitting, help, the palette,
//! tabs, confirmations, and moving in the shared windows.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use warren_protocol::{Command, Id};

use super::app::App;
use super::screens::{self, Tab};
use super::state::{Confirmable, Overlay, single_line};
use crate::keymap::{Action, Context};

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
            Some(Overlay::Grants { .. }) => Context::Grants,
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
        self.tab.screen().context(self)
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) {
        self.on_key_at(key, tokio::time::Instant::now());
    }

    /// Handles one key press that arrived at `now` (an approval prompt takes no answer in its
    /// first moments: see [`super::agents::guard`]).
    pub fn on_key_at(&mut self, key: KeyEvent, now: tokio::time::Instant) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if !self.approval_key(&key, now) {
            self.on_screen_key(key);
        }
        self.refresh_agents(now);
    }

    fn on_screen_key(&mut self, key: KeyEvent) {
        let context = self.context();
        let filter_before = (context == Context::Filter).then(|| self.board.filter.clone());
        match self.keymap.action(context, &key) {
            Some(action) => self.perform(action),
            None if context.passes_unbound_keys() => self.type_key(context, key),
            None => {}
        }
        if filter_before.is_some_and(|before| before != self.board.filter) {
            self.reveal_filter_matches();
        }
    }

    fn type_key(&mut self, context: Context, key: KeyEvent) {
        match context {
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
            _ => {
                screens::type_key(self, context, key);
            }
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
        if screens::perform(self, action, context) {
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
            Action::NextTab => self.show(self.tab.step(1)),
            Action::PrevTab => self.show(self.tab.step(-1)),
            Action::Cancel => self.cancel(),
            Action::Confirm => self.confirm(context),
            _ => {
                if let Some(delta) = vertical_delta(action) {
                    self.vertical(context, delta);
                }
            }
        }
    }

    /// Brings `tab` to the front, closing any window.
    pub fn show(&mut self, tab: Tab) {
        self.overlay = None;
        self.tab = tab;
        self.on_tab_change();
    }

    /// Lets the screen now in front catch up (chat loads the room and marks it read).
    pub fn on_tab_change(&mut self) {
        self.tab.screen().shown(self);
    }

    fn cancel(&mut self) {
        if self.overlay.is_none() {
            self.notice = None;
        }
        self.close_overlay();
    }

    /// Closes the open overlay, showing the one under it again (if any).
    pub fn close_overlay(&mut self) {
        self.overlay = self.under.pop();
    }

    fn confirm(&mut self, context: Context) {
        match context {
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
                        Confirmable::CancelRun(run_id) => self.submit(Command::CancelRun {
                            run_id,
                            reason: None,
                        }),
                        Confirmable::RevokeToken(token_id) => self.confirmed_revoke(Some(token_id)),
                        Confirmable::RevokeOtherTokens => self.confirmed_revoke(None),
                        Confirmable::RevokeGrant(grant_id) => self.confirmed_grant_revoke(grant_id),
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
            Context::Detail | Context::Global => self.close_overlay(),
            // The screens' and windows' own contexts are answered by them (`screens::perform`).
            _ => {}
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
            Context::Prompt => {
                let n = self.room_choices().len();
                if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                    prompt.selected = step(prompt.selected, delta, n);
                }
            }
            _ => {}
        }
    }
}

/// Whether `key` is Enter (with or without Shift).
pub(crate) fn is_enter(key: &KeyEvent) -> bool {
    key.code == KeyCode::Enter && key.modifiers.difference(KeyModifiers::SHIFT).is_empty()
}

/// Moves an index by `delta` within `0..n`, clamping at both ends.
pub(crate) fn step(index: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let moved = index as isize + delta;
    moved.clamp(0, n as isize - 1) as usize
}

/// How far a moving action moves the selection (up is negative); `None` for other actions.
pub(crate) fn vertical_delta(action: Action) -> Option<isize> {
    match action {
        Action::MoveUp => Some(-1),
        Action::MoveDown => Some(1),
        Action::PageUp => Some(-(PAGE as isize)),
        Action::PageDown => Some(PAGE as isize),
        Action::First => Some(isize::MIN / 2),
        Action::Last => Some(isize::MAX / 2),
        _ => None,
    }
}

/// A new client-side id of a kind (for offline creation).
pub(crate) fn new_id(prefix: &str) -> Option<Id> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).ok()?;
    Some(Id::from_random(prefix, random))
}
