//! Editing and deleting your own messages. `message_edit` and `message_delete` act on the same
//! message: the selected one if it is yours, else (nothing selected) your newest in the room.
//! A message still being sent, or someone else's, is refused with the reason. Leaving an edit
//! that changed the text asks first.

use warren_protocol::Message;

use crate::tui::app::App;
use crate::tui::state::{Confirmable, Overlay};

/// Lines of a message the delete question shows.
const PREVIEW_LINES: usize = 4;
/// Columns of each preview line.
const PREVIEW_WIDTH: usize = 50;

impl App {
    /// The message `e` and `d` act on, or why there is none.
    pub fn own_target(&self) -> Result<Message, String> {
        let me = self
            .me
            .as_ref()
            .map(|m| m.user_id.clone())
            .ok_or_else(|| "not connected yet".to_owned())?;
        let messages = self.room_messages();
        if let Some(id) = &self.chat.selected {
            return match messages.into_iter().find(|m| &m.id == id) {
                Some(m) if m.author == me => Ok(m),
                Some(m) => Err(format!(
                    "that message is {}'s; select one of your own to edit or delete it",
                    self.view().member_name(&m.author)
                )),
                None => Err("select one of your own messages to edit or delete it".into()),
            };
        }
        let room = self.current_room();
        let sending =
            room.is_some_and(|room| !self.outbox.pending_messages(&room, &me, 0).is_empty());
        if sending {
            return Err(
                "your last message is still being sent; edit or delete it once it is".into(),
            );
        }
        messages
            .into_iter()
            .rev()
            .find(|m| m.author == me)
            .ok_or_else(|| "you have no message in this room to edit or delete".into())
    }

    pub(crate) fn edit_message(&mut self) {
        match self.own_target() {
            Ok(message) => {
                let mut compose = ratatui_textarea::TextArea::new(
                    message.body.lines().map(str::to_owned).collect(),
                );
                compose.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
                compose.move_cursor(ratatui_textarea::CursorMove::Bottom);
                compose.move_cursor(ratatui_textarea::CursorMove::End);
                self.chat.compose = compose;
                self.chat.editing = Some(message.id);
                self.chat.composing = true;
            }
            Err(why) => self.notify(why, false),
        }
    }

    /// Whether the message box holds an edit of a message that differs from what was sent.
    pub fn message_edit_changed(&self) -> bool {
        let Some(id) = &self.chat.editing else {
            return false;
        };
        let text = self.chat.compose.lines().join("\n");
        self.room_messages()
            .iter()
            .find(|m| &m.id == id)
            .is_none_or(|m| m.body.trim_end() != text.trim_end())
    }

    /// Leaves the message box; an edit of a message is dropped (a new message stays typed).
    pub(crate) fn leave_compose(&mut self) {
        self.chat.composing = false;
        if self.chat.editing.take().is_some() {
            self.chat.compose = super::new_compose();
        }
    }

    pub(crate) fn delete_message(&mut self) {
        match self.own_target() {
            Ok(message) => {
                self.overlay = Some(Overlay::Confirm {
                    prompt: delete_prompt(&message.body),
                    what: Confirmable::DeleteMessage(message.id),
                });
            }
            Err(why) => self.notify(why, false),
        }
    }
}

/// "Delete your message?" and the message's first lines, line breaks kept.
pub fn delete_prompt(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut prompt = String::from("Delete your message?");
    for line in lines.iter().take(PREVIEW_LINES) {
        prompt.push_str("\n│ ");
        prompt.push_str(&crate::tui::view::text::truncate(line, PREVIEW_WIDTH));
    }
    if lines.len() > PREVIEW_LINES {
        prompt.push_str("\n│ …");
    }
    prompt
}
