//! What the account keys do: workspace management (new, rename, delete, hand over), adding a
//! bot, and the tokens window (open it, move through it, new, revoke, rotate, sign out
//! everywhere else).

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::vertical_delta;

/// Performs `action` if it is an account action (see [`crate::tui::screens::Keys`]).
pub fn perform(app: &mut App, action: Action, context: Context) -> bool {
    match action {
        Action::WorkspaceNew => app.workspace_new(),
        Action::WorkspaceRename => app.workspace_rename(),
        Action::WorkspaceDelete => app.workspace_delete(),
        Action::MemberOwner => app.member_owner(),
        Action::BotAdd => app.bot_add(),
        Action::Tokens => app.tokens(),
        Action::TokenNew => app.token_new(),
        Action::TokenRevoke => app.token_revoke(),
        Action::TokenRotate => app.token_rotate(),
        Action::TokenRevokeOthers => app.token_revoke_others(),
        // Enter does nothing in the tokens window: each change has its own key.
        Action::Confirm if context == Context::Tokens => {}
        _ => match vertical_delta(action) {
            Some(delta) if context == Context::Tokens => app.move_token_selection(delta),
            _ => return false,
        },
    }
    true
}
