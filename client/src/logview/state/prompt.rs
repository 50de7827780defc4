//! The search and filter prompt (`/`, `&`): what is typed, checked as it is typed, and applied
//! on enter. A pattern that does not compile keeps the prompt open with the error and changes
//! nothing, so an invalid filter never hides the log.

use super::{LogView, Notice, position_of};
use crate::logview::keys::PromptKey;
use crate::logview::line::{Direction, LineSource};
use crate::logview::matcher::{Filter, Pattern, PatternError, Query};

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
}

impl<S: LineSource> LogView<S> {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        // Like less, a search starts afresh; the filter is edited in place.
        let text = match kind {
            PromptKind::Search => None,
            PromptKind::Filter => self.filter.as_ref().map(Filter::source),
        };
        self.prompt = Some(Prompt {
            kind,
            text: text.unwrap_or_default(),
            error: None,
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
                self.prompt = None;
                return;
            }
            PromptKey::Submit => {
                let (kind, text) = (prompt.kind, prompt.text.clone());
                match self.apply(kind, &text) {
                    Ok(()) => self.prompt = None,
                    // The prompt stays open with the text; nothing already applied changes.
                    Err(e) => {
                        prompt_error(&mut self.prompt, &e);
                        self.notice = Some(Notice::Error(e.to_string()));
                    }
                }
                return;
            }
        }
        let (kind, text) = (prompt.kind, prompt.text.clone());
        let error = check(kind, &text).err().map(|e| e.reason);
        if let Some(p) = self.prompt.as_mut() {
            p.error = error;
        }
    }

    fn apply(&mut self, kind: PromptKind, text: &str) -> Result<(), PatternError> {
        match kind {
            PromptKind::Search if text.is_empty() => self.search = None,
            PromptKind::Search => {
                let pattern = Pattern::new(text)?;
                self.search = Some(pattern.clone());
                // Like less: the first match at or after the top line.
                let from = self.top().checked_sub(1);
                let found = match from {
                    Some(from) => {
                        self.source
                            .find(from, Direction::Forward, &Query::Pattern(pattern))
                    }
                    None => self.first_match(&Query::Pattern(pattern)),
                };
                match found {
                    Some(pos) => {
                        self.follow = false;
                        self.top = pos;
                    }
                    None => self.info("no matches below: N searches backwards"),
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

    fn first_match(&self, query: &Query) -> Option<u64> {
        let first = self.source.fetch(0..1);
        if first.first().is_some_and(|l| query.matches(l)) {
            return Some(0);
        }
        self.source.find(0, Direction::Forward, query)
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

fn check(kind: PromptKind, text: &str) -> Result<(), PatternError> {
    match kind {
        _ if text.is_empty() => Ok(()),
        PromptKind::Search => Pattern::new(text).map(drop),
        PromptKind::Filter => Filter::parse(text).map(drop),
    }
}

fn prompt_error(prompt: &mut Option<Prompt>, error: &PatternError) {
    if let Some(p) = prompt.as_mut() {
        p.error = Some(error.reason.clone());
    }
}
