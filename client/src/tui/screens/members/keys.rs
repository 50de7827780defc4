//! What the members window's keys do: open it, move through the list, change a member's role
//! (also Enter) or remove them.

use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::input::{step, vertical_delta};
use crate::tui::state::Overlay;

/// Performs `action` if it is the members window's (see [`crate::tui::screens::Keys`]).
pub fn perform(app: &mut App, action: Action, context: Context) -> bool {
    match action {
        Action::Members => app.toggle_members(),
        Action::MemberRole => app.member_role(),
        Action::MemberRemove => app.member_remove(),
        Action::Confirm if context == Context::Members => app.member_role(),
        _ => match vertical_delta(action) {
            Some(delta) if context == Context::Members => {
                let n = app.members_listed().len();
                if let Some(Overlay::Members { selected }) = app.overlay.as_mut() {
                    *selected = step(*selected, delta, n);
                }
            }
            _ => return false,
        },
    }
    true
}
