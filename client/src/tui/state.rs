//! View state of the full-screen client that is not workspace data: the tab, focus and
//! selection on each screen, open overlays, and the connection status.

use std::cell::Cell;
use std::collections::HashMap;

use ratatui_textarea::{TextArea, WrapMode};
use tokio::time::Instant;
use warren_protocol::Id;

/// The top-level screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Board,
    Chat,
}

impl Tab {
    /// Every tab in tab-bar order.
    pub const ALL: [Tab; 2] = [Tab::Board, Tab::Chat];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Board => "Board",
            Tab::Chat => "Chat",
        }
    }
}

/// How the client stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Down; the next attempt is at `at`.
    Reconnecting {
        at: Instant,
        reason: String,
    },
    /// Down until the user does something (not a member of the workspace, a bad address).
    Offline {
        reason: String,
    },
    /// The server refused the token (HTTP 401): nothing works until the user logs in again.
    Refused {
        message: String,
    },
}

/// The board screen.
#[derive(Debug, Default)]
pub struct BoardUi {
    /// Index into the model's boards.
    pub board: usize,
    /// Index of the focused column.
    pub column: usize,
    /// The selected card per column, by id, so live updates never move the selection.
    pub selected: HashMap<Id, Id>,
    /// The selected row per column, the fallback when the selected card disappears.
    pub row: HashMap<Id, usize>,
    /// The filter text (`word`, `#label`, `@assignee`, `!priority`, `#12`).
    pub filter: String,
    /// The filter field while it is being typed in.
    pub filter_input: Option<TextArea<'static>>,
    /// One row per card (titles only) instead of title plus labels.
    pub compact: bool,
    /// First visible column (kept by the renderer so scrolling is stable).
    pub first_column: Cell<usize>,
    /// First visible card row per column (kept by the renderer).
    pub first_row: std::cell::RefCell<HashMap<Id, usize>>,
}

/// The chat screen.
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

/// A one-line text field.
pub fn single_line(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_owned()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// A field of the card editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Labels,
    Priority,
    Assignee,
    Description,
}

impl Field {
    /// The editor's fields in tab order.
    pub const ALL: [Field; 5] = [
        Field::Title,
        Field::Labels,
        Field::Priority,
        Field::Assignee,
        Field::Description,
    ];

    /// The field's label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Labels => "Labels (comma-separated)",
            Field::Priority => "Priority (none, low, medium, high, urgent)",
            Field::Assignee => "Assignee (member name)",
            Field::Description => "Description (markdown)",
        }
    }
}

/// The card editor: a new card (`card: None`) or an existing one.
#[derive(Debug)]
pub struct CardEditor {
    pub card: Option<Id>,
    pub board: Id,
    pub column: Id,
    pub field: usize,
    pub title: TextArea<'static>,
    pub labels: TextArea<'static>,
    pub priority: TextArea<'static>,
    pub assignee: TextArea<'static>,
    pub description: TextArea<'static>,
    /// The fields' text when the editor opened, to tell whether leaving loses anything.
    pub original: Vec<String>,
    /// Why the server refused the last save of this text, shown in the editor (the status bar's
    /// message is under it) until the next save.
    pub refused: Option<String>,
}

impl CardEditor {
    /// The text area of a field.
    pub fn area(&self, field: Field) -> &TextArea<'static> {
        match field {
            Field::Title => &self.title,
            Field::Labels => &self.labels,
            Field::Priority => &self.priority,
            Field::Assignee => &self.assignee,
            Field::Description => &self.description,
        }
    }

    /// The focused field's text area.
    pub fn focused_mut(&mut self) -> &mut TextArea<'static> {
        match Field::ALL[self.field % Field::ALL.len()] {
            Field::Title => &mut self.title,
            Field::Labels => &mut self.labels,
            Field::Priority => &mut self.priority,
            Field::Assignee => &mut self.assignee,
            Field::Description => &mut self.description,
        }
    }

    /// Every field's text, in [`Field::ALL`] order.
    pub fn texts(&self) -> Vec<String> {
        Field::ALL
            .iter()
            .map(|f| self.area(*f).lines().join("\n"))
            .collect()
    }

    /// The focused field.
    pub fn focused(&self) -> Field {
        Field::ALL[self.field % Field::ALL.len()]
    }
}

/// What a confirmation dialog confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmable {
    DeleteCard(Id),
    DeleteMessage(Id),
    RemoveMember(Id),
    DeleteColumn {
        board_id: Id,
        column_id: Id,
        move_cards_to: Option<Id>,
    },
    /// Quit although changes wait to be sent.
    Quit,
    /// Leave the card editor (the overlay under the question) without saving.
    DiscardEdits,
    /// Leave the message box, dropping the changed edit of a message.
    DiscardMessageEdit,
    /// Hand the workspace to this member.
    Transfer(Id),
    RevokeToken(Id),
    RevokeOtherTokens,
}

/// A window drawn over the screen; it takes the keys while open.
#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Palette {
        input: Box<TextArea<'static>>,
        selected: usize,
    },
    Confirm {
        prompt: String,
        what: Confirmable,
    },
    Editor(Box<CardEditor>),
    /// A one-line question: a name for a new room, board or column, a new name, or a room to
    /// jump to.
    Prompt(Box<super::prompt::Prompt>),
    Detail {
        card: Id,
        scroll: usize,
    },
    /// The recent status messages in full, newest first.
    Messages {
        scroll: usize,
    },
    /// The workspace's members with their roles.
    Members {
        selected: usize,
    },
    /// A new invite's code, shown this once.
    Invite(super::invite::ShownInvite),
    /// A new secret (a bot's or a new token), shown this once.
    Secret(super::account::ShownSecret),
    /// The user's API tokens.
    Tokens {
        view: super::account::TokensView,
        selected: usize,
    },
    /// The workspace's audit log, newest first.
    Audit {
        view: super::audit::AuditView,
        scroll: usize,
    },
    /// Problems with the user's keymap or theme files, shown at start.
    Problems {
        lines: Vec<String>,
        scroll: usize,
    },
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}
