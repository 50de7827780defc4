//! The Stats tab: what the workspace's agents used, for people who would rather look than read
//! — tokens and cost per day as bars, the top agents and providers, and each budget as limit
//! against spent. It reads the `usage` and `budgets` queries (asked for each time the tab is
//! shown, after each finished step while it is in front, and again with a key); budgets then follow the `budget_*` events. How it is drawn is in
//! [`draw`], its keys in [`keys`].

pub mod draw;
mod keys;

use ratatui::Frame;
use ratatui::layout::Rect;
use warren_protocol::budget::UsageRow;
use warren_protocol::{Change, Event};

use super::Screen;
use crate::keymap::{Action, Context};
use crate::tui::app::App;
use crate::tui::net::NetRequest;

/// Days of usage asked for and drawn at most.
pub const DAYS: i64 = 30;

/// The Stats screen, as registered in [`super::Tab`].
pub struct Stats;

/// The one Stats screen.
pub static SCREEN: Stats = Stats;

/// What the Stats tab remembers.
#[derive(Debug, Default)]
pub struct StatsUi {
    /// The last `usage` answer (`None`: not asked yet, or on its way).
    pub usage: Option<Result<Vec<UsageRow>, String>>,
    /// Why the `budgets` query failed, if it did.
    pub budgets_error: Option<String>,
    /// A `usage` query is on its way.
    pub loading: bool,
}

impl StatsUi {
    /// Takes the answer of the `usage` query.
    pub fn on_usage(&mut self, answer: Result<Vec<UsageRow>, String>) {
        self.loading = false;
        self.usage = Some(answer.map_err(|e| crate::sanitize::line(&e)));
    }
}

impl Screen for Stats {
    fn title(&self) -> &'static str {
        "Stats"
    }

    fn listed(&self, app: &App) -> bool {
        app.tab == super::Tab::Stats || !app.view().agents.agents.is_empty()
    }

    fn context(&self, _app: &App) -> Context {
        Context::Stats
    }

    fn perform(&self, app: &mut App, action: Action, _context: Context) -> bool {
        keys::perform(app, action)
    }

    fn forget(&self, app: &mut App) {
        app.stats = StatsUi::default();
    }

    fn shown(&self, app: &mut App) {
        if !app.stats.loading {
            app.load_stats();
        }
    }

    fn on_event(&self, app: &mut App, event: &Event) {
        // A finished step may have spent tokens: look again while the tab is in front (on
        // another tab, `shown` asks when it comes to the front).
        if let Change::RunStep { step } = &event.change
            && step.finished_at.is_some()
            && app.tab == super::Tab::Stats
            && !app.stats.loading
        {
            app.load_stats();
        }
    }

    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        draw::render(app, frame, area);
    }
}

impl App {
    /// Asks for the usage of the last [`DAYS`] days and the budgets.
    pub fn load_stats(&mut self) {
        let since = self.runs_now() - (DAYS - 1) * 86_400_000;
        let since = since - since.rem_euclid(86_400_000);
        self.stats.loading = true;
        self.outbound.push(NetRequest::Usage { since });
        self.outbound.push(NetRequest::Budgets);
    }
}
