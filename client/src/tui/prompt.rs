//! A one-line question over the screen ("New board: name"): the text field, what the answer is
//! for, and what submitting it does. Enter submits, Esc leaves without a change; an empty answer
//! is refused in place so nothing typed is lost. Room prompts answer in
//! [`super::screens::chat::rooms`].

use ratatui_textarea::TextArea;
use warren_protocol::{Command, Id};

use super::app::App;
use super::input::new_id;
use super::state::{Overlay, single_line};

/// What a prompt's answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    /// The name of a new room.
    NewRoom,
    /// A room to jump to, matched as you type.
    JumpToRoom,
    NewBoard,
    RenameBoard {
        board_id: Id,
    },
    /// A new column at `index` of the board.
    NewColumn {
        board_id: Id,
        index: u32,
    },
    RenameColumn {
        board_id: Id,
        column_id: Id,
    },
    /// A member's new role.
    MemberRole {
        user_id: Id,
    },
    /// The role of someone to invite.
    InviteRole,
    NewWorkspace,
    RenameWorkspace,
    /// The workspace's name again, to delete it.
    DeleteWorkspace,
    BotName,
    TokenName,
    /// A job and its parameters (`JOB key=value …`) to start, for a card or not.
    StartRun {
        card_id: Option<Id>,
    },
    /// Why a run is rejected (may stay empty).
    RejectRun {
        run_id: Id,
    },
    /// Why an agent's tool call is rejected (goes back to the model; may stay empty).
    RejectTool {
        run_id: Id,
        step: u32,
    },
}

/// An open prompt.
#[derive(Debug)]
pub struct Prompt {
    /// The question, shown as the window's title.
    pub title: String,
    pub input: TextArea<'static>,
    pub purpose: PromptFor,
    /// Why the last answer was refused, shown under the field.
    pub error: Option<String>,
    /// The highlighted choice (jumping to a room).
    pub selected: usize,
}

impl Prompt {
    /// A prompt with `text` already typed (for renames).
    pub fn new(title: impl Into<String>, text: &str, purpose: PromptFor) -> Self {
        Self {
            title: title.into(),
            input: single_line(text),
            purpose,
            error: None,
            selected: 0,
        }
    }

    /// The answer typed so far, trimmed.
    pub fn answer(&self) -> String {
        self.input.lines().join(" ").trim().to_owned()
    }
}

impl App {
    /// Opens a prompt. Text being written in the card editor waits under it; other windows
    /// close.
    pub fn open_prompt(&mut self, prompt: Prompt) {
        if let Some(editor @ Overlay::Editor(_)) = self.overlay.take() {
            self.under.push(editor);
        }
        self.overlay = Some(Overlay::Prompt(Box::new(prompt)));
    }

    /// Submits the open prompt: an empty answer stays open with a hint; otherwise the command
    /// is queued (it shows at once) and the prompt closes.
    pub fn submit_prompt(&mut self) {
        let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() else {
            return;
        };
        let name = prompt.answer();
        let purpose = prompt.purpose.clone();
        match purpose {
            PromptFor::JumpToRoom => return self.jump_from_prompt(),
            PromptFor::NewRoom if !name.is_empty() => return self.create_room_from_prompt(&name),
            PromptFor::MemberRole { user_id } => return self.role_from_prompt(user_id, &name),
            PromptFor::InviteRole => return self.invite_from_prompt(&name),
            PromptFor::StartRun { card_id } => return self.start_run_from_prompt(card_id, &name),
            PromptFor::RejectRun { run_id } => {
                self.close_overlay();
                return self.submit(Command::RejectRun {
                    run_id,
                    reason: (!name.is_empty()).then_some(name),
                });
            }
            PromptFor::RejectTool { run_id, step } => {
                self.close_overlay();
                return self.submit(Command::DecideTool {
                    run_id,
                    step,
                    decision: warren_protocol::step::Decision::Reject,
                    reason: (!name.is_empty()).then_some(name),
                });
            }
            PromptFor::NewWorkspace
            | PromptFor::RenameWorkspace
            | PromptFor::DeleteWorkspace
            | PromptFor::BotName
            | PromptFor::TokenName => return self.account_prompt(&purpose, name),
            _ => {}
        }
        if name.is_empty() {
            prompt.error = Some("type a name first (esc leaves)".into());
            return;
        }
        let command = match purpose {
            PromptFor::NewRoom
            | PromptFor::JumpToRoom
            | PromptFor::MemberRole { .. }
            | PromptFor::InviteRole
            | PromptFor::NewWorkspace
            | PromptFor::RenameWorkspace
            | PromptFor::DeleteWorkspace
            | PromptFor::BotName
            | PromptFor::TokenName
            | PromptFor::RejectRun { .. }
            | PromptFor::RejectTool { .. }
            | PromptFor::StartRun { .. } => return,
            PromptFor::NewBoard => Command::CreateBoard {
                board_id: new_id("board"),
                name,
                columns: None,
            },
            PromptFor::RenameBoard { board_id } => Command::RenameBoard { board_id, name },
            PromptFor::NewColumn { board_id, index } => {
                let column_id = new_id("col");
                self.board.column = index as usize;
                Command::AddColumn {
                    board_id,
                    column_id,
                    name,
                    index: Some(index),
                }
            }
            PromptFor::RenameColumn {
                board_id,
                column_id,
            } => Command::RenameColumn {
                board_id,
                column_id,
                name,
            },
        };
        let new_board = match &command {
            Command::CreateBoard { board_id, .. } => board_id.clone(),
            _ => None,
        };
        self.close_overlay();
        self.submit(command);
        if let Some(id) = new_board {
            self.pending_board = Some(id);
        }
    }

    /// Types a key into the open prompt.
    pub fn prompt_input(&mut self, key: crossterm::event::KeyEvent) {
        if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut()
            && key.code != crossterm::event::KeyCode::Enter
            && prompt.input.input(key)
        {
            prompt.error = None;
            prompt.selected = 0;
        }
    }
}
