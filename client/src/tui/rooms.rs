//! Rooms from the keyboard: create one (a one-line prompt for its name; the server's refusal is
//! shown and the name comes back to fix), and jump to one by name (a prompt that matches rooms
//! as you type, best first).

use warren_protocol::{Command, Id, Room};

use super::app::App;
use super::prompt::{Prompt, PromptFor};
use super::state::{Overlay, Tab};

impl App {
    /// Opens the room prompt for `purpose` (a new room, or a jump) with `text` typed in.
    pub(super) fn open_room_prompt(&mut self, purpose: PromptFor, text: &str) {
        let title = match purpose {
            PromptFor::JumpToRoom => "Jump to a room",
            _ => "New room",
        };
        self.open_prompt(Prompt::new(title, text, purpose));
    }

    /// The rooms matching what is typed in the jump prompt, best first.
    pub fn room_choices(&self) -> Vec<Room> {
        match &self.overlay {
            Some(Overlay::Prompt(prompt)) if prompt.purpose == PromptFor::JumpToRoom => {
                matching_rooms(&self.view().rooms, &prompt.input.lines().join(" "))
            }
            _ => Vec::new(),
        }
    }

    /// Enter in the new-room prompt: create the room (it opens once the server confirms it).
    pub(super) fn create_room_from_prompt(&mut self, name: &str) {
        let name = name.trim().trim_start_matches('#').to_owned();
        let room_id = super::input::new_id("room");
        self.close_overlay();
        self.chat.go_to_room = room_id.clone();
        self.submit(Command::CreateRoom {
            room_id,
            name,
            topic: String::new(),
        });
    }

    /// Enter in the jump prompt: go to the highlighted room.
    pub(super) fn jump_from_prompt(&mut self) {
        let Some(Overlay::Prompt(prompt)) = &self.overlay else {
            return;
        };
        let (text, selected) = (prompt.answer(), prompt.selected);
        let Some(room) = self.room_choices().into_iter().nth(selected) else {
            if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                prompt.error = Some(format!("no room matches {text:?}"));
            }
            return;
        };
        self.close_overlay();
        self.go_to_room(&room.id);
    }

    /// Shows a room in the chat tab.
    pub fn go_to_room(&mut self, room: &Id) {
        let Some(i) = self.model.rooms.iter().position(|r| &r.id == room) else {
            return;
        };
        self.chat.room = i;
        self.chat.selected = None;
        self.tab = Tab::Chat;
        self.ensure_history();
        self.mark_read();
    }
}

/// Rooms whose name matches `query`: a prefix first, then containing it, then holding its
/// letters in order; ties keep the room list's order. An empty query matches every room.
pub fn matching_rooms(rooms: &[Room], query: &str) -> Vec<Room> {
    let q = query.trim().trim_start_matches('#').to_lowercase();
    let mut scored: Vec<(u8, usize, &Room)> = rooms
        .iter()
        .enumerate()
        .filter_map(|(i, room)| {
            let name = room.name.to_lowercase();
            let score = if name.starts_with(&q) {
                0
            } else if name.contains(&q) {
                1
            } else if in_order(&q, &name) {
                2
            } else {
                return None;
            };
            Some((score, i, room))
        })
        .collect();
    scored.sort_by_key(|(score, i, _)| (*score, *i));
    scored.into_iter().map(|(_, _, r)| r.clone()).collect()
}

fn in_order(needle: &str, hay: &str) -> bool {
    let mut hay = hay.chars();
    needle.chars().all(|c| hay.any(|h| h == c))
}
