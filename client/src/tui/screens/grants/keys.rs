//! What the grants window's keys do: open it (the palette, or from Stats), move through the
//! list, and revoke the selected grant (asks first).

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::vertical_delta;

/// Performs `action` if it is the grants window's (see [`crate::tui::screens::Keys`]).
pub fn perform(app: &mut App, action: Action, context: Context) -> bool {
    match action {
        Action::Grants => app.open_grants(),
        Action::GrantRevoke if context == Context::Grants => app.grant_revoke(),
        _ => match vertical_delta(action) {
            Some(delta) if context == Context::Grants => app.move_grant_selection(delta),
            _ => return false,
        },
    }
    true
}
