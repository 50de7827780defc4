//! The log view's state and update: where it is in the log, what it shows, the search, the
//! filter, bookmarks and the prompt. [`LogView::handle`] is the only way it changes; drawing
//! ([`super::widget`]) reads it. The lines themselves stay in the [`LineSource`].

use std::collections::BTreeSet;

use crossterm::event::KeyEvent;
use jiff::tz::TimeZone;

use super::keys::{self, KeyNames, LogAction, PromptKey};
use super::level::Level;
use super::line::{Direction, LineSource};
use super::matcher::{Filter, Pattern, Query};
use crate::keymap::{Action, Context, Keymap};
use crate::theme::ColorSupport;

mod prompt;

use prompt::Origin;
pub use prompt::{COUNT_BUDGET, FIND_BUDGET, Incremental, Prompt, PromptKind};

/// What the view shows besides the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Line numbers in the gutter.
    pub numbers: bool,
    /// Each line's time (UTC, `HH:MM:SS.mmm`).
    pub timestamps: bool,
    /// Long lines continue on the next rows instead of being cut.
    pub wrap: bool,
    /// JSON object lines laid out over several rows.
    pub pretty_json: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            numbers: true,
            timestamps: false,
            wrap: false,
            pretty_json: false,
        }
    }
}

/// A line for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something the user should know (`no more errors`).
    Info(String),
    /// Something that went wrong (an invalid pattern).
    Error(String),
}

/// The log view: a [`LineSource`] and how it is being looked at.
#[derive(Debug)]
pub struct LogView<S> {
    source: S,
    /// The position of the first line shown, when not following.
    top: u64,
    follow: bool,
    /// The rows the text area had when last drawn (set by the integration through
    /// [`LogView::set_height`]); pages move by this much.
    height: u16,
    options: Options,
    search: Option<Pattern>,
    filter: Option<Filter>,
    /// Bookmarked line numbers (numbers in the whole log, so they survive filtering).
    bookmarks: BTreeSet<u64>,
    prompt: Option<Prompt>,
    /// Where the view was when the search prompt opened (esc goes back there).
    origin: Option<Origin>,
    /// The pattern typed so far into the search prompt, highlighted as it is typed.
    preview: Option<Pattern>,
    notice: Option<Notice>,
    support: ColorSupport,
    /// Columns hidden on the left while lines are cut (not wrapped).
    left: usize,
    /// The zone timestamps are shown in.
    zone: TimeZone,
    /// The keys its words name.
    key_names: KeyNames,
}

/// How far one left/right press moves the text.
const SIDEWAYS: usize = 8;

impl<S: LineSource> LogView<S> {
    /// A view of `source` that follows its tail, with colours fitted to `support`.
    pub fn new(source: S, support: ColorSupport) -> Self {
        Self {
            source,
            top: 0,
            follow: true,
            height: 20,
            options: Options::default(),
            search: None,
            filter: None,
            bookmarks: BTreeSet::new(),
            prompt: None,
            origin: None,
            preview: None,
            notice: None,
            support,
            left: 0,
            zone: TimeZone::UTC,
            key_names: KeyNames::default(),
        }
    }

    /// Names keys as `names` says (the integration passes its keymap's; the bundled default
    /// keymap's until set).
    pub fn set_key_names(&mut self, names: KeyNames) {
        self.key_names = names;
    }

    /// The keys its words name.
    pub fn key_names(&self) -> &KeyNames {
        &self.key_names
    }

    /// Shows timestamps in `zone` (UTC until set; the integration passes `localtime::zone()`).
    pub fn set_zone(&mut self, zone: TimeZone) {
        self.zone = zone;
    }

    /// The zone timestamps are shown in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Columns hidden on the left (0 while wrapping).
    pub fn left(&self) -> usize {
        if self.options.wrap { 0 } else { self.left }
    }

    /// The source, to read.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The source, to append to (the live tail). A following view stays at the end.
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Tells the view how many rows of text it has (the drawing area minus the status bar).
    pub fn set_height(&mut self, rows: u16) {
        self.height = rows.max(1);
    }

    /// Rows of text, as last set.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Whether the view follows the live tail.
    pub fn following(&self) -> bool {
        self.follow
    }

    /// The position of the first line shown (computed from the end while following).
    pub fn top(&self) -> u64 {
        if self.follow {
            self.follow_top()
        } else {
            self.top.min(self.max_top())
        }
    }

    /// What is shown besides the text.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The search pattern `n`/`N` look for (the one last entered).
    pub fn search(&self) -> Option<&Pattern> {
        self.search.as_ref()
    }

    /// The pattern whose matches are highlighted: while the search prompt is open, what has
    /// been typed so far (nothing while it is empty or invalid); else the search.
    pub fn highlight(&self) -> Option<&Pattern> {
        match &self.prompt {
            Some(p) if p.kind == PromptKind::Search => self.preview.as_ref(),
            _ => self.search.as_ref(),
        }
    }

    /// The filter applied to the source.
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// The bookmarked line numbers.
    pub fn bookmarks(&self) -> &BTreeSet<u64> {
        &self.bookmarks
    }

    /// The open prompt.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompt.as_ref()
    }

    /// The status message.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The colours the terminal shows.
    pub fn support(&self) -> ColorSupport {
        self.support
    }

    /// The top line while following (counted in lines: with wrapping the widget shows fewer).
    fn follow_top(&self) -> u64 {
        self.source.len().saturating_sub(u64::from(self.height))
    }

    /// The last top line that still fills the screen. When a line may take several rows
    /// (wrapping, pretty JSON) any line may be the top, so the last rows can always be reached.
    fn max_top(&self) -> u64 {
        let len = self.source.len();
        if self.options.wrap || self.options.pretty_json {
            len.saturating_sub(1)
        } else {
            len.saturating_sub(u64::from(self.height))
        }
    }

    /// Stops following, keeping what is on screen where it is.
    fn unfollow(&mut self) {
        if self.follow {
            self.top = self.follow_top();
            self.follow = false;
        }
    }

    fn set_top(&mut self, top: u64) {
        self.top = top.min(self.max_top());
    }

    /// The keymap context the view's keys are read in: `log_prompt` while the prompt is open
    /// (keys are typed), else `log`.
    pub fn context(&self) -> Context {
        if self.prompt.is_some() {
            Context::LogPrompt
        } else {
            Context::Log
        }
    }

    /// A key from the terminal, read through the bundled default keymap (a view used on its
    /// own); see [`LogView::handle_key_with`].
    pub fn handle_key(&mut self, event: &KeyEvent) -> bool {
        self.handle_key_with(keys::default_keymap(), event)
    }

    /// A key from the terminal, read through `keymap` in the view's [`LogView::context`]: an
    /// action it binds is performed, and in the prompt any other key is typed. Returns whether
    /// the key meant something here (`quit` and the like are left to the caller).
    pub fn handle_key_with(&mut self, keymap: &Keymap, event: &KeyEvent) -> bool {
        match keymap.action(self.context(), event) {
            Some(action) => self.perform(action),
            None => self.type_key(event),
        }
    }

    /// Performs a keymap action if it is one of the view's in its current context: the
    /// `log_…` actions outside the prompt, `confirm` and `cancel` in it. Says whether it was.
    pub fn perform(&mut self, action: Action) -> bool {
        if self.prompt.is_some() {
            let key = match action {
                Action::Confirm => PromptKey::Submit,
                Action::Cancel => PromptKey::Cancel,
                _ => return false,
            };
            self.prompt_input(key);
            return true;
        }
        match LogAction::from_action(action) {
            Some(action) => {
                self.handle(action);
                true
            }
            None => false,
        }
    }

    /// Types a key into the open prompt (a character, or backspace); says whether it was one.
    pub fn type_key(&mut self, event: &KeyEvent) -> bool {
        if self.prompt.is_none() {
            return false;
        }
        match keys::prompt_key(event) {
            Some(key @ (PromptKey::Insert(_) | PromptKey::Backspace)) => {
                self.prompt_input(key);
                true
            }
            _ => false,
        }
    }

    /// Runs one action.
    pub fn handle(&mut self, action: LogAction) {
        if action != LogAction::Clear {
            self.notice = None;
        }
        let page = u64::from(self.height.saturating_sub(1).max(1));
        match action {
            LogAction::LineUp => {
                self.unfollow();
                self.top = self.top.saturating_sub(1);
            }
            LogAction::PageUp => {
                self.unfollow();
                self.top = self.top.saturating_sub(page);
            }
            LogAction::LineDown => self.down(1),
            LogAction::PageDown => self.down(page),
            LogAction::Top => {
                self.follow = false;
                self.top = 0;
            }
            LogAction::Bottom | LogAction::Follow => self.follow = true,
            LogAction::ToggleNumbers => self.options.numbers ^= true,
            LogAction::ToggleTimestamps => self.options.timestamps ^= true,
            LogAction::ToggleWrap => self.options.wrap ^= true,
            LogAction::TogglePrettyJson => self.options.pretty_json ^= true,
            LogAction::ScrollLeft => self.left = self.left.saturating_sub(SIDEWAYS),
            LogAction::ScrollRight => self.left = self.left.saturating_add(SIDEWAYS),
            LogAction::Search => self.open_prompt(PromptKind::Search),
            LogAction::Filter => self.open_prompt(PromptKind::Filter),
            LogAction::NextMatch | LogAction::PrevMatch => match self.search.clone() {
                Some(p) => {
                    let dir = direction(action == LogAction::NextMatch);
                    self.jump(&Query::Pattern(p), dir, "no more matches");
                }
                None => {
                    let text = format!("no search: press {} to search", self.key_names.search);
                    self.info(&text);
                }
            },
            LogAction::NextError => self.jump(
                &Query::Level(Level::Error),
                Direction::Forward,
                "no more errors",
            ),
            LogAction::PrevError => self.jump(
                &Query::Level(Level::Error),
                Direction::Backward,
                "no earlier errors",
            ),
            LogAction::NextWarning => self.jump(
                &Query::Level(Level::Warn),
                Direction::Forward,
                "no more warnings",
            ),
            LogAction::PrevWarning => self.jump(
                &Query::Level(Level::Warn),
                Direction::Backward,
                "no earlier warnings",
            ),
            LogAction::ToggleBookmark => self.toggle_bookmark(),
            LogAction::NextBookmark => self.jump_bookmark(Direction::Forward),
            LogAction::PrevBookmark => self.jump_bookmark(Direction::Backward),
            LogAction::Clear => {
                self.search = None;
                self.notice = None;
            }
        }
    }

    fn down(&mut self, by: u64) {
        if self.follow {
            return;
        }
        self.set_top(self.top.saturating_add(by));
    }

    fn info(&mut self, text: &str) {
        self.notice = Some(Notice::Info(text.to_owned()));
    }

    /// Moves the top to the next/previous line matching `query`, counted from the top line.
    fn jump(&mut self, query: &Query, dir: Direction, none: &str) {
        let from = self.top();
        match self.source.find(from, dir, query) {
            Some(pos) => {
                self.follow = false;
                self.top = pos;
            }
            None if self.source.searching() => self.info("searching the whole log…"),
            None => self.info(none),
        }
    }

    /// Shows position `pos` at the top (the answer of a search that went to the server).
    pub fn show_position(&mut self, pos: u64) {
        self.follow = false;
        self.notice = None;
        self.top = pos;
    }

    /// Says `text` in the viewer's status line.
    pub fn say(&mut self, text: &str) {
        self.info(text);
    }

    fn top_number(&self) -> Option<u64> {
        let top = self.top();
        self.source.fetch(top..top + 1).first().map(|l| l.number)
    }

    fn toggle_bookmark(&mut self) {
        let Some(number) = self.top_number() else {
            return;
        };
        if !self.bookmarks.remove(&number) {
            self.bookmarks.insert(number);
        }
    }

    fn jump_bookmark(&mut self, dir: Direction) {
        let current = self.top_number().unwrap_or(0);
        let candidates: Vec<u64> = match dir {
            Direction::Forward => self.bookmarks.range(current + 1..).copied().collect(),
            Direction::Backward => self.bookmarks.range(..current).rev().copied().collect(),
        };
        // A bookmark the filter hides is skipped.
        for number in candidates {
            if let Ok(pos) = position_of(&self.source, number) {
                self.follow = false;
                self.top = pos;
                return;
            }
        }
        let text = format!(
            "no more bookmarks: {} marks the top line",
            self.key_names.bookmark
        );
        self.info(&text);
    }
}

fn direction(forward: bool) -> Direction {
    if forward {
        Direction::Forward
    } else {
        Direction::Backward
    }
}

/// The position of line `number` in `source` (`Err` with where it would be when the filter
/// hides it), by binary search: line numbers increase with position.
pub fn position_of<S: LineSource + ?Sized>(source: &S, number: u64) -> Result<u64, u64> {
    let (mut lo, mut hi) = (0, source.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some(line) = source.fetch(mid..mid + 1).pop() else {
            return Err(mid);
        };
        match line.number.cmp(&number) {
            std::cmp::Ordering::Equal => return Ok(mid),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    Err(lo)
}
