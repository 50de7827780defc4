//! What the chat screen's keys do: moving between rooms and messages, writing (typed or pasted),
//! sending and leaving the message box, and telling the room that you are typing. Creating and
//! jumping to rooms is in [`super::rooms`], editing and deleting your own messages in
//! [`super::own_message`].

use crossterm::event::KeyEvent;
use warren_protocol::Command;

use super::new_compose;
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::{new_id, step, vertical_delta};
use crate::tui::net::NetRequest;
use crate::tui::prompt::PromptFor;
use crate::tui::screens::Tab;
use crate::tui::state::{Confirmable, Overlay};

/// Performs `action` if it is chat's (see [`crate::tui::screens::Screen::perform`]).
pub(super) fn perform(app: &mut App, action: Action, context: Context) -> bool {
    match action {
        Action::ShowChat => app.show(Tab::Chat),
        Action::NextRoom | Action::PrevRoom => {
            let n = app.view().rooms.len().max(1);
            let step = if action == Action::NextRoom { 1 } else { n - 1 };
            app.chat.room = (app.chat.room + step) % n;
            app.chat.selected = None;
            app.tab = Tab::Chat;
            app.on_tab_change();
        }
        Action::RoomNew => app.open_room_prompt(PromptFor::NewRoom, ""),
        Action::RoomJump => app.open_room_prompt(PromptFor::JumpToRoom, ""),
        Action::Compose => {
            app.tab = Tab::Chat;
            app.chat.composing = true;
        }
        Action::MessageOpen => match super::run_line::selected_run(app) {
            Some(run_id) => app.open_agent_run(&run_id),
            None => {
                app.tab = Tab::Chat;
                app.chat.composing = true;
            }
        },
        Action::Send => app.send_message(),
        Action::Newline if context == Context::Compose => app.chat.compose.insert_newline(),
        Action::MentionComplete if context == Context::Compose => app.complete_mention(),
        Action::MessageEdit => app.edit_message(),
        Action::MessageDelete => app.delete_message(),
        Action::Cancel => match context {
            Context::Compose if app.message_edit_changed() => {
                app.overlay = Some(Overlay::Confirm {
                    prompt: "Discard your changes to this message?".into(),
                    what: Confirmable::DiscardMessageEdit,
                });
            }
            Context::Compose => app.leave_compose(),
            _ => return false,
        },
        Action::Confirm => match context {
            Context::Chat => app.perform(Action::Compose),
            Context::Compose => app.send_message(),
            _ => return false,
        },
        _ => match vertical_delta(action) {
            Some(delta) if context == Context::Chat => app.move_message_selection(delta),
            _ => return false,
        },
    }
    true
}

/// Types `key` into the message box; says whether the context was the message box.
pub(super) fn type_key(app: &mut App, context: Context, key: KeyEvent) -> bool {
    if context != Context::Compose {
        return false;
    }
    if app.chat.compose.input(key) {
        app.maybe_send_typing();
    }
    true
}

/// Pastes `text` into the message box, opening it from the chat screen; says whether the
/// context was chat's.
pub(super) fn paste(app: &mut App, context: Context, text: &str) -> bool {
    match context {
        Context::Compose => app.paste_into_compose(text),
        Context::Chat if app.overlay.is_none() && app.tab == Tab::Chat => {
            app.chat.composing = true;
            app.paste_into_compose(text);
        }
        _ => return false,
    }
    true
}

impl App {
    fn paste_into_compose(&mut self, text: &str) {
        self.chat.compose.insert_str(text);
        self.maybe_send_typing();
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

    pub(crate) fn send_message(&mut self) {
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
            None => match super::slash::parse(&body) {
                Ok(super::slash::Slash::Message(body)) => Command::PostMessage {
                    message_id: new_id("msg"),
                    room_id,
                    body,
                },
                Ok(super::slash::Slash::Run { job, params }) => {
                    let found = self.view().job_named(&job).map(|j| j.id.clone());
                    let Some(job_id) = found else {
                        // The text stays in the box to be fixed.
                        let names: Vec<String> =
                            self.view().jobs.iter().map(|j| j.name.clone()).collect();
                        let known = if names.is_empty() {
                            "there are no jobs yet (warren job add)".to_owned()
                        } else {
                            format!("jobs: {}", names.join(", "))
                        };
                        self.notify(format!("No job named “{job}”; {known}"), true);
                        return;
                    };
                    Command::StartRun {
                        run_id: new_id("run"),
                        job_id,
                        params,
                        card_id: None,
                        room_id: Some(room_id),
                    }
                }
                Err(why) => {
                    self.notify(format!("Cannot start that run: {why}"), true);
                    return;
                }
            },
        };
        self.chat.compose = new_compose();
        self.chat.selected = None;
        self.submit(command);
    }

    pub(crate) fn maybe_send_typing(&mut self) {
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
}
