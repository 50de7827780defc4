//! The chat screen: rooms and their messages. This module holds what the screen remembers (the
//! room, the selected message, the message box, unread counts, who is typing) and what it reads
//! from the workspace (the current room, its messages, loading older pages); what its keys do is
//! in [`keys`], how it is drawn in [`draw`] and [`history`].

pub mod approval;
pub mod draw;
pub mod history;
mod keys;
pub mod mention;
pub mod own_message;
pub mod rooms;
pub mod run_line;
pub mod slash;
pub mod stream;

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_textarea::{TextArea, WrapMode};
use tokio::time::Instant;
use warren_protocol::{Change, Event, Id, Message};

use super::{Screen, Tab};
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::state::ConnState;

/// The chat screen, as registered in [`super::Tab`].
pub struct Chat;

/// The one chat screen.
pub static SCREEN: Chat = Chat;

impl Screen for Chat {
    fn title(&self) -> &'static str {
        "Chat"
    }

    fn label(&self, app: &App) -> String {
        let unread: usize = app.chat.unread.values().sum();
        if unread > 0 {
            format!("{} ({unread})", self.title())
        } else {
            self.title().to_owned()
        }
    }

    fn context(&self, app: &App) -> Context {
        if app.chat.composing {
            Context::Compose
        } else {
            Context::Chat
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
        app.selected_or_last_message()
            .map(|m| ("the message".to_owned(), m.body))
    }

    fn on_event(&self, app: &mut App, event: &Event) {
        match &event.change {
            // A room this client created: go there once it exists.
            Change::RoomCreated { room } if app.chat.go_to_room.as_ref() == Some(&room.id) => {
                app.chat.go_to_room = None;
                app.go_to_room(&room.id);
            }
            Change::MessagePosted { message } => {
                if let Some(list) = app.chat.typing.get_mut(&message.room_id) {
                    list.retain(|(u, _)| u != &message.author);
                }
                let looking =
                    app.tab == Tab::Chat && app.current_room().as_ref() == Some(&message.room_id);
                let mine = app.me.as_ref().map(|m| &m.user_id) == Some(&message.author);
                if !looking && !mine {
                    *app.chat.unread.entry(message.room_id.clone()).or_default() += 1;
                }
            }
            _ => {}
        }
    }

    fn clamp(&self, app: &mut App) {
        let rooms = app.model.rooms.len();
        if app.chat.room >= rooms {
            app.chat.room = rooms.saturating_sub(1);
        }
    }

    fn forget(&self, app: &mut App) {
        app.chat = ChatUi::default();
    }

    fn shown(&self, app: &mut App) {
        app.ensure_history();
        app.mark_read();
    }

    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        draw::render(app, frame, area);
    }
}

/// What the chat screen remembers.
#[derive(Debug)]
pub struct ChatUi {
    /// Index into the model's rooms.
    pub room: usize,
    /// The selected message; `None` follows the newest.
    pub selected: Option<Id>,
    pub compose: TextArea<'static>,
    pub composing: bool,
    /// The message being edited in the composer.
    pub editing: Option<Id>,
    /// Unread messages per room.
    pub unread: HashMap<Id, usize>,
    /// Who is typing where, until when.
    pub typing: HashMap<Id, Vec<(Id, Instant)>>,
    /// When this client last said it was typing.
    pub typing_sent: Option<Instant>,
    /// A room this client just created: shown as soon as the server confirms it.
    pub go_to_room: Option<Id>,
    /// The first message drawn in full (kept by the renderer so scrolling is stable).
    pub top: std::cell::RefCell<Option<Id>>,
}

impl Default for ChatUi {
    fn default() -> Self {
        Self {
            room: 0,
            selected: None,
            compose: new_compose(),
            composing: false,
            editing: None,
            unread: HashMap::new(),
            typing: HashMap::new(),
            typing_sent: None,
            go_to_room: None,
            top: std::cell::RefCell::new(None),
        }
    }
}

/// A fresh multi-line composer.
pub fn new_compose() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t.set_placeholder_text("Write a message…");
    t
}

impl App {
    /// The id of the current room.
    pub fn current_room(&self) -> Option<Id> {
        self.view().rooms.get(self.chat.room).map(|r| r.id.clone())
    }

    /// Asks for the first page of the current room's history if it is not loaded.
    pub fn ensure_history(&mut self) {
        let Some(room) = self.current_room() else {
            return;
        };
        if self.conn != ConnState::Connected {
            return;
        }
        let history = self.model.history.entry(room.clone()).or_default();
        if !history.loaded && !history.loading {
            history.loading = true;
            self.outbound.push(NetRequest::Messages {
                room_id: room,
                before: None,
            });
        }
    }

    /// Asks for older messages of the current room, if there are any.
    pub fn load_older(&mut self) {
        let Some(room) = self.current_room() else {
            return;
        };
        if self.conn != ConnState::Connected {
            return;
        }
        let history = self.model.history.entry(room.clone()).or_default();
        if history.loaded && history.has_more && !history.loading {
            history.loading = true;
            let before = history.messages.first().map(|m| m.seq);
            self.outbound.push(NetRequest::Messages {
                room_id: room,
                before,
            });
        }
    }

    /// Marks the current room read when the user is looking at it.
    pub fn mark_read(&mut self) {
        if self.tab == Tab::Chat
            && let Some(room) = self.current_room()
        {
            self.chat.unread.remove(&room);
        }
    }

    /// People typing in a room right now (other than me).
    pub fn typing_in(&self, room: &Id) -> Vec<String> {
        let now = Instant::now();
        let me = self.me.as_ref().map(|m| &m.user_id);
        self.chat
            .typing
            .get(room)
            .map(|list| {
                list.iter()
                    .filter(|(u, until)| *until > now && Some(u) != me)
                    .map(|(u, _)| self.model.member_name(u))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn room_messages(&self) -> Vec<warren_protocol::Message> {
        let Some(room) = self.current_room() else {
            return Vec::new();
        };
        self.view()
            .history
            .get(&room)
            .map(|h| h.messages.clone())
            .unwrap_or_default()
    }

    /// The selected message of the current room, or its newest one.
    pub fn selected_or_last_message(&self) -> Option<Message> {
        let room = self.current_room()?;
        let messages = &self.view().history.get(&room)?.messages;
        match &self.chat.selected {
            Some(id) => messages.iter().find(|m| &m.id == id).cloned(),
            None => messages.last().cloned(),
        }
    }
}
