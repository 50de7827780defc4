//! Nothing typed is lost: the outbox is kept on disk between runs (see [`super::outbox_file`]),
//! quitting with changes waiting asks first and says they are kept, and a change the server
//! refuses comes back in the editor or message box it was written in, with the reason shown.

use warren_protocol::{Command, Id};

use super::app::App;
use super::outbox_file::{self, OutboxKey};
use super::screens::Tab;
use super::state::{Confirmable, Overlay};

impl App {
    /// Connected as `user`: loads what an earlier run left waiting for this server, user and
    /// workspace, in front of anything queued since (it is sent right after, under its own
    /// request ids).
    pub(super) fn restore_outbox(&mut self, user: &Id) {
        let Some(workspace) = self.workspace_id.clone() else {
            return;
        };
        let key = OutboxKey {
            server: self.server.clone(),
            user: user.clone(),
            workspace,
        };
        if self.outbox_key.as_ref() == Some(&key) {
            return;
        }
        self.outbox_key = Some(key.clone());
        let Some(dir) = self.outbox_dir.clone() else {
            return;
        };
        match outbox_file::load(&dir, &key) {
            Ok(saved) if saved.is_empty() => {}
            Ok(saved) => {
                let n = saved.len();
                self.outbox.restore(saved);
                self.keep_outbox();
                self.reproject();
                self.notify(
                    format!("sending {} saved by an earlier run", changes(n)),
                    false,
                );
            }
            Err(e) => self.notify(e.to_string(), true),
        }
    }

    /// Writes the outbox to disk after it changed (once the owner is known).
    pub(super) fn keep_outbox(&mut self) {
        let (Some(dir), Some(key)) = (self.outbox_dir.as_ref(), self.outbox_key.as_ref()) else {
            return;
        };
        if let Err(e) = outbox_file::save(dir, key, self.outbox.items()) {
            self.notify(e.to_string(), true);
        }
    }

    /// `quit`: at once when nothing waits and nothing typed would be lost (or when asked a
    /// second time); else asks first, saying what is kept and what is not.
    pub(super) fn request_quit(&mut self) {
        let asked = matches!(
            self.overlay,
            Some(Overlay::Confirm {
                what: Confirmable::Quit,
                ..
            })
        );
        let mut parts = Vec::new();
        let n = self.outbox.len();
        if n > 0 {
            let them = if n == 1 { "it is" } else { "they are" };
            let kept = if self.outbox_dir.is_some() {
                format!("{them} kept and sent when warren reconnects")
            } else {
                format!("{them} lost if you quit now")
            };
            parts.push(format!("{} not sent yet; {kept}.", changes(n)));
        }
        // Text typed but not sent or saved is not kept: say so.
        if !self.chat.compose.is_empty() {
            parts.push("The message you are writing is not sent and will be lost.".to_owned());
        }
        if self.editor_changed() {
            parts.push("Your changes to this card are not saved and will be lost.".to_owned());
        }
        if parts.is_empty() || asked {
            self.quit = true;
            return;
        }
        parts.push("Quit?".to_owned());
        let prompt = parts.join(" ");
        if let Some(open) = self.overlay.take() {
            self.under.push(open);
        }
        self.overlay = Some(Overlay::Confirm {
            prompt,
            what: Confirmable::Quit,
        });
    }

    /// A refused card or message change comes back where it was written, with its text; a
    /// card editor or prompt that comes back also shows `why` (the status bar is under it).
    pub(super) fn reopen_refused(&mut self, command: Command, why: &str) {
        match command {
            Command::CreateCard { .. } | Command::UpdateCard { .. } => {
                if let Some(mut editor) = self.editor_for_refused(&command) {
                    editor.refused = Some(why.to_owned());
                    if let Some(open) = self.overlay.take() {
                        self.under.push(open);
                    }
                    self.overlay = Some(Overlay::Editor(Box::new(editor)));
                }
            }
            Command::PostMessage { body, room_id, .. } => {
                self.reopen_message(body, Some(room_id), None)
            }
            Command::EditMessage { message_id, body } => {
                self.reopen_message(body, None, Some(message_id));
            }
            Command::CreateRoom { name, .. } => {
                self.open_room_prompt(super::prompt::PromptFor::NewRoom, &name);
                if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                    prompt.error = Some(why.to_owned());
                }
            }
            _ => {}
        }
    }

    fn reopen_message(&mut self, body: String, room: Option<Id>, editing: Option<Id>) {
        if let Some(room) = room
            && let Some(i) = self.view().rooms.iter().position(|r| r.id == room)
            && self.chat.compose.is_empty()
        {
            self.chat.room = i;
        }
        if self.chat.compose.is_empty() {
            let mut compose = super::screens::chat::new_compose();
            compose.insert_str(&body);
            self.chat.compose = compose;
            self.chat.editing = editing;
        } else {
            // Something else is being written: the refused text goes below it, not over it.
            self.chat
                .compose
                .move_cursor(ratatui_textarea::CursorMove::Bottom);
            self.chat
                .compose
                .move_cursor(ratatui_textarea::CursorMove::End);
            self.chat.compose.insert_str(format!("\n\n{body}"));
        }
        self.tab = Tab::Chat;
        self.chat.composing = true;
    }
}

/// "1 change", "2 changes".
pub fn changes(n: usize) -> String {
    if n == 1 {
        "1 change".to_owned()
    } else {
        format!("{n} changes")
    }
}
