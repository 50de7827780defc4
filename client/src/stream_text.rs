//! The text of an agent run's model calls as it streams to the CLI (`agent ask --follow`):
//! `agent_delta` pieces placed by their byte `offset` (a piece seen before is skipped; a gap stops
//! taking pieces for that step, whose whole text then comes with its finished `run_step`), and
//! everything printed through [`crate::sanitize::block`], so model output never reaches the
//! terminal as escape sequences — even one split across two pieces.

use std::collections::BTreeMap;

use crate::sanitize;

/// One model call's text.
#[derive(Debug, Default)]
struct StepText {
    /// The raw text received so far, in order, without gaps.
    raw: String,
    /// The sanitised text already handed out for printing.
    printed: String,
    /// A piece was missing: wait for the finished step.
    gap: bool,
    /// The finished step arrived: nothing more is taken.
    done: bool,
}

impl StepText {
    /// What to print now: the sanitised text beyond what was printed before. Sanitising a
    /// longer raw text only ever extends the sanitised text of a shorter one (an escape
    /// sequence cut off at the end is dropped either way), so this is exactly the new part.
    fn emit(&mut self) -> String {
        let clean = sanitize::block(&self.raw);
        let new = match clean.strip_prefix(self.printed.as_str()) {
            Some(rest) => rest.to_owned(),
            // Not an extension (a finished text that differs from the streamed one): print
            // what differs from the common start on.
            None => {
                let common = common_prefix(&clean, &self.printed);
                clean[common..].to_owned()
            }
        };
        self.printed = clean;
        new
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i)
}

/// Where a piece went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// New text to print (maybe empty: an escape sequence still arriving).
    Text(String),
    /// Already had it (a repeat).
    Duplicate,
    /// Text before it is missing; this step's text now waits for the finished step.
    Gap,
    /// The step has finished already.
    Late,
}

/// The streamed text of one run's model calls, by step number.
#[derive(Debug, Default)]
pub struct StreamText {
    steps: BTreeMap<u32, StepText>,
}

impl StreamText {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Places a piece of step `step`'s text that starts `offset` bytes into it.
    pub fn delta(&mut self, step: u32, offset: u64, text: &str) -> Placed {
        let s = self.steps.entry(step).or_default();
        if s.done {
            return Placed::Late;
        }
        if s.gap {
            return Placed::Gap;
        }
        let have = s.raw.len() as u64;
        let end = offset.saturating_add(text.len() as u64);
        if end <= have {
            return Placed::Duplicate;
        }
        if offset > have {
            s.gap = true;
            return Placed::Gap;
        }
        let skip = usize::try_from(have - offset).unwrap_or(usize::MAX);
        match text.get(skip..) {
            Some(rest) => {
                s.raw.push_str(rest);
                Placed::Text(s.emit())
            }
            // An overlap that ends inside a character: the pieces disagree; wait for the step.
            None => {
                s.gap = true;
                Placed::Gap
            }
        }
    }

    /// The text so far of a step in progress (`run_watching`), as a piece at offset 0.
    pub fn partial(&mut self, step: u32, text: &str) -> Placed {
        self.delta(step, 0, text)
    }

    /// The finished step's whole text: prints whatever was not printed yet (all of it after a
    /// gap, nothing when every piece arrived). Returns the text to print.
    pub fn finish(&mut self, step: u32, text: &str) -> String {
        let s = self.steps.entry(step).or_default();
        if s.done {
            return String::new();
        }
        s.done = true;
        s.gap = false;
        s.raw = text.to_owned();
        s.emit()
    }

    /// True when anything of step `step` has been printed.
    pub fn printed_any(&self, step: u32) -> bool {
        self.steps.get(&step).is_some_and(|s| !s.printed.is_empty())
    }

    /// True when what was printed of step `step` ends with a newline (or nothing was printed).
    pub fn ends_with_newline(&self, step: u32) -> bool {
        self.steps
            .get(&step)
            .is_none_or(|s| s.printed.is_empty() || s.printed.ends_with('\n'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: Placed) -> String {
        match p {
            Placed::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn pieces_in_order_print_as_they_come() {
        let mut s = StreamText::new();
        assert_eq!(text(s.delta(1, 0, "The release ")), "The release ");
        assert_eq!(text(s.delta(1, 12, "waits")), "waits");
        assert_eq!(s.finish(1, "The release waits"), "");
        assert_eq!(s.delta(1, 17, " more"), Placed::Late);
    }

    #[test]
    fn repeats_are_skipped_and_overlaps_print_only_the_new_part() {
        let mut s = StreamText::new();
        assert_eq!(
            text(s.partial(3, "The release waits on card #12, which")),
            "The release waits on card #12, which"
        );
        // The same piece twice (the relay may send one that `run_watching` already covered).
        assert_eq!(s.delta(3, 0, "The release"), Placed::Duplicate);
        assert_eq!(text(s.delta(3, 36, " is not done")), " is not done");
        assert_eq!(s.delta(3, 36, " is not done"), Placed::Duplicate);
        // A piece that overlaps what is there adds only its tail.
        assert_eq!(text(s.delta(3, 44, "done yet.")), " yet.");
        assert_eq!(
            s.finish(3, "The release waits on card #12, which is not done yet."),
            ""
        );
    }

    #[test]
    fn a_gap_waits_for_the_finished_step_and_prints_the_rest_once() {
        let mut s = StreamText::new();
        assert_eq!(text(s.delta(1, 0, "Hello ")), "Hello ");
        assert_eq!(s.delta(1, 20, "lost piece"), Placed::Gap);
        // Later pieces, even ones that would fit, are not taken: the step is incomplete.
        assert_eq!(s.delta(1, 6, "there"), Placed::Gap);
        assert_eq!(s.finish(1, "Hello there, general"), "there, general");
        assert_eq!(s.finish(1, "Hello there, general"), "");
    }

    #[test]
    fn a_step_seen_only_when_finished_prints_whole() {
        let mut s = StreamText::new();
        assert!(!s.printed_any(2));
        assert_eq!(
            s.finish(2, "Card #12 is not done yet."),
            "Card #12 is not done yet."
        );
        assert!(s.printed_any(2));
        assert!(!s.ends_with_newline(2));
    }

    #[test]
    fn escape_sequences_never_print_even_when_split_across_pieces() {
        let mut s = StreamText::new();
        let mut out = text(s.delta(1, 0, "red\u{1b}"));
        out += &text(s.delta(1, 4, "[31mALERT\u{1b}]0;pwn"));
        out += &text(s.delta(1, 20, "ed\u{7}!\r\n"));
        out += &s.finish(1, "red\u{1b}[31mALERT\u{1b}]0;pwned\u{7}!\r\n");
        assert_eq!(out, "redALERT!\n");
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn every_split_of_a_hostile_text_prints_the_same_clean_text() {
        let raw = "a\u{1b}[2Jb\u{9b}31mc\u{1b}]8;;x\u{1b}\\d\re\r\nf\u{1b}cg";
        let whole = sanitize::block(raw);
        for cut in (1..=raw.len()).filter(|i| raw.is_char_boundary(*i)) {
            let mut s = StreamText::new();
            let mut out = text(s.delta(1, 0, &raw[..cut]));
            if cut < raw.len() {
                out += &text(s.delta(1, cut as u64, &raw[cut..]));
            }
            out += &s.finish(1, raw);
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_piece_cut_inside_a_character_is_a_gap_not_a_panic() {
        let mut s = StreamText::new();
        assert_eq!(text(s.delta(1, 0, "é")), "é");
        // Offset 1 is inside "é" (two bytes): the overlap would split it.
        assert_eq!(s.delta(1, 1, "éx"), Placed::Gap);
        assert_eq!(s.finish(1, "éx"), "x");
    }
}
