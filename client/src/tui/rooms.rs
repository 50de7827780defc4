//! Rooms from the keyboard: create one (a one-line prompt for its name; the server's refusal is
//! shown and the name comes back to fix), and jump to one by name (a prompt that matches rooms
//! as you type, best first).

use warren_protocol::{Command, Id, Room};

use super::app::App;
use super::state::{Overlay, PromptKind, Tab, single_line};

impl App {
    /// Opens the room prompt of `kind` with `text` typed in.
    pub(super) fn open_room_prompt(&mut self, kind: PromptKind, text: &str) {
        // Text being written in the card editor waits under the prompt; other windows close.
        if let Some(editor @ Overlay::Editor(_)) = self.overlay.take() {
            self.under.push(editor);
        }
        self.overlay = Some(Overlay::Prompt {
            kind,
            input: Box::new(single_line(text)),
            selected: 0,
        });
    }

    /// The rooms matching what is typed in the jump prompt, best first.
    pub fn room_choices(&self) -> Vec<Room> {
        let query = match &self.overlay {
            Some(Overlay::Prompt {
                kind: PromptKind::JumpToRoom,
                input,
                ..
            }) => input.lines().join(" "),
            _ => return Vec::new(),
        };
        matching_rooms(&self.view().rooms, &query)
    }

    /// Enter in a prompt: create the room, or go to the chosen one.
    pub(super) fn answer_prompt(&mut self) {
        let Some(Overlay::Prompt {
            kind,
            input,
            selected,
        }) = &self.overlay
        else {
            return;
        };
        let (kind, text, selected) = (*kind, input.lines().join(" "), *selected);
        match kind {
            PromptKind::NewRoom => {
                let name = text.trim().trim_start_matches('#').to_owned();
                if name.is_empty() {
                    self.notify("type the new room's name, or press esc to leave", true);
                    return;
                }
                let room_id = new_room_id();
                self.close_overlay();
                self.chat.go_to_room = room_id.clone();
                self.submit(Command::CreateRoom {
                    room_id,
                    name,
                    topic: String::new(),
                });
            }
            PromptKind::JumpToRoom => {
                let Some(room) = self.room_choices().into_iter().nth(selected) else {
                    self.notify(format!("no room matches {:?}", text.trim()), true);
                    return;
                };
                self.close_overlay();
                self.go_to_room(&room.id);
            }
        }
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

fn new_room_id() -> Option<Id> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).ok()?;
    Some(Id::from_random("room", random))
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
