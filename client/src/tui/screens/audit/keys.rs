//! What the audit keys do: `audit` opens the window. It scrolls like every read-only window
//! (the detail context, in [`crate::tui::input`]) and no card key acts under it.

use crate::keymap::{Action, Context};
use crate::tui::app::App;

/// Performs `action` if it is the audit window's (see [`crate::tui::screens::Keys`]).
pub fn perform(app: &mut App, action: Action, _context: Context) -> bool {
    match action {
        Action::Audit => app.open_audit(),
        _ => return false,
    }
    true
}
