//! What the Stats tab's keys do: show it, and load its figures again.

use crate::keymap::Action;
use crate::tui::app::App;
use crate::tui::screens::Tab;

/// Performs `action` if it is the Stats tab's.
pub(super) fn perform(app: &mut App, action: Action) -> bool {
    match action {
        Action::ShowStats => app.show(Tab::Stats),
        Action::StatsRefresh => {
            app.load_stats();
            app.show(Tab::Stats);
        }
        _ => return false,
    }
    true
}
