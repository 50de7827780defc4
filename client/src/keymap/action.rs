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
    Members,
    Tokens,
    Runs,
    Log,
    LogPrompt,
    Agent,
    Approval,
    Stats,
    Grants,
}

impl Context {
    /// Every context, in the order the help overlay shows them.
    pub const ALL: [Context; 19] = [
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
        Context::Members,
        Context::Tokens,
        Context::Runs,
        Context::Log,
        Context::LogPrompt,
        Context::Agent,
        Context::Approval,
        Context::Stats,
        Context::Grants,
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
            Context::Members => "members",
            Context::Tokens => "tokens",
            Context::Runs => "runs",
            Context::Log => "log",
            Context::LogPrompt => "log_prompt",
            Context::Agent => "agent",
            Context::Approval => "approval",
            Context::Stats => "stats",
            Context::Grants => "grants",
        }
    }

    /// The heading of the context's keys in the help window.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Board => "Board",
            Context::Chat => "Chat",
            Context::Compose => "Writing a message",
            Context::Filter => "Typing the board filter",
            Context::Palette => "Command palette",
            Context::Editor => "Card editor",
            Context::Confirm => "Yes/no questions",
            Context::Detail => "Card details and other windows",
            Context::Prompt => "Naming a room, board or column",
            Context::Members => "The members window",
            Context::Tokens => "The tokens window",
            Context::Runs => "Runs",
            Context::Log => "A run and its log",
            Context::LogPrompt => "Typing a log search or filter",
            Context::Agent => "An agent run and its steps",
            Context::Approval => "An approval prompt (in a room or an agent run)",
            Context::Stats => "Stats",
            Context::Grants => "The grants window (tools agents may call without asking)",
        }
    }

    /// Whether the context falls back to the global bindings for keys it does not bind: every
    /// context but the text fields and the log view (which binds every key it answers itself,
    /// so that the board's `1`, `h` or `M` never reach a run's log by surprise), and the
    /// approval prompt, which is asked first and hands every key it does not bind to the
    /// screen under it.
    pub fn inherits_global(self) -> bool {
        self != Context::Global
            && !self.is_text_entry()
            && self != Context::Log
            && self != Context::Approval
    }

    /// Whether keys the context does not bind are handed to the screen (typed into a text
    /// field).
    pub fn passes_unbound_keys(self) -> bool {
        self.is_text_entry()
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
                | Context::LogPrompt
        )
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal $(, title = $title:literal)?;)*) => {
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

            /// A short human name for the palette ("New card"), if one was given.
            fn given_title(self) -> Option<&'static str> {
                match self { $(Action::$variant => None$(.or(Some($title)))?,)* }
            }
        }
    };
}

actions! {
    Quit => "quit", "Quit warren", title = "Quit warren";
    Help => "help", "Show the key bindings of the current screen", title = "Keys and help";
    Palette => "palette", "Open the command palette";
    NextTab => "next_tab", "Switch to the next tab", title = "Next tab";
    PrevTab => "prev_tab", "Switch to the previous tab", title = "Previous tab";
    ShowBoard => "show_board", "Switch to the board", title = "Go to the board";
    ShowChat => "show_chat", "Switch to chat", title = "Go to chat";
    ShowRuns => "show_runs", "Switch to runs: jobs and shell runs, live", title = "Go to runs";
    ShowStats => "show_stats", "Switch to stats: agents' tokens and cost per day, agent and provider, with the budgets", title = "Go to stats";
    StatsRefresh => "stats_refresh", "Load the usage and the budgets again", title = "Refresh the stats";
    Grants => "grants", "Show the tools agents may call without asking (\"always\" answers to approval prompts), and revoke one", title = "Agent grants";
    GrantRevoke => "grant_revoke", "Revoke the selected grant: the agent asks again next time (asks first)", title = "Revoke a grant";
    StepToggle => "step_toggle", "Open or fold the selected step of an agent run (a tool call's arguments and result)";
    AgentInterrupt => "agent_interrupt", "Interrupt the agent's turn (cancels the run); when it is not streaming, go back to the list", title = "Interrupt the agent";
    ApproveOnce => "approve_once", "Approve the tool call the agent waits on, this once";
    ApproveAlways => "approve_always", "Approve the tool call and every later call of this tool by this agent in this workspace (revocable)";
    ApproveReject => "approve_reject", "Reject the tool call; asks for a reason, which goes back to the model";
    RunStart => "run_start", "Start a job: asks for its name and parameters (JOB key=value …)", title = "Start a run";
    CardRun => "card_run", "Start a job for the selected card (asks for JOB key=value …)", title = "Run a job for this card";
    RunOpen => "run_open", "Open the selected run: its details and its live log", title = "Open run";
    RunClose => "run_close", "Close the run and go back to the list", title = "Close the run";
    RunCancel => "run_cancel", "Cancel the selected run (asks first): its process group is stopped", title = "Cancel a run";
    RunApprove => "run_approve", "Approve the selected run of a protected job", title = "Approve a run";
    RunReject => "run_reject", "Reject the selected run of a protected job (asks for a reason)", title = "Reject a run";
    RunRetry => "run_retry", "Start the selected run's job again with the same parameters", title = "Retry a run";
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
    CardNew => "card_new", "Create a card in the focused column", title = "New card";
    CardEdit => "card_edit", "Edit the selected card", title = "Edit card";
    CardOpen => "card_open", "Show the selected card in full", title = "Open card";
    CardDelete => "card_delete", "Delete the selected card (asks first)", title = "Delete card";
    CardMoveLeft => "card_move_left", "Move the selected card to the column on the left", title = "Move card left";
    CardMoveRight => "card_move_right", "Move the selected card to the column on the right", title = "Move card right";
    CardMoveUp => "card_move_up", "Move the selected card up within its column", title = "Move card up";
    CardMoveDown => "card_move_down", "Move the selected card down within its column", title = "Move card down";
    Filter => "filter", "Filter the board as you type (word, #label, @assignee, !priority, #12)", title = "Filter the board";
    ClearFilter => "clear_filter", "Clear the board filter", title = "Clear the filter";
    NextBoard => "next_board", "Show the next board", title = "Next board";
    PrevBoard => "prev_board", "Show the previous board", title = "Previous board";
    BoardNew => "board_new", "Create a board and show it", title = "New board";
    BoardRename => "board_rename", "Rename the current board", title = "Rename board";
    ColumnNew => "column_new", "Add a column right of the focused one", title = "New column";
    ColumnRename => "column_rename", "Rename the focused column", title = "Rename column";
    ColumnMoveLeft => "column_move_left", "Move the focused column one place left", title = "Move column left";
    ColumnMoveRight => "column_move_right", "Move the focused column one place right", title = "Move column right";
    ColumnDelete => "column_delete", "Delete the focused column; its cards go to a neighbour (asks first)", title = "Delete column";
    NextRoom => "next_room", "Go to the next room", title = "Next room";
    PrevRoom => "prev_room", "Go to the previous room", title = "Previous room";
    Members => "members", "Show the workspace's members and their roles", title = "Members";
    MemberRole => "member_role", "Give the selected member another role (admins and owners)", title = "Change a member's role";
    MemberRemove => "member_remove", "Remove the selected member from the workspace (asks first)", title = "Remove a member";
    WorkspaceNew => "workspace_new", "Create a workspace with you as its owner (asks for its name)", title = "New workspace";
    WorkspaceRename => "workspace_rename", "Rename the workspace (admins and owners)", title = "Rename the workspace";
    WorkspaceDelete => "workspace_delete", "Delete the workspace and everything in it, for everyone (owners; asks for its name again)", title = "Delete the workspace";
    MemberOwner => "member_owner", "Hand the workspace to the selected member: they become owner, you an admin (asks first)", title = "Hand the workspace over";
    BotAdd => "bot_add", "Add a bot member and show its token once (admins and owners)", title = "Add a bot";
    Tokens => "tokens", "Show your API tokens: make, revoke or rotate one, or sign out everywhere else", title = "My tokens";
    TokenNew => "token_new", "Make a new token and show it once", title = "New token";
    TokenRevoke => "token_revoke", "Revoke the selected token (asks first)", title = "Revoke a token";
    TokenRotate => "token_rotate", "Replace the selected token; the old one works for one more hour", title = "Rotate a token";
    TokenRevokeOthers => "token_revoke_others", "Sign out everywhere else: revoke every token but this window's (asks first)", title = "Sign out everywhere else";
    Audit => "audit", "Show the workspace's audit log: who changed members, roles, bots and tokens, and failed sign-ins (owners and admins)", title = "Audit log";
    Invite => "invite", "Make an invite code for someone new, shown once (admins and owners; asks for the role)", title = "Invite someone";
    RoomNew => "room_new", "Create a room (asks for its name)", title = "New room";
    RoomJump => "room_jump", "Jump to a room by name", title = "Jump to a room";
    Compose => "compose", "Write a message in the current room", title = "Write a message";
    Send => "send", "Send the message";
    Newline => "newline", "Insert a new line in the message";
    MessageOpen => "message_open", "Open the agent run the selected message asked or answered (else write a message)", title = "Open a message's run";
    MentionComplete => "mention_complete", "Complete the @name before the cursor (people, bots and agents)";
    MessageEdit => "message_edit", "Edit the selected message (your own)", title = "Edit my message";
    MessageDelete => "message_delete", "Delete the selected message (your own; asks first)", title = "Delete my message";
    Save => "save", "Save the card being edited";
    NextField => "next_field", "Go to the next field";
    PrevField => "prev_field", "Go to the previous field";
    Copy => "copy", "Copy the selected card or message to the clipboard (needs [ui] osc52 = true)", title = "Copy to clipboard";
    Undo => "undo", "Undo the last delete (for a few seconds)", title = "Undo delete";
    Density => "density", "Switch between roomy cards (with labels) and compact ones (one row each)", title = "Compact or roomy cards";
    Messages => "messages", "Show the recent status messages in full", title = "Recent messages";
    LogLineUp => "log_line_up", "Scroll one line towards the start (stops following)";
    LogLineDown => "log_line_down", "Scroll one line towards the end";
    LogPageUp => "log_page_up", "Scroll one screen towards the start (stops following)";
    LogPageDown => "log_page_down", "Scroll one screen towards the end";
    LogTop => "log_top", "Go to the first line (stops following)";
    LogBottom => "log_bottom", "Go to the last line and follow the live tail";
    LogFollow => "log_follow", "Follow the live tail again", title = "Follow the log";
    LogToggleNumbers => "log_toggle_numbers", "Show or hide line numbers", title = "Log line numbers on/off";
    LogToggleTimestamps => "log_toggle_timestamps", "Show or hide each line's time", title = "Log timestamps on/off";
    LogToggleWrap => "log_toggle_wrap", "Wrap long lines, or cut them at the edge", title = "Wrap log lines on/off";
    LogTogglePrettyJson => "log_toggle_pretty_json", "Lay JSON lines out over several lines", title = "Pretty JSON on/off";
    LogScrollLeft => "log_scroll_left", "Show the text further left (when lines are cut)";
    LogScrollRight => "log_scroll_right", "Show the text further right (when lines are cut)";
    LogSearch => "log_search", "Search as you type (a regex, smart case); enter keeps the place, esc goes back", title = "Search the log";
    LogFilter => "log_filter", "Filter: a pattern keeps matching lines, !pattern drops them, empty clears", title = "Filter the log";
    LogNextMatch => "log_next_match", "Next line the search matches";
    LogPrevMatch => "log_prev_match", "Previous line the search matches";
    LogNextError => "log_next_error", "Next error line", title = "Next log error";
    LogPrevError => "log_prev_error", "Previous error line", title = "Previous log error";
    LogNextWarning => "log_next_warning", "Next warning line", title = "Next log warning";
    LogPrevWarning => "log_prev_warning", "Previous warning line", title = "Previous log warning";
    LogToggleBookmark => "log_toggle_bookmark", "Bookmark the top line, or remove its bookmark", title = "Bookmark the top line";
    LogNextBookmark => "log_next_bookmark", "Next bookmarked line";
    LogPrevBookmark => "log_prev_bookmark", "Previous bookmarked line";
    LogClear => "log_clear", "Clear the search highlight and any message";
}

impl Action {
    /// The name people see in the palette: the short title, else the description.
    pub fn title(self) -> &'static str {
        self.given_title().unwrap_or(self.description())
    }

    /// Actions that only make sense as a key in a given place (moving, confirming, typing), so
    /// the palette does not offer them.
    pub fn is_key_only(self) -> bool {
        matches!(
            self,
            Action::Palette
                | Action::Cancel
                | Action::Confirm
                | Action::MoveUp
                | Action::MoveDown
                | Action::MoveLeft
                | Action::MoveRight
                | Action::PageUp
                | Action::PageDown
                | Action::First
                | Action::Last
                | Action::Send
                | Action::Newline
                | Action::MentionComplete
                | Action::Save
                | Action::NextField
                | Action::PrevField
                | Action::MemberRole
                | Action::MemberRemove
                | Action::MemberOwner
                | Action::TokenRevoke
                | Action::TokenRotate
                | Action::GrantRevoke
                | Action::LogLineUp
                | Action::LogLineDown
                | Action::LogPageUp
                | Action::LogPageDown
                | Action::LogTop
                | Action::LogBottom
                | Action::LogScrollLeft
                | Action::LogScrollRight
                | Action::LogNextMatch
                | Action::LogPrevMatch
                | Action::LogNextBookmark
                | Action::LogPrevBookmark
                | Action::LogClear
                | Action::StepToggle
                | Action::AgentInterrupt
                | Action::ApproveOnce
                | Action::ApproveAlways
                | Action::ApproveReject
        )
    }

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

    #[test]
    fn palette_actions_have_short_human_titles() {
        for action in Action::ALL.iter().filter(|a| !a.is_key_only()) {
            let title = action.title();
            assert!(!title.contains('_'), "{action}: {title}");
            assert!(title.chars().count() <= 24, "{action}: {title} is long");
        }
    }
}
