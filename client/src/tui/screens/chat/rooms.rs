//! Rooms from the keyboard: create one (a one-line prompt for its name; the server's refusal is
//! shown and the name comes back to fix), and jump to one by name (a prompt that matches rooms
//! as you type, best first).

use warren_protocol::{Command, Id, Room};

use crate::tui::app::App;
use crate::tui::fuzzy::Fuzzy;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::screens::Tab;
use crate::tui::state::Overlay;

impl App {
    /// Opens the room prompt for `purpose` (a new room, or a jump) with `text` typed in.
    pub(crate) fn open_room_prompt(&mut self, purpose: PromptFor, text: &str) {
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
    pub(crate) fn create_room_from_prompt(&mut self, name: &str) {
        let name = name.trim().trim_start_matches('#').to_owned();
        let room_id = crate::tui::input::new_id("room");
        self.close_overlay();
        self.chat.go_to_room = room_id.clone();
        self.submit(Command::CreateRoom {
            room_id,
            name,
            topic: String::new(),
        });
    }

    /// Enter in the jump prompt: go to the highlighted room.
    pub(crate) fn jump_from_prompt(&mut self) {
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

/// Rooms whose name matches `query` by the palette's fuzzy match ([`crate::tui::fuzzy`]), best
/// first: names that start with it before the rest; ties keep the room list's order. An empty
/// query matches every room.
pub fn matching_rooms(rooms: &[Room], query: &str) -> Vec<Room> {
    let q = query.trim().trim_start_matches('#').trim().to_lowercase();
    if q.is_empty() {
        return rooms.to_vec();
    }
    let mut fuzzy = Fuzzy::new(&q);
    let mut scored: Vec<(bool, u32, usize, &Room)> = rooms
        .iter()
        .enumerate()
        .filter_map(|(i, room)| {
            let hit = fuzzy.find(&room.name)?;
            Some((!room.name.starts_with(&q), hit.score, i, room))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    scored.into_iter().map(|(.., r)| r.clone()).collect()
}
