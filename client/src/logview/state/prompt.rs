//! The search and filter prompt (`/`, `&`): what is typed, checked as it is typed, and applied
//! on enter. A pattern that does not compile keeps the prompt open with the error and changes
//! nothing, so an invalid filter never hides the log.
//!
//! The search is incremental (less and vim's incsearch): every keystroke looks for the first
//! match from where the search started, moves the view there and highlights every match on
//! screen, through the lines the source can read at once only ([`LineSource::find_near`]: for a
//! remote log, the lines held, with no server query per keystroke). Esc goes back to where the
//! search started, following again if it was; enter keeps the place, or, when nothing near
//! matched, runs the full search ([`LineSource::find`], which goes to the server).

use super::{LogView, Notice, position_of};
use crate::logview::keys::PromptKey;
use crate::logview::line::{Direction, LineSource, MatchCount};
use crate::logview::matcher::{Filter, Pattern, PatternError, Query};

/// Lines an incremental search looks through for the next match, per keystroke.
pub const FIND_BUDGET: u64 = 50_000;
/// Lines around the view an incremental search counts matches in, per keystroke.
pub const COUNT_BUDGET: u64 = 10_000;

/// Which prompt is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `/`: a search pattern.
    Search,
    /// `&`: a filter (`!` inverts, empty clears).
    Filter,
}

/// The open prompt and what has been typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Search or filter.
    pub kind: PromptKind,
    /// The text so far.
    pub text: String,
    /// Why the text does not compile, checked as it is typed.
    pub error: Option<String>,
    /// For a search, what the text typed so far finds (none while it is empty or invalid).
    pub found: Option<Incremental>,
}

/// What an incremental search found for the text typed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incremental {
    /// Whether a match was found from where the search started (the view is on it).
    pub moved: bool,
    /// The matching lines among those looked at.
    pub count: MatchCount,
}

/// Where the view was when the search prompt opened: esc goes back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Origin {
    pub top: u64,
    pub follow: bool,
}

impl<S: LineSource> LogView<S> {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        // Like less, a search starts afresh; the filter is edited in place.
        let text = match kind {
            PromptKind::Search => None,
            PromptKind::Filter => self.filter.as_ref().map(Filter::source),
        };
        if kind == PromptKind::Search {
            self.origin = Some(Origin {
                top: self.top(),
                follow: self.follow,
            });
        }
        self.preview = None;
        self.prompt = Some(Prompt {
            kind,
            text: text.unwrap_or_default(),
            error: None,
            found: None,
        });
    }

    /// A key typed into the open prompt.
    pub fn prompt_input(&mut self, key: PromptKey) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match key {
            PromptKey::Insert(c) => prompt.text.push(c),
            PromptKey::Backspace => {
                prompt.text.pop();
            }
            PromptKey::Cancel => {
                // The refused pattern's error said "press esc to keep the previous one": done.
                if prompt.error.is_some() && matches!(self.notice, Some(Notice::Error(_))) {
                    self.notice = None;
                }
                self.restore_origin();
                self.prompt = None;
                self.origin = None;
                return;
            }
            PromptKey::Submit => {
                let (kind, text) = (prompt.kind, prompt.text.clone());
                let moved = prompt.found.is_some_and(|f| f.moved);
                match self.apply(kind, &text, moved) {
                    Ok(()) => {
                        self.prompt = None;
                        self.origin = None;
                        self.preview = None;
                    }
                    // The prompt stays open with the text; nothing already applied changes.
                    Err(e) => {
                        if let Some(p) = self.prompt.as_mut() {
                            p.error = Some(e.reason.clone());
                        }
                        self.notice = Some(Notice::Error(e.to_string()));
                    }
                }
                return;
            }
        }
        self.prompt_changed();
    }

    /// Pasted text typed into the open prompt at once (on one line: control characters, line
    /// breaks among them, are dropped). Says whether a prompt was open.
    pub fn paste(&mut self, text: &str) -> bool {
        let Some(prompt) = self.prompt.as_mut() else {
            return false;
        };
        prompt.text.extend(text.chars().filter(|c| !c.is_control()));
        self.prompt_changed();
        true
    }

    /// Checks (and, for a search, looks for) the text typed so far.
    fn prompt_changed(&mut self) {
        let Some(prompt) = self.prompt.as_ref() else {
            return;
        };
        let (kind, text) = (prompt.kind, prompt.text.clone());
        match kind {
            PromptKind::Search => self.search_as_typed(&text),
            PromptKind::Filter => {
                let error = check_filter(&text).err().map(|e| e.reason);
                if let Some(p) = self.prompt.as_mut() {
                    p.error = error;
                }
            }
        }
    }

    /// The incremental step: moves to the first match of `text` from where the search started
    /// (or back there), highlights its matches and counts them. An invalid pattern only says
    /// why: the view stays where the last valid one put it.
    fn search_as_typed(&mut self, text: &str) {
        if text.is_empty() {
            self.restore_origin();
            self.preview = None;
            self.set_found(None, None);
            return;
        }
        let pattern = match Pattern::new(text) {
            Ok(p) => p,
            Err(e) => {
                self.set_found(Some(e.reason), None);
                return;
            }
        };
        self.restore_origin();
        let query = Query::Pattern(pattern.clone());
        let found = self.first_match_from(self.top(), &query, |source, from, query| {
            source.find_near(from, Direction::Forward, query, FIND_BUDGET)
        });
        if let Some(pos) = found {
            self.follow = false;
            self.top = pos;
        }
        let count = self.source.count_near(&query, self.top(), COUNT_BUDGET);
        self.preview = Some(pattern);
        self.set_found(
            None,
            Some(Incremental {
                moved: found.is_some(),
                count,
            }),
        );
    }

    fn set_found(&mut self, error: Option<String>, found: Option<Incremental>) {
        if let Some(p) = self.prompt.as_mut() {
            p.error = error;
            p.found = found;
        }
    }

    /// Puts the view back where the search started.
    fn restore_origin(&mut self) {
        if let Some(origin) = self.origin {
            self.follow = origin.follow;
            self.top = origin.top;
        }
    }

    /// Applies what was typed. A search the incremental step already moved to (`moved`) stays
    /// there; otherwise the full search runs from where it started.
    fn apply(&mut self, kind: PromptKind, text: &str, moved: bool) -> Result<(), PatternError> {
        match kind {
            PromptKind::Search if text.is_empty() => {
                self.restore_origin();
                self.search = None;
            }
            PromptKind::Search => {
                let pattern = Pattern::new(text)?;
                self.search = Some(pattern.clone());
                if moved {
                    return Ok(());
                }
                self.restore_origin();
                // Like less: the first match at or after the top line.
                let query = Query::Pattern(pattern);
                let found = self.first_match_from(self.top(), &query, |source, from, query| {
                    source.find(from, Direction::Forward, query)
                });
                match found {
                    Some(pos) => {
                        self.follow = false;
                        self.top = pos;
                    }
                    None if self.source.searching() => self.info("searching the whole log…"),
                    None => {
                        let text = format!(
                            "no matches below: {} searches backwards",
                            self.key_names.prev_match
                        );
                        self.info(&text);
                    }
                }
            }
            PromptKind::Filter => {
                let filter = if text.is_empty() {
                    None
                } else {
                    Some(Filter::parse(text)?)
                };
                self.set_filter(filter);
            }
        }
        Ok(())
    }

    /// The first position at or after `top` matching `query`, looked for with `find` (which
    /// looks strictly after the position it is given).
    fn first_match_from(
        &self,
        top: u64,
        query: &Query,
        find: impl Fn(&S, u64, &Query) -> Option<u64>,
    ) -> Option<u64> {
        match top.checked_sub(1) {
            Some(from) => find(&self.source, from, query),
            None => {
                let first = self.source.fetch(0..1);
                if first.first().is_some_and(|l| query.matches(l)) {
                    return Some(0);
                }
                find(&self.source, 0, query)
            }
        }
    }

    /// Applies a filter (or none) through the source, keeping the top line in view when it
    /// passes (else the next line that does).
    pub fn set_filter(&mut self, filter: Option<Filter>) {
        let number = (!self.follow).then(|| self.top_number()).flatten();
        self.source.set_filter(filter.clone());
        self.filter = filter;
        if let Some(number) = number {
            let pos = match position_of(&self.source, number) {
                Ok(p) | Err(p) => p,
            };
            self.set_top(pos);
        }
    }
}

fn check_filter(text: &str) -> Result<(), PatternError> {
    if text.is_empty() {
        return Ok(());
    }
    Filter::parse(text).map(drop)
}
