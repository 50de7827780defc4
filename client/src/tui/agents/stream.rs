//! Streamed text of model calls in progress: the partial text per (run, step) from
//! `run_watching` and `agent_delta` frames, and what of it is committed to the screen.
//!
//! Text is kept as it came (so `offset`, a byte count, can be checked) and sanitised when shown.
//! A delta that repeats text already held is ignored; one that starts past the end (a gap: this
//! client fell behind and the server dropped pieces) drops the partial, and the step waits for
//! its finished `run_step` event, which carries the whole text. Text is committed on each newline
//! or once a row of the screen's width is full (display width: a wide character takes two
//! columns), so a stream without newlines never looks hung.

use std::collections::{HashMap, HashSet};

use warren_protocol::step::StreamPartial;
use warren_protocol::{Id, RequestId};

use crate::tui::view::text::{cut_rows, width as text_width};

/// The streams this client holds, and what it watches.
#[derive(Debug, Default)]
pub struct Streams {
    partials: HashMap<(Id, u32), String>,
    /// Steps whose stream had a gap: no more deltas are taken for them.
    gapped: HashSet<(Id, u32)>,
    /// The room whose agent runs are watched (`run_watch {room_id}`), as sent.
    pub watched_room: Option<Id>,
    /// The agent run watched because it is open (`run_watch {run_id}`), as sent.
    pub watched_run: Option<Id>,
    /// Request ids of `run_watch` frames sent: a refusal of one (a server without agents) is not
    /// an error the user must read.
    pub watch_requests: HashSet<RequestId>,
    /// Runs (by number) whose steps were asked for on this connection.
    pub steps_asked: HashSet<u64>,
}

/// What a delta did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// New text was added.
    Grew,
    /// Text already held (a repeat): nothing changed.
    Duplicate,
    /// A gap: the partial was dropped until the finished step comes.
    Gap,
}

impl Streams {
    /// The text so far of every model call in progress (`run_watching`): each replaces what is
    /// held unless what is held is longer (deltas that overtook the answer).
    pub fn on_watching(&mut self, partials: Vec<StreamPartial>) {
        for p in partials {
            let key = (p.run_id, p.step);
            self.gapped.remove(&key);
            let held = self.partials.entry(key).or_default();
            if p.text.len() >= held.len() {
                *held = p.text;
            }
        }
    }

    /// One `agent_delta`.
    pub fn on_delta(&mut self, run_id: &Id, step: u32, offset: u64, text: &str) -> Applied {
        let key = (run_id.clone(), step);
        if self.gapped.contains(&key) {
            return Applied::Gap;
        }
        let held_len = self.partials.get(&key).map_or(0, String::len) as u64;
        let end = offset.saturating_add(text.len() as u64);
        if offset > held_len {
            self.partials.remove(&key);
            self.gapped.insert(key);
            return Applied::Gap;
        }
        if end <= held_len {
            return Applied::Duplicate;
        }
        // Overlaps the end: take only what is new (cut on a character boundary, else drop it).
        let skip = usize::try_from(held_len - offset).unwrap_or(usize::MAX);
        let Some(new) = text.get(skip..) else {
            self.partials.remove(&key);
            self.gapped.insert(key);
            return Applied::Gap;
        };
        self.partials.entry(key).or_default().push_str(new);
        Applied::Grew
    }

    /// The step finished (its `run_step` event carries the whole text): its stream is over.
    pub fn finish(&mut self, run_id: &Id, step: u32) {
        let key = (run_id.clone(), step);
        self.partials.remove(&key);
        self.gapped.remove(&key);
    }

    /// The run ended: every stream of it is over.
    pub fn finish_run(&mut self, run_id: &Id) {
        self.partials.retain(|(r, _), _| r != run_id);
        self.gapped.retain(|(r, _)| r != run_id);
    }

    /// The raw text so far of a step, if it streams.
    pub fn partial(&self, run_id: &Id, step: u32) -> Option<&str> {
        self.partials
            .get(&(run_id.clone(), step))
            .map(String::as_str)
    }

    /// The newest streaming step of a run and its raw text.
    pub fn latest(&self, run_id: &Id) -> Option<(u32, &str)> {
        self.partials
            .iter()
            .filter(|((r, _), _)| r == run_id)
            .max_by_key(|((_, n), _)| *n)
            .map(|((_, n), text)| (*n, text.as_str()))
    }

    /// Forgets every stream (a new connection: `run_watching` brings them again).
    pub fn reset(&mut self) {
        self.partials.clear();
        self.gapped.clear();
        self.watched_room = None;
        self.watched_run = None;
        self.watch_requests.clear();
        self.steps_asked.clear();
    }
}

/// Most bytes of a stream's end that are looked at to draw it: a long reply costs the rows it
/// shows, not its whole length.
pub const TAIL_BYTES: usize = 64 * 1024;

/// The rows a stream shows at `width` columns, at most the last `max_rows`: the committed text
/// (see [`committed`]) of the raw `text`, sanitised, cut into rows of at most `width` columns
/// line by line. Only the end that can fill them is read (four bytes a character, at most
/// [`TAIL_BYTES`]), from a line start where there is one; in a line longer than that, rows are
/// counted from where the reading starts.
pub fn visible(text: &str, width: usize, max_rows: usize) -> Vec<String> {
    let width = width.max(1);
    let max_rows = max_rows.max(1);
    let budget = (max_rows + 1)
        .saturating_mul(width)
        .saturating_mul(4)
        .min(TAIL_BYTES);
    let mut start = text.len().saturating_sub(budget);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    if start > 0
        && let Some(nl) = text[start..].find('\n')
    {
        start += nl + 1;
    }
    let clean = crate::sanitize::block(&text[start..]);
    let shown = committed(&clean, width);
    let shown = shown.strip_suffix('\n').unwrap_or(shown);
    if shown.is_empty() {
        return Vec::new();
    }
    let mut rows: Vec<String> = Vec::new();
    for line in shown.rsplit('\n') {
        for piece in cut_rows(line, width).into_iter().rev() {
            rows.push(piece.to_owned());
            if rows.len() == max_rows {
                rows.reverse();
                return rows;
            }
        }
    }
    rows.reverse();
    rows
}

/// What of streamed `text` (already sanitised) is shown at `width` columns: every finished line,
/// and of the line still being written, as many whole rows of `width` columns as it fills (a row
/// is whole when it is full or the next character does not fit in it). The rest waits for the
/// next newline or the next full row.
pub fn committed(text: &str, width: usize) -> &str {
    let width = width.max(1);
    let (done, open) = match text.rfind('\n') {
        Some(i) => (i + 1, &text[i + 1..]),
        None => (0, text),
    };
    let pieces = cut_rows(open, width);
    // Every row but the last is whole (the next character did not fit); the last is whole when
    // it fills the width.
    let mut bytes: usize = pieces.iter().map(|p| p.len()).sum();
    if let Some(last) = pieces.last()
        && text_width(last) < width
    {
        bytes -= last.len();
    }
    &text[..done + bytes]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Id {
        Id::from_random("run", [1; 10])
    }

    #[test]
    fn deltas_append_and_repeats_are_ignored() {
        let mut s = Streams::default();
        assert_eq!(s.on_delta(&run(), 1, 0, "The release"), Applied::Grew);
        assert_eq!(s.on_delta(&run(), 1, 11, " waits"), Applied::Grew);
        // The same frame twice (a relay re-send), and an older one.
        assert_eq!(s.on_delta(&run(), 1, 11, " waits"), Applied::Duplicate);
        assert_eq!(s.on_delta(&run(), 1, 0, "The"), Applied::Duplicate);
        // Overlapping the end: only the new part is taken.
        assert_eq!(s.on_delta(&run(), 1, 14, "its on"), Applied::Grew);
        assert_eq!(s.partial(&run(), 1), Some("The release waits on"));
    }

    #[test]
    fn a_gap_drops_the_partial_until_the_step_finishes() {
        let mut s = Streams::default();
        s.on_delta(&run(), 3, 0, "abc");
        assert_eq!(s.on_delta(&run(), 3, 10, "xyz"), Applied::Gap);
        assert_eq!(s.partial(&run(), 3), None);
        // Later deltas of that step are not taken either: their text would have a hole.
        assert_eq!(s.on_delta(&run(), 3, 13, "more"), Applied::Gap);
        assert_eq!(s.partial(&run(), 3), None);
        s.finish(&run(), 3);
        // A delta of a step that starts mid-way (attached late, no run_watching yet) is a gap.
        assert_eq!(s.on_delta(&run(), 4, 5, "late"), Applied::Gap);
        assert_eq!(s.on_delta(&run(), 5, 0, "fresh"), Applied::Grew);
        assert_eq!(s.latest(&run()), Some((5, "fresh")));
    }

    #[test]
    fn watching_gives_the_text_so_far_then_deltas_continue_it() {
        let mut s = Streams::default();
        s.on_watching(vec![StreamPartial {
            run_id: run(),
            step: 3,
            text: "The release waits on card #12, which".into(),
        }]);
        assert_eq!(s.on_delta(&run(), 3, 36, " is not done"), Applied::Grew);
        assert_eq!(
            s.partial(&run(), 3),
            Some("The release waits on card #12, which is not done")
        );
    }

    #[test]
    fn a_split_multibyte_character_is_a_gap_not_a_panic() {
        let mut s = Streams::default();
        s.on_delta(&run(), 1, 0, "é"); // 2 bytes
        // Claims to start inside the é.
        assert_eq!(s.on_delta(&run(), 1, 1, "éx"), Applied::Gap);
    }

    #[test]
    fn visible_rows_are_the_committed_tail() {
        assert_eq!(visible("one\ntwo\nthr", 10, 5), ["one", "two"]);
        assert_eq!(visible("one\ntwo\nthr", 10, 1), ["two"]);
        assert_eq!(visible("abcdefgh", 3, 5), ["abc", "def"]);
        assert_eq!(visible("x\u{1b}[31my\n", 5, 5), ["xy"]);
        assert!(visible("", 5, 5).is_empty());
        assert_eq!(visible("漢字漢字漢字\n", 5, 5), ["漢字", "漢字", "漢字"]);
        assert_eq!(visible("ab漢字漢字漢字\n", 5, 2), ["字漢", "字"]);
        // A long stream: only its end is read, and the rows shown are its last ones.
        let long = format!("{}end of it\n", "line\n".repeat(100_000));
        assert_eq!(visible(&long, 20, 2), ["line", "end of it"]);
    }

    #[test]
    fn text_is_committed_per_line_or_per_full_row() {
        assert_eq!(committed("hello wor", 10), "");
        assert_eq!(committed("hello world, this", 10), "hello worl");
        assert_eq!(committed("line one\nline t", 10), "line one\n");
        assert_eq!(
            committed("line one\n0123456789abc", 10),
            "line one\n0123456789"
        );
        assert_eq!(committed("ééééé", 2), "éééé");
        // By display width: a wide character takes two columns and is never split.
        assert_eq!(committed("漢字漢", 4), "漢字");
        assert_eq!(
            committed("漢字漢", 5),
            "漢字",
            "the third did not fit: the row is whole"
        );
        assert_eq!(committed("漢字", 5), "");
        assert_eq!(committed("", 5), "");
    }
}
