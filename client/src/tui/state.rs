//! View state of the full-screen client that is neither workspace data nor one screen's: the
//! open windows (overlays), confirmations, notices and the connection status. Each screen's own
//! state is in its folder under [`super::screens`].

use ratatui_textarea::TextArea;
use tokio::time::Instant;
use warren_protocol::Id;

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

/// A one-line text field.
pub fn single_line(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_owned()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
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
    CancelRun(Id),
    /// Revoke an agent's standing approval of a tool.
    RevokeGrant(Id),
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
    Editor(Box<super::screens::board::editor::CardEditor>),
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
    Invite(super::screens::invite::ShownInvite),
    /// A new secret (a bot's or a new token), shown this once.
    Secret(super::screens::account::ShownSecret),
    /// The user's API tokens.
    Tokens {
        view: super::screens::account::TokensView,
        selected: usize,
    },
    /// The tools agents may call without asking.
    Grants {
        view: super::screens::grants::GrantsView,
        selected: usize,
    },
    /// The workspace's audit log, newest first.
    Audit {
        view: super::screens::audit::AuditView,
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
