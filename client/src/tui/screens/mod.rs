//! The screens of the full-screen client, one folder each: the screen's state and what it asks of
//! the workspace (`mod.rs`), what its keys do (`keys.rs`) and how it is drawn (`draw.rs`).
//!
//! Two kinds are registered here, one line each. A *tab* (the board, chat) is a [`Screen`]: its
//! line in `tabs!` declares its folder and gives it a [`Tab`], a place in the tab bar, its key
//! context and its drawing. A *window* (members, account and tokens, invite, audit, grants) is drawn
//! over a tab as an [`Overlay`] variant; its line in `windows!` declares its folder and asks its
//! `keys::perform` for the actions no tab took. Shared pieces (prompts, the palette,
//! confirmations, help, the status bar, scrolled lists) stay in `tui/` and `tui/view/`.
//!
//! [`Overlay`]: super::state::Overlay

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use warren_protocol::Event;

use super::app::App;
use crate::keymap::{Action, Context};

/// A top-level screen: a tab of the client.
pub trait Screen: Sync {
    /// The tab's title in the tab bar ("Board").
    fn title(&self) -> &'static str;

    /// The tab's label in the tab bar: the title, with a count where the screen has one.
    fn label(&self, _app: &App) -> String {
        self.title().to_owned()
    }

    /// Whether the tab bar shows the tab now (Stats only in a workspace with agents, or while
    /// it is in front).
    fn listed(&self, _app: &App) -> bool {
        true
    }

    /// The context its keys are read in while no window is open over it.
    fn context(&self, app: &App) -> Context;

    /// Performs `action`, read in `context`, if it is this screen's; says whether it was.
    /// Actions a screen owns work from anywhere (the palette runs them over any tab).
    fn perform(&self, app: &mut App, action: Action, context: Context) -> bool;

    /// Types `key`, read in the text-entry `context`, into the screen's field if the context is
    /// one of the screen's; says whether it was. Keys no binding took come here.
    fn type_key(&self, _app: &mut App, _context: Context, _key: KeyEvent) -> bool {
        false
    }

    /// Pastes `text` (normalised, see [`crate::tui::paste`]) into the screen's field if the
    /// `context` is one of the screen's; says whether it was.
    fn paste(&self, _app: &mut App, _context: Context, _text: &str) -> bool {
        false
    }

    /// What the copy action copies on this screen when no window says otherwise: a name for the
    /// notice ("card #12") and the text.
    fn copy(&self, _app: &App) -> Option<(String, String)> {
        None
    }

    /// Reacts to an event the replica has just applied (chat counts unread messages).
    fn on_event(&self, _app: &mut App, _event: &Event) {}

    /// Keeps the screen's indexes inside what the workspace has, after it changed.
    fn clamp(&self, _app: &mut App) {}

    /// Forgets what the screen remembers of the workspace (switching to another one).
    fn forget(&self, app: &mut App);

    /// Runs when the screen comes to the front.
    fn shown(&self, _app: &mut App) {}

    /// Draws the screen in `area` (the space between the tab bar and the status bar).
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect);
}

/// What a window's keys do: performs `action`, read in `context`, if it is the window's, and
/// says whether it was.
pub type Keys = fn(&mut App, Action, Context) -> bool;

/// Declares the tabs, in tab-bar order: `Variant => module,` declares the screen's module (its
/// folder) and a [`Tab`] variant showing the module's `SCREEN`.
macro_rules! tabs {
    ($($tab:ident => $module:ident,)*) => {
        $(pub mod $module;)*

        /// The top-level screens, in tab-bar order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Tab {
            $($tab,)*
        }

        impl Tab {
            /// Every tab in tab-bar order.
            pub const ALL: [Tab; [$(stringify!($tab),)*].len()] = [$(Tab::$tab,)*];

            /// The screen this tab shows.
            pub fn screen(self) -> &'static dyn Screen {
                match self {
                    $(Tab::$tab => &$module::SCREEN,)*
                }
            }
        }
    };
}

tabs! {
    Board => board,
    Chat => chat,
    Runs => runs,
    Stats => stats,
}

/// Declares the windows whose keys are their own: `module,` declares the window's module (its
/// folder), whose `keys::perform` is asked, in this order, after the tabs'.
macro_rules! windows {
    ($($module:ident,)*) => {
        $(pub mod $module;)*

        /// The windows' keys, asked after the tabs' in this order.
        const WINDOWS: &[Keys] = &[$($module::keys::perform,)*];
    };
}

windows! {
    members,
    account,
    invite,
    audit,
    grants,
}

impl Tab {
    /// The tab `delta` places on in tab-bar order, wrapping around.
    pub fn step(self, delta: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        let at = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(at + delta).rem_euclid(n) as usize]
    }
}

/// Lets the screen that owns the text-entry `context` type `key` into its field; says whether
/// one did.
pub fn type_key(app: &mut App, context: Context, key: KeyEvent) -> bool {
    Tab::ALL
        .iter()
        .any(|tab| tab.screen().type_key(app, context, key))
}

/// Lets the screen that owns `context` take pasted `text`; says whether one did.
pub fn paste(app: &mut App, context: Context, text: &str) -> bool {
    Tab::ALL
        .iter()
        .any(|tab| tab.screen().paste(app, context, text))
}

/// Lets the screen or window that owns `action` perform it; says whether one did.
pub fn perform(app: &mut App, action: Action, context: Context) -> bool {
    Tab::ALL
        .iter()
        .any(|tab| tab.screen().perform(app, action, context))
        || WINDOWS.iter().any(|keys| keys(app, action, context))
}
