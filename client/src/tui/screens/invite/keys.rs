//! What the invite keys do: `invite` asks for the newcomer's role. The window that shows the
//! code only copies and closes (guarded in [`crate::tui::input`]).

use crate::keymap::{Action, Context};
use crate::tui::app::App;

/// Performs `action` if it is the invite's (see [`crate::tui::screens::Keys`]).
pub fn perform(app: &mut App, action: Action, _context: Context) -> bool {
    match action {
        Action::Invite => app.invite(),
        _ => return false,
    }
    true
}
