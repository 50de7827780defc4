//! A run's log as the log viewer reads it from the server: a [`LineSource`] that holds only a
//! window of lines (at most [`CACHE_LINES`]), asks for the pages the viewer needs as it scrolls
//! (the `log` query), takes the live tail from the run's `log_subscribe`, and, with a filter,
//! has the server scan the whole stored log page by page (building an index of matching line
//! numbers only) before the same filter is applied to the live lines. A search (`/`, `n`/`N`,
//! `e`/`E`, `w`/`W`) that runs off the lines held goes on on the server: it asks for the next
//! line the pattern (or, for a level, a wider keyword pattern) matches, confirms it here with the
//! viewer's own test, and the screen moves there when the answer comes.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use warren_protocol::Id;
use warren_protocol::run::{LogFilter, LogLine as WireLine, LogStream};

use crate::logview::{Direction, Filter, Level, LineSource, LogLine, MatchCount, Query, Stream};

/// Most lines held at once; the ones farthest from what was last shown go first.
pub const CACHE_LINES: usize = 20_000;
/// Lines per page asked of the server.
pub const PAGE: u32 = 500;

/// A page the source needs from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub run_id: Id,
    /// The first line number to read (or to scan from, with a filter).
    pub from: u64,
    pub limit: u32,
    pub filter: Option<LogFilter>,
    /// Read towards line 1 (a backward search).
    pub backward: bool,
    /// What the answer is for.
    pub purpose: Purpose,
    /// The source's generation when asked: answers for an older one (the filter changed since)
    /// are dropped.
    pub generation: u64,
}

/// Why a page is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Lines the viewer shows.
    Lines,
    /// The next stretch of a filtered scan.
    Scan,
    /// The next candidate of a search.
    Search,
}

/// A search that left the lines held.
#[derive(Debug, Clone)]
struct Search {
    query: Query,
    direction: Direction,
    /// The line number the server search starts at (inclusive).
    from: u64,
    in_flight: bool,
}

/// Where a walk through the lines held stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// At a matching line, at this position.
    Found(u64),
    /// At the first or last line of the source: nothing further to look at.
    Edge,
    /// At a line not held, or after the budget; the number of the last line looked at.
    Gap(Option<u64>),
}

/// How a search that went to the server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// At this position of the source.
    At(u64),
    /// Nowhere in that direction.
    Nowhere,
}

/// The server's answer to a [`PageRequest`].
#[derive(Debug, Clone)]
pub struct Page {
    pub generation: u64,
    pub lines: Vec<WireLine>,
    /// Where a filtered scan goes on; `None` when it reached the end of what is stored.
    pub next: Option<u64>,
    pub stored: u64,
    pub finished: bool,
}

/// The filter as the server runs it: the viewer's smart case made explicit.
pub fn wire_filter(filter: &Filter) -> LogFilter {
    LogFilter {
        pattern: filter.pattern.explicit(),
        invert: filter.inverted,
    }
}

fn to_view(line: WireLine) -> LogLine {
    LogLine {
        number: line.n,
        stream: match line.stream {
            LogStream::Out => Stream::Stdout,
            LogStream::Err => Stream::Stderr,
            LogStream::Sys => Stream::System,
        },
        ts_ms: line.ts,
        bytes: line.text.into_bytes(),
        continued: line.continued,
    }
}

/// A remote run's log.
#[derive(Debug)]
pub struct RemoteLog {
    run_id: Id,
    /// Lines stored on the server, as far as this client knows.
    stored: u64,
    finished: bool,
    /// The window of lines held, by number.
    lines: BTreeMap<u64, LogLine>,
    filter: Option<Filter>,
    /// With a filter: the numbers of the matching lines found so far, in order.
    matches: Vec<u64>,
    /// With a filter: where the server's scan goes on (`None`: it reached the end).
    scan_next: Option<u64>,
    scan_in_flight: bool,
    generation: u64,
    /// Page starts asked for and not answered yet.
    in_flight: RefCell<BTreeSet<u64>>,
    /// Page starts the viewer needs, not asked for yet.
    wanted: RefCell<BTreeSet<u64>>,
    /// The numbers last shown, so eviction keeps what is near them.
    focus: RefCell<u64>,
    /// A search under way on the server.
    search: RefCell<Option<Search>>,
    /// How the last search on the server ended, for the screen to act on.
    found: Option<Found>,
    /// Why the last page failed, for the screen to show.
    pub error: Option<String>,
}

/// A pattern the server can run that matches every line of `level` (and some others: the
/// answer is confirmed with the viewer's own level test).
fn level_pattern(level: Level) -> &'static str {
    match level {
        Level::Error => "(?i)err|fatal|critical|panic",
        Level::Warn => "(?i)warn",
        Level::Info => "(?i)info|notice",
        Level::Debug => "(?i)debug|trace",
    }
}

fn server_pattern(query: &Query) -> String {
    match query {
        Query::Pattern(p) => p.explicit(),
        Query::Level(level) => level_pattern(*level).to_owned(),
    }
}

impl RemoteLog {
    /// The log of `run_id`, of which `stored` lines exist now.
    pub fn new(run_id: Id, stored: u64, finished: bool) -> Self {
        Self {
            run_id,
            stored,
            finished,
            lines: BTreeMap::new(),
            filter: None,
            matches: Vec::new(),
            scan_next: None,
            scan_in_flight: false,
            generation: 0,
            in_flight: RefCell::new(BTreeSet::new()),
            wanted: RefCell::new(BTreeSet::new()),
            focus: RefCell::new(stored),
            search: RefCell::new(None),
            found: None,
            error: None,
        }
    }

    /// The run this log belongs to.
    pub fn run_id(&self) -> &Id {
        &self.run_id
    }

    /// Lines stored on the server, as far as this client knows.
    pub fn stored(&self) -> u64 {
        self.stored
    }

    /// Whether a filtered scan of the stored log is still going.
    pub fn scanning(&self) -> bool {
        self.filter.is_some() && (self.scan_next.is_some() || self.scan_in_flight)
    }

    /// Lines held in memory now.
    pub fn held(&self) -> usize {
        self.lines.len()
    }

    /// The run's line count grew (its record was updated).
    pub fn set_stored(&mut self, stored: u64, finished: bool) {
        self.stored = self.stored.max(stored);
        self.finished |= finished;
    }

    /// Takes how the last search on the server ended, once.
    pub fn take_found(&mut self) -> Option<Found> {
        self.found.take()
    }

    /// The position of line `number` now (with a filter, among the matching lines).
    pub fn position_of_number(&self, number: u64) -> Option<u64> {
        match self.filter {
            Some(_) => self.matches.binary_search(&number).ok().map(|p| p as u64),
            None => (number >= 1 && number <= self.stored).then(|| number - 1),
        }
    }

    /// Takes the pages to ask the server for now.
    pub fn requests(&mut self) -> Vec<PageRequest> {
        let mut out = Vec::new();
        if let Some(search) = self.search.borrow_mut().as_mut()
            && !search.in_flight
        {
            search.in_flight = true;
            out.push(PageRequest {
                run_id: self.run_id.clone(),
                from: search.from,
                limit: 16,
                filter: Some(LogFilter {
                    pattern: server_pattern(&search.query),
                    invert: false,
                }),
                backward: search.direction == Direction::Backward,
                purpose: Purpose::Search,
                generation: self.generation,
            });
        }
        if let (Some(filter), Some(from), false) =
            (&self.filter, self.scan_next, self.scan_in_flight)
        {
            out.push(PageRequest {
                run_id: self.run_id.clone(),
                from,
                limit: PAGE,
                filter: Some(wire_filter(filter)),
                backward: false,
                purpose: Purpose::Scan,
                generation: self.generation,
            });
            self.scan_in_flight = true;
        }
        let wanted = std::mem::take(&mut *self.wanted.borrow_mut());
        for from in wanted {
            if self.in_flight.borrow_mut().insert(from) {
                out.push(PageRequest {
                    run_id: self.run_id.clone(),
                    from,
                    limit: PAGE,
                    filter: None,
                    backward: false,
                    purpose: Purpose::Lines,
                    generation: self.generation,
                });
            }
        }
        out
    }

    /// A search candidate page came back: the first line that really matches (and passes the
    /// filter) ends the search; otherwise it goes on after the last candidate.
    fn on_search(&mut self, page: &Page) {
        let Some(mut search) = self.search.borrow_mut().take() else {
            return;
        };
        let mut candidates: Vec<&WireLine> = page.lines.iter().collect();
        if search.direction == Direction::Backward {
            candidates.reverse();
        }
        for line in &candidates {
            let view = to_view((*line).clone());
            let passes = self.filter.as_ref().is_none_or(|f| f.matches(&view));
            if passes && search.query.matches(&view) {
                self.found = Some(match self.position_of_number(line.n) {
                    Some(pos) => Found::At(pos),
                    None => Found::Nowhere,
                });
                return;
            }
        }
        let last = candidates.last().map(|l| l.n);
        match (page.next, last) {
            (Some(next), _) => {
                search.from = next;
                search.in_flight = false;
                *self.search.borrow_mut() = Some(search);
            }
            (None, _) => self.found = Some(Found::Nowhere),
        }
    }

    /// Takes the server's answer to a page request.
    pub fn on_page(&mut self, request: &PageRequest, page: Result<Page, String>) {
        if request.purpose == Purpose::Lines {
            self.in_flight.borrow_mut().remove(&request.from);
        }
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                match request.purpose {
                    Purpose::Scan => {
                        self.scan_in_flight = false;
                        self.scan_next = None;
                    }
                    Purpose::Search => {
                        self.search.borrow_mut().take();
                        self.found = Some(Found::Nowhere);
                    }
                    Purpose::Lines => {}
                }
                self.error = Some(e);
                return;
            }
        };
        self.set_stored(page.stored, page.finished);
        if page.generation != self.generation {
            return;
        }
        if request.purpose == Purpose::Search {
            self.on_search(&page);
            return;
        }
        if request.purpose == Purpose::Scan {
            self.scan_in_flight = false;
            self.scan_next = page.next;
            for line in &page.lines {
                if self.matches.last().is_none_or(|last| *last < line.n) {
                    self.matches.push(line.n);
                }
            }
        }
        for line in page.lines {
            self.lines.insert(line.n, to_view(line));
        }
        self.evict();
    }

    /// Takes live lines of the run's subscription, in order.
    pub fn on_live(&mut self, lines: Vec<WireLine>) {
        for line in lines {
            self.stored = self.stored.max(line.n);
            let line = to_view(line);
            // A filtered scan still under way will find this line when it gets there.
            if let (Some(filter), None, false) = (&self.filter, self.scan_next, self.scan_in_flight)
                && filter.matches(&line)
                && self.matches.last().is_none_or(|last| *last < line.number)
            {
                self.matches.push(line.number);
            }
            self.lines.insert(line.number, line);
        }
        self.evict();
    }

    /// The subscription ended: the run finished and every line was sent.
    pub fn on_end(&mut self, lines: u64) {
        self.stored = self.stored.max(lines);
        self.finished = true;
    }

    /// Whether the run has finished (its log will not grow).
    pub fn finished(&self) -> bool {
        self.finished
    }

    fn evict(&mut self) {
        let focus = *self.focus.borrow();
        while self.lines.len() > CACHE_LINES {
            let first = self.lines.keys().next().copied();
            let last = self.lines.keys().next_back().copied();
            let (Some(first), Some(last)) = (first, last) else {
                break;
            };
            // Drop from the end farther from what is shown.
            let victim = if focus.abs_diff(first) > focus.abs_diff(last) {
                first
            } else {
                last
            };
            self.lines.remove(&victim);
        }
    }

    /// The position of held line `number` in the source now (with a filter, only if it is
    /// one of the matching lines found so far).
    fn position_held(&self, number: u64) -> Option<u64> {
        match self.filter {
            Some(_) => self.matches.binary_search(&number).ok().map(|p| p as u64),
            None => number.checked_sub(1),
        }
    }

    /// Walks the lines held from position `from` in `direction` (not including it), as far as
    /// they reach without a gap and for at most `budget` lines.
    fn find_held(&self, from: u64, direction: Direction, query: &Query, budget: u64) -> Walk {
        let len = self.len();
        let mut pos = from;
        let mut last_number = None;
        for _ in 0..budget {
            let next = match direction {
                Direction::Forward => pos.checked_add(1).filter(|p| *p < len),
                Direction::Backward => pos.min(len).checked_sub(1),
            };
            let number = next.and_then(|next| match self.filter {
                Some(_) => self.matches.get(next as usize).copied(),
                None => Some(next + 1),
            });
            let (Some(next), Some(number)) = (next, number) else {
                return Walk::Edge;
            };
            let Some(line) = self.lines.get(&number) else {
                break;
            };
            if query.matches(line) {
                return Walk::Found(next);
            }
            last_number = Some(number);
            pos = next;
        }
        Walk::Gap(last_number)
    }

    /// Counts the matches of `query` among the held lines around position `at`, looking at
    /// `budget` of them at most: see [`LineSource::count_near`].
    fn count_held<'l>(&'l self, query: &Query, at: u64, budget: u64) -> MatchCount {
        // The held lines around the one at `at`: up to half the budget before it, the rest after.
        let center = match self.filter {
            Some(_) => self
                .matches
                .get(at as usize)
                .or(self.matches.last())
                .copied()
                .unwrap_or(1),
            None => at.saturating_add(1),
        };
        let in_source = |(number, line): (&u64, &'l LogLine)| {
            self.position_held(*number).map(|pos| (pos, line))
        };
        let before: Vec<(u64, &LogLine)> = self
            .lines
            .range(..center)
            .rev()
            .filter_map(in_source)
            .take(usize::try_from(budget / 2).unwrap_or(usize::MAX))
            .collect();
        let rest = budget.saturating_sub(before.len() as u64);
        let after = self
            .lines
            .range(center..)
            .filter_map(in_source)
            .take(usize::try_from(rest).unwrap_or(usize::MAX));
        let mut count = MatchCount::default();
        let mut looked = 0u64;
        for (pos, line) in before.into_iter().chain(after) {
            looked += 1;
            if query.matches(line) {
                count.total += 1;
                if pos < at {
                    count.before += 1;
                }
            }
        }
        // Every position of the source held and looked at (and, with a filter, its scan done).
        count.whole = looked == self.len() && !self.scanning();
        count
    }

    /// Notes that lines `numbers` are needed: the pages holding the missing ones are asked for.
    fn want(&self, numbers: impl Iterator<Item = u64>) {
        let page = u64::from(PAGE);
        let in_flight = self.in_flight.borrow();
        let mut wanted = self.wanted.borrow_mut();
        for n in numbers {
            if !self.lines.contains_key(&n) {
                let start = (n - 1) / page * page + 1;
                if !in_flight.contains(&start) {
                    wanted.insert(start);
                }
            }
        }
    }
}

impl LineSource for RemoteLog {
    fn len(&self) -> u64 {
        match self.filter {
            Some(_) => self.matches.len() as u64,
            None => self.stored,
        }
    }

    fn fetch(&self, range: Range<u64>) -> Vec<LogLine> {
        let len = self.len();
        let (start, end) = (range.start.min(len), range.end.min(len));
        if start >= end {
            return Vec::new();
        }
        let numbers: Vec<u64> = match self.filter {
            Some(_) => self.matches[start as usize..end as usize].to_vec(),
            None => (start + 1..=end).collect(),
        };
        if let Some(first) = numbers.first() {
            *self.focus.borrow_mut() = *first;
        }
        self.want(numbers.iter().copied());
        // The lines held, up to the first missing one: the viewer draws what it gets.
        numbers
            .iter()
            .map_while(|n| self.lines.get(n).cloned())
            .collect()
    }

    fn find(&self, from: u64, direction: Direction, query: &Query) -> Option<u64> {
        // Through the lines held first, as far as they reach without a gap.
        let last_number = match self.find_held(from, direction, query, u64::MAX) {
            Walk::Found(pos) => return Some(pos),
            Walk::Edge => return None,
            Walk::Gap(last) => last,
        };
        // A gap: the server searches the rest, from just past the last line looked at.
        let start = match (direction, last_number) {
            (Direction::Forward, Some(n)) => n + 1,
            (Direction::Backward, Some(n)) => n.saturating_sub(1),
            (Direction::Forward, None) => match self.filter {
                Some(_) => self.matches.get(from as usize).map_or(1, |n| n + 1),
                None => from + 2,
            },
            (Direction::Backward, None) => match self.filter {
                Some(_) => self.matches.get(from as usize).map_or(0, |n| n.saturating_sub(1)),
                None => from,
            },
        };
        if start == 0 {
            return None;
        }
        *self.search.borrow_mut() = Some(Search {
            query: query.clone(),
            direction,
            from: start,
            in_flight: false,
        });
        None
    }

    fn find_near(&self, from: u64, direction: Direction, query: &Query, budget: u64) -> Option<u64> {
        match self.find_held(from, direction, query, budget) {
            Walk::Found(pos) => Some(pos),
            Walk::Edge | Walk::Gap(_) => None,
        }
    }

    fn count_near(&self, query: &Query, at: u64, budget: u64) -> MatchCount {
        self.count_held(query, at, budget)
    }

    fn searching(&self) -> bool {
        self.search.borrow().is_some()
    }

    fn progress(&self) -> Option<String> {
        if self.search.borrow().is_some() {
            return Some("searching the whole log…".to_owned());
        }
        let next = self.scan_next?;
        self.filter.as_ref()?;
        Some(format!(
            "filtering on the server: line {} of {}",
            next.saturating_sub(1),
            self.stored
        ))
    }

    fn set_filter(&mut self, filter: Option<Filter>) {
        self.generation += 1;
        self.search.borrow_mut().take();
        self.matches.clear();
        self.scan_in_flight = false;
        self.scan_next = filter.as_ref().map(|_| 1);
        self.filter = filter;
        self.error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Id {
        Id::from_random("run", [7; 10])
    }

    fn wire(n: u64, text: &str) -> WireLine {
        WireLine {
            n,
            ts: 0,
            stream: LogStream::Out,
            text: text.into(),
            continued: false,
        }
    }

    fn page(generation: u64, lines: Vec<WireLine>, next: Option<u64>, stored: u64) -> Page {
        Page {
            generation,
            lines,
            next,
            stored,
            finished: false,
        }
    }

    #[test]
    fn missing_lines_are_asked_for_by_page_and_drawn_once_they_arrive() {
        let mut log = RemoteLog::new(run(), 1_000_000, true);
        assert_eq!(log.len(), 1_000_000);
        assert!(log.fetch(999_990..1_000_000).is_empty());
        let asked = log.requests();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].from, 999_501);
        assert!(log.requests().is_empty(), "asked once while in flight");
        let lines = (999_501..=1_000_000).map(|n| wire(n, "x")).collect();
        log.on_page(&asked[0], Ok(page(0, lines, None, 1_000_000)));
        let shown = log.fetch(999_990..1_000_000);
        assert_eq!(shown.len(), 10);
        assert_eq!(shown[0].number, 999_991);
        assert!(log.held() <= CACHE_LINES);
    }

    #[test]
    fn the_window_stays_bounded_however_far_one_scrolls() {
        let mut log = RemoteLog::new(run(), 1_000_000, true);
        for start in (0..200_000u64).step_by(500) {
            log.fetch(start..start + 50);
            for request in log.requests() {
                let lines = (request.from..request.from + u64::from(PAGE))
                    .map(|n| wire(n, "x"))
                    .collect();
                log.on_page(&request, Ok(page(0, lines, None, 1_000_000)));
            }
        }
        assert!(log.held() <= CACHE_LINES, "{} held", log.held());
    }

    #[test]
    fn a_filter_scans_the_whole_stored_log_on_the_server_then_takes_the_live_tail()
    -> Result<(), crate::logview::PatternError> {
        let mut log = RemoteLog::new(run(), 3_000, false);
        log.set_filter(Some(Filter::parse("error")?));
        let asked = log.requests();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].from, 1);
        assert_eq!(
            asked[0].filter.as_ref().map(|f| f.pattern.as_str()),
            Some("(?i)error")
        );
        log.on_page(
            &asked[0],
            Ok(page(1, vec![wire(10, "error a"), wire(900, "error b")], Some(1_500), 3_000)),
        );
        assert_eq!(log.len(), 2);
        // A live line while the scan is not done is left to the scan.
        log.on_live(vec![wire(3_001, "error live early")]);
        assert_eq!(log.len(), 2);
        let asked = log.requests();
        assert_eq!(asked[0].from, 1_500);
        log.on_page(
            &asked[0],
            Ok(page(1, vec![wire(2_000, "error c"), wire(3_001, "error live early")], None, 3_001)),
        );
        assert_eq!(log.len(), 4);
        log.on_live(vec![wire(3_002, "fine"), wire(3_003, "ERROR late")]);
        let numbers: Vec<u64> = log.fetch(0..10).iter().map(|l| l.number).collect();
        assert_eq!(numbers, vec![10, 900, 2_000, 3_001, 3_003]);
        Ok(())
    }

    #[test]
    fn answers_for_an_older_filter_are_dropped() -> Result<(), crate::logview::PatternError> {
        let mut log = RemoteLog::new(run(), 100, true);
        log.set_filter(Some(Filter::parse("a")?));
        let old = log.requests();
        log.set_filter(Some(Filter::parse("b")?));
        log.on_page(&old[0], Ok(page(1, vec![wire(5, "a")], None, 100)));
        assert_eq!(log.len(), 0);
        assert!(log.scanning());
        Ok(())
    }

    fn feed(log: &mut RemoteLog, numbers: std::ops::RangeInclusive<u64>, text: impl Fn(u64) -> String) {
        let lines: Vec<WireLine> = numbers.map(|n| wire(n, &text(n))).collect();
        log.on_live(lines);
    }

    #[test]
    fn a_search_through_the_lines_held_answers_at_once() -> Result<(), crate::logview::PatternError> {
        let mut log = RemoteLog::new(run(), 0, false);
        feed(&mut log, 1..=100, |n| if n == 70 { "boom".into() } else { format!("line {n}") });
        let query = Query::Pattern(crate::logview::Pattern::new("boom")?);
        assert_eq!(log.find(10, Direction::Forward, &query), Some(69));
        assert_eq!(log.find(90, Direction::Backward, &query), Some(69));
        assert_eq!(log.find(80, Direction::Forward, &query), None);
        assert!(!log.searching(), "the whole log is held: nothing to ask");
        Ok(())
    }

    #[test]
    fn a_search_past_the_lines_held_goes_to_the_server_and_confirms_the_answer() {
        // A million-line log of which only the last lines are held.
        let mut log = RemoteLog::new(run(), 1_000_000, true);
        feed(&mut log, 999_900..=1_000_000, |n| format!("fine {n}"));
        let query = Query::Level(Level::Error);
        assert_eq!(log.find(999_950, Direction::Backward, &query), None);
        assert!(log.searching());
        let asked: Vec<PageRequest> = log
            .requests()
            .into_iter()
            .filter(|r| r.purpose == Purpose::Search)
            .collect();
        assert_eq!(asked.len(), 1);
        assert!(asked[0].backward);
        assert_eq!(asked[0].from, 999_899);
        // The server's wider pattern returns "terror" (no error level) and then a real error.
        log.on_page(
            &asked[0],
            Ok(page(0, vec![wire(500_000, "terror movie"), wire(600_000, "terror 2")], Some(499_999), 1_000_000)),
        );
        assert_eq!(log.take_found(), None, "not a real error: the search goes on");
        let again = log.requests();
        let search = again.iter().find(|r| r.purpose == Purpose::Search);
        assert_eq!(search.map(|r| r.from), Some(499_999));
        if let Some(search) = search {
            log.on_page(
                search,
                Ok(page(0, vec![wire(123, "ERROR disk full")], Some(122), 1_000_000)),
            );
        }
        assert_eq!(log.take_found(), Some(Found::At(122)));
        assert!(!log.searching());
    }

    #[test]
    fn an_incremental_search_looks_only_through_the_lines_held_and_asks_nothing()
    -> Result<(), crate::logview::PatternError> {
        // A million-line log of which lines 999,001..=1,000,000 are held.
        let mut log = RemoteLog::new(run(), 1_000_000, false);
        feed(&mut log, 999_001..=1_000_000, |n| {
            if n % 100 == 0 { format!("boom {n}") } else { format!("fine {n}") }
        });
        let query = Query::Pattern(crate::logview::Pattern::new("boom")?);
        assert_eq!(
            log.find_near(999_000, Direction::Forward, &query, 100_000),
            Some(999_099)
        );
        let count = log.count_near(&query, 999_099, 20_000);
        assert_eq!(
            count,
            MatchCount {
                before: 0,
                total: 10,
                whole: false
            },
            "ten held, and more of the log is not"
        );
        // A smaller budget looks at the lines around the view: 999,451..=999,550.
        let count = log.count_near(&query, 999_500, 100);
        assert_eq!((count.before, count.total), (1, 1));
        // Nothing held before line 999,001: an incremental search does not go to the server.
        let early = Query::Pattern(crate::logview::Pattern::new("fine 5$")?);
        assert_eq!(log.find_near(10, Direction::Forward, &early, 100_000), None);
        assert!(!log.searching());
        assert!(log.requests().iter().all(|r| r.purpose != Purpose::Search));
        // The full search (enter) does.
        assert_eq!(log.find(10, Direction::Forward, &early), None);
        assert!(log.searching());
        Ok(())
    }

    #[test]
    fn a_log_held_whole_is_counted_whole() -> Result<(), crate::logview::PatternError> {
        let mut log = RemoteLog::new(run(), 0, false);
        feed(&mut log, 1..=50, |n| format!("line {n}"));
        let query = Query::Pattern(crate::logview::Pattern::new("line 1")?);
        let count = log.count_near(&query, 20, 20_000);
        assert_eq!((count.before, count.total, count.whole), (11, 11, true));
        // With a filter, the lines it hides are not counted.
        log.set_filter(Some(Filter::parse("line [12]")?));
        assert!(!log.count_near(&query, 0, 20_000).whole, "the scan has not run");
        let asked = log.requests();
        let lines = (1..=50)
            .filter(|n| n.to_string().starts_with(['1', '2']))
            .map(|n| wire(n, &format!("line {n}")))
            .collect();
        log.on_page(&asked[0], Ok(page(1, lines, None, 50)));
        let count = log.count_near(&query, 0, 20_000);
        assert_eq!((count.total, count.whole), (11, true));
        Ok(())
    }

    #[test]
    fn a_backward_search_asks_the_server_to_read_backward() {
        let mut log = RemoteLog::new(run(), 1_000, true);
        feed(&mut log, 900..=1_000, |n| format!("fine {n}"));
        let query = Query::Level(Level::Warn);
        assert_eq!(log.find(950, Direction::Backward, &query), None);
        let asked = log.requests();
        let search = asked.iter().find(|r| r.purpose == Purpose::Search);
        let Some(search) = search else {
            panic!("no search request in {asked:?}");
        };
        assert!(search.backward);
        assert!(matches!(
            crate::tui::net::log_query_for_tests(search),
            warren_protocol::Query::Log { backward: true, from: 899, .. }
        ));
    }
}
