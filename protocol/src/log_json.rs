//! Log lines written as JSON by hand, for the two frames that carry a whole log: a worker's
//! `log_chunk` and the server's `log_lines`. A million-line log is mostly text to escape, and
//! `serde_json`'s generic serializer escapes it a byte at a time; here clean runs are skipped
//! eight bytes at a time and copied whole, into one presized `String`. The bytes are exactly what
//! `serde_json` writes for the same message (tests compare them), or the compact form of each
//! line, `[n,ts,"out","text"]`, which [`LogLine`] reads as well.

use serde::Serialize;

use crate::Id;
use crate::run::{LogLine, LogStream};

/// One line borrowing its text (from stored bytes, a buffer of many lines or a [`LogLine`]); it
/// serialises exactly as a `LogLine` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineRef<'a> {
    pub n: u64,
    pub ts: i64,
    pub stream: LogStream,
    pub text: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub continued: bool,
}

impl<'a> LineRef<'a> {
    /// Borrows an owned line.
    pub fn of(line: &'a LogLine) -> LineRef<'a> {
        LineRef {
            n: line.n,
            ts: line.ts,
            stream: line.stream,
            text: &line.text,
            continued: line.continued,
        }
    }
}

impl<'a> From<&'a LogLine> for LineRef<'a> {
    fn from(line: &'a LogLine) -> LineRef<'a> {
        LineRef::of(line)
    }
}

impl LineRef<'_> {
    /// The owned wire line.
    pub fn to_line(self) -> LogLine {
        LogLine {
            n: self.n,
            ts: self.ts,
            stream: self.stream,
            text: self.text.to_owned(),
            continued: self.continued,
        }
    }
}

/// The fixed pieces around a line's fields, in one of the two forms.
struct Form {
    /// Before `n`.
    open: &'static str,
    /// Between `n` and `ts`.
    ts: &'static str,
    /// Between `ts` and the text, by stream (`out`, `err`, `sys`).
    stream: [&'static str; 3],
    /// After the text of a continued line.
    continued: &'static str,
    close: char,
}

/// `{"n":41,"ts":…,"stream":"out","text":"…"}`, as `serde_json` writes a `LogLine`.
const OBJECT: Form = Form {
    open: r#"{"n":"#,
    ts: r#","ts":"#,
    stream: [
        r#","stream":"out","text":"#,
        r#","stream":"err","text":"#,
        r#","stream":"sys","text":"#,
    ],
    continued: r#","continued":true"#,
    close: '}',
};

/// `[41,…,"out","…"]`, the compact form.
const ARRAY: Form = Form {
    open: "[",
    ts: ",",
    stream: [r#","out","#, r#","err","#, r#","sys","#],
    continued: ",true",
    close: ']',
};

/// Appends `line` as JSON: an object as `serde_json` writes a [`LogLine`], or with `compact`
/// an array (`[n,ts,"out","text"]`, `,true` added when continued).
fn write_line(out: &mut String, line: LineRef<'_>, compact: bool) {
    let form = if compact { &ARRAY } else { &OBJECT };
    out.push_str(form.open);
    number(out, line.n, false);
    out.push_str(form.ts);
    number(out, line.ts.unsigned_abs(), line.ts < 0);
    out.push_str(match line.stream {
        LogStream::Out => form.stream[0],
        LogStream::Err => form.stream[1],
        LogStream::Sys => form.stream[2],
    });
    write_string(out, line.text);
    if line.continued {
        out.push_str(form.continued);
    }
    out.push(form.close);
}

/// What `lines` will take as JSON, roughly: for sizing a buffer before writing them.
fn capacity_for<'a>(lines: impl Iterator<Item = LineRef<'a>>) -> usize {
    let (count, text_bytes) = lines.fold((0, 0), |(count, bytes), line| {
        (count + 1, bytes + line.text.len())
    });
    // The text, some room for its escapes, and each line's other fields.
    64 + text_bytes * 9 / 8 + count * 64
}

/// The `log_lines` frame carrying `lines`, each line an object or with `compact` an array.
pub fn log_lines<'a>(
    run_id: &Id,
    lines: impl Iterator<Item = LineRef<'a>> + Clone,
    compact: bool,
) -> String {
    let mut out = String::with_capacity(capacity_for(lines.clone()));
    out.push_str(r#"{"type":"log_lines","run_id":"#);
    write_string(&mut out, run_id.as_str());
    out.push_str(r#","lines":["#);
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_line(&mut out, line, compact);
    }
    out.push_str("]}");
    out
}

/// A worker's `log_chunk` frame, written line by line in the compact form and kept under a
/// size: [`ChunkWriter::push`] refuses the line that would take the frame past it.
#[derive(Debug)]
pub struct ChunkWriter {
    out: String,
    lines: usize,
    last_n: u64,
    limit: usize,
}

impl ChunkWriter {
    /// Starts chunk `chunk` of `run_id`, whose frame stays within `limit` bytes (or holds one
    /// line that alone is bigger). `capacity` sizes the buffer.
    pub fn new(run_id: &Id, chunk: u64, limit: usize, capacity: usize) -> ChunkWriter {
        let mut out = String::with_capacity(capacity.min(limit) + 64);
        out.push_str(r#"{"type":"log_chunk","run_id":"#);
        write_string(&mut out, run_id.as_str());
        out.push_str(r#","chunk":"#);
        number(&mut out, chunk, false);
        out.push_str(r#","lines":["#);
        ChunkWriter {
            out,
            lines: 0,
            last_n: 0,
            limit,
        }
    }

    /// Adds `line`, unless the frame already holds a line and would then pass its size limit
    /// (it is left as it was, and the line belongs in the next chunk). Returns whether it was
    /// added.
    pub fn push(&mut self, line: LineRef<'_>) -> bool {
        let before = self.out.len();
        if self.lines > 0 {
            self.out.push(',');
        }
        write_line(&mut self.out, line, true);
        // Room for the closing "]}".
        if self.lines > 0 && self.out.len() + 2 > self.limit {
            self.out.truncate(before);
            return false;
        }
        self.lines += 1;
        self.last_n = line.n;
        true
    }

    /// The lines added so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// The number of the last line added (0 before any).
    pub fn last_n(&self) -> u64 {
        self.last_n
    }

    /// The frame's text.
    pub fn finish(mut self) -> String {
        self.out.push_str("]}");
        self.out
    }
}

/// Appends a whole number in decimal.
fn number(out: &mut String, n: u64, negative: bool) {
    if negative {
        out.push('-');
    }
    out.push_str(itoa::Buffer::new().format(n));
}

/// Whether any of the eight bytes in `word` must be escaped in a JSON string: a control
/// character (below 0x20), `"` or `\`. Exact for "any", as the classic bit tricks are: a byte
/// below 0x20 borrows into its own top bit only, and bytes of 0x80 and above never match.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    (below | zero(quote) | zero(backslash)) & HIGH != 0
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it: `\"`, `\\`, the short
/// forms of backspace, form feed, newline, carriage return and tab, and `\u00XX` (lower-case
/// hex) for the other control characters; everything else as it is. Clean runs are skipped
/// eight bytes at a time and copied whole.
fn write_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = text.as_bytes();
    let mut clean = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            if !needs_escape(u64::from_le_bytes(eight)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        i += 1;
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // The byte is ASCII, so both slices end on character boundaries.
        out.push_str(&text[clean..i - 1]);
        clean = i;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(&text[clean..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMessage, ServerMessage};

    fn lines() -> Vec<LogLine> {
        // Every byte below 0x80, and some that are not ASCII.
        let every: String = (0u8..0x80).map(char::from).collect();
        vec![
            LogLine {
                n: 41,
                ts: 1_700_000_000_000,
                stream: LogStream::Err,
                text: "\u{1b}[31mred\u{1b}[0m \"q\" \\ ✓ \u{7f}ünï".into(),
                continued: false,
            },
            LogLine {
                n: 0,
                ts: -12,
                stream: LogStream::Sys,
                text: String::new(),
                continued: true,
            },
            LogLine {
                n: u64::MAX,
                ts: i64::MIN,
                stream: LogStream::Out,
                text: every,
                continued: false,
            },
        ]
    }

    #[test]
    fn log_lines_is_what_serde_json_writes_byte_for_byte_and_the_compact_one_reads_the_same() {
        let run_id = Id::from_random("run", [3; 10]);
        let lines = lines();
        let ours = log_lines(&run_id, lines.iter().map(LineRef::of), false);
        let theirs = serde_json::to_string(&ServerMessage::LogLines {
            run_id: run_id.clone(),
            lines: lines.clone(),
        })
        .unwrap();
        assert_eq!(ours, theirs);
        let compact = log_lines(&run_id, lines.iter().map(LineRef::of), true);
        assert!(compact.len() < ours.len());
        let read: ServerMessage = serde_json::from_str(&compact).unwrap();
        assert_eq!(
            read,
            ServerMessage::LogLines {
                run_id: run_id.clone(),
                lines
            }
        );
        let none = serde_json::to_string(&ServerMessage::LogLines {
            run_id: run_id.clone(),
            lines: Vec::new(),
        })
        .unwrap();
        assert_eq!(log_lines(&run_id, std::iter::empty(), false), none);
    }

    #[test]
    fn a_chunk_reads_as_the_same_log_chunk_and_keeps_under_its_limit() {
        let run_id = Id::from_random("run", [4; 10]);
        let lines = lines();
        let mut writer = ChunkWriter::new(&run_id, 7, usize::MAX, 0);
        for line in &lines {
            assert!(writer.push(LineRef::of(line)));
        }
        assert_eq!((writer.lines(), writer.last_n()), (3, u64::MAX));
        let read: ClientMessage = serde_json::from_str(&writer.finish()).unwrap();
        assert_eq!(
            read,
            ClientMessage::LogChunk {
                run_id: run_id.clone(),
                chunk: 7,
                lines: lines.clone(),
            }
        );
        let empty = ChunkWriter::new(&run_id, 0, 10, 0).finish();
        let read: ClientMessage = serde_json::from_str(&empty).unwrap();
        assert_eq!(
            read,
            ClientMessage::LogChunk {
                run_id: run_id.clone(),
                chunk: 0,
                lines: Vec::new(),
            }
        );
        // A limit lets the first line in whatever its size, and then no line past it.
        let line = |n| LogLine {
            n,
            ts: 1,
            stream: LogStream::Out,
            text: "x".repeat(100),
            continued: false,
        };
        let mut writer = ChunkWriter::new(&run_id, 0, 350, 0);
        assert!(writer.push(LineRef::of(&line(1))));
        assert!(writer.push(LineRef::of(&line(2))));
        assert!(!writer.push(LineRef::of(&line(3))), "the third passes 350");
        assert_eq!((writer.lines(), writer.last_n()), (2, 2));
        let frame = writer.finish();
        assert!(frame.len() <= 350, "{}", frame.len());
        let read: ClientMessage = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            read,
            ClientMessage::LogChunk {
                run_id: run_id.clone(),
                chunk: 0,
                lines: vec![line(1), line(2)],
            }
        );
        let mut writer = ChunkWriter::new(&run_id, 0, 10, 0);
        assert!(writer.push(LineRef::of(&line(1))), "alone, over the limit");
        assert!(!writer.push(LineRef::of(&line(2))));
    }

    #[test]
    fn every_byte_that_needs_escaping_is_found_at_every_place_in_a_word() {
        // The eight-byte skip must see a special byte wherever it sits, next to plain ASCII,
        // bytes of 0x80 and above, and the bytes just above the control range.
        let specials = ['"', '\\', '\n', '\u{0}', '\u{1b}', '\u{1f}'];
        let fillers = ['a', ' ', '\u{7f}', 'é', '✓'];
        for special in specials {
            for filler in fillers {
                for at in 0..20 {
                    let text: String = (0..20)
                        .map(|i| if i == at { special } else { filler })
                        .collect();
                    let mut ours = String::new();
                    write_string(&mut ours, &text);
                    let theirs = serde_json::to_string(&text).unwrap();
                    assert_eq!(ours, theirs, "{special:?} at {at} among {filler:?}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_whole() {
        for (n, negative, want) in [
            (0, false, "0"),
            (7, false, "7"),
            (10, false, "10"),
            (u64::MAX, false, "18446744073709551615"),
            (9_223_372_036_854_775_808, true, "-9223372036854775808"),
        ] {
            let mut out = String::new();
            number(&mut out, n, negative);
            assert_eq!(out, want);
        }
    }
}
