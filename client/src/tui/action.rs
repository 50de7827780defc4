//! The one vocabulary of user-facing actions. Every key binding names an action; the command
//! palette lists them; the help overlay describes them. Declared once, with a description each.

use std::fmt;

/// Where a binding applies. `global` bindings work everywhere a more specific context does not
/// bind the same key; text-entry contexts (compose, filter, palette, editor) only see their own
/// bindings so that typing is never stolen by a global key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Board,
    Chat,
    Compose,
    Filter,
    Palette,
    Editor,
    Confirm,
    Detail,
    Prompt,
}

impl Context {
    /// Every context, in the order the help overlay shows them.
    pub const ALL: [Context; 10] = [
        Context::Global,
        Context::Board,
        Context::Chat,
        Context::Compose,
        Context::Filter,
        Context::Palette,
        Context::Editor,
        Context::Confirm,
        Context::Detail,
        Context::Prompt,
    ];

    /// The name used in keymap files (`[board]`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Board => "board",
            Context::Chat => "chat",
            Context::Compose => "compose",
            Context::Filter => "filter",
            Context::Palette => "palette",
            Context::Editor => "editor",
            Context::Confirm => "confirm",
            Context::Detail => "detail",
            Context::Prompt => "prompt",
        }
    }

    /// Parses a context name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the context is a text field, where unbound printable keys are typed as text and
    /// global bindings do not apply.
    pub fn is_text_entry(self) -> bool {
        matches!(
            self,
            Context::Compose
                | Context::Filter
                | Context::Palette
                | Context::Editor
                | Context::Prompt
        )
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// A user-facing action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(#[doc = $doc] $variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in keymap files and the palette, such as `card_new`.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// A one-line description for help and the palette.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $doc,)* }
            }
        }
    };
}

actions! {
    Quit => "quit", "Quit warren";
    Help => "help", "Show the key bindings of the current screen";
    Palette => "palette", "Open the command palette";
    NextTab => "next_tab", "Switch to the next tab";
    PrevTab => "prev_tab", "Switch to the previous tab";
    ShowBoard => "show_board", "Switch to the board";
    ShowChat => "show_chat", "Switch to chat";
    Cancel => "cancel", "Close the overlay or leave the field";
    Confirm => "confirm", "Confirm or open the selection";
    MoveUp => "move_up", "Move the selection up";
    MoveDown => "move_down", "Move the selection down";
    MoveLeft => "move_left", "Move the selection left";
    MoveRight => "move_right", "Move the selection right";
    PageUp => "page_up", "Scroll up a page";
    PageDown => "page_down", "Scroll down a page";
    First => "first", "Jump to the first item";
    Last => "last", "Jump to the last item";
    CardNew => "card_new", "Create a card in the focused column";
    CardEdit => "card_edit", "Edit the selected card";
    CardOpen => "card_open", "Show the selected card in full";
    CardDelete => "card_delete", "Delete the selected card (asks first)";
    CardMoveLeft => "card_move_left", "Move the selected card to the column on the left";
    CardMoveRight => "card_move_right", "Move the selected card to the column on the right";
    CardMoveUp => "card_move_up", "Move the selected card up within its column";
    CardMoveDown => "card_move_down", "Move the selected card down within its column";
    Filter => "filter", "Filter the board as you type (text, #label, @assignee)";
    ClearFilter => "clear_filter", "Clear the board filter";
    NextBoard => "next_board", "Show the next board";
    PrevBoard => "prev_board", "Show the previous board";
    NextRoom => "next_room", "Go to the next room";
    PrevRoom => "prev_room", "Go to the previous room";
    RoomNew => "room_new", "Create a room (asks for its name)";
    RoomJump => "room_jump", "Jump to a room by name";
    Compose => "compose", "Write a message in the current room";
    Send => "send", "Send the message";
    Newline => "newline", "Insert a new line in the message";
    MessageEdit => "message_edit", "Edit the selected message (your own)";
    MessageDelete => "message_delete", "Delete the selected message (your own; asks first)";
    Save => "save", "Save the card being edited";
    NextField => "next_field", "Go to the next field";
    PrevField => "prev_field", "Go to the previous field";
}

impl Action {
    /// Parses an action name from a keymap file.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
            assert!(!action.description().is_empty());
        }
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        for context in Context::ALL {
            assert_eq!(Context::from_name(context.name()), Some(context));
        }
    }
}
