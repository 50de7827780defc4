//! The live feed's `log_lines` frame, written by hand into one presized `String`: the same bytes
//! `serde_json` writes for `ServerMessage::LogLines` (a test compares them), without its
//! generic serializer, the buffer's regrowth and the UTF-8 check of the result. A live feed item's
//! frame is built once and shared by every follower; catch-up pages and filtered lines are
//! written by the same code, in either form.

use warren_protocol::Id;
use warren_protocol::run::LogStream;

use super::codec::LineRef;

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

/// `[41,…,"out","…"]`, for a `compact` subscription.
const ARRAY: Form = Form {
    open: "[",
    ts: ",",
    stream: [r#","out","#, r#","err","#, r#","sys","#],
    continued: ",true",
    close: ']',
};

/// The `log_lines` frame carrying `lines`: each line an object, or with `compact` an array
/// (`[n,ts,"out","text"]`, `,true` added when continued).
pub fn log_lines<'a>(
    run_id: &Id,
    lines: impl Iterator<Item = LineRef<'a>> + Clone,
    compact: bool,
) -> String {
    let form = if compact { &ARRAY } else { &OBJECT };
    let (count, text_bytes) = lines.clone().fold((0, 0), |(count, bytes), line| {
        (count + 1, bytes + line.text.len())
    });
    // The text, each line's fields (~60 bytes), and some room for escapes.
    let mut out = String::with_capacity(64 + text_bytes * 9 / 8 + count * 64);
    out.push_str(r#"{"type":"log_lines","run_id":"#);
    escaped(&mut out, run_id.as_str());
    out.push_str(r#","lines":["#);
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(form.open);
        number(&mut out, line.n, false);
        out.push_str(form.ts);
        number(&mut out, line.ts.unsigned_abs(), line.ts < 0);
        out.push_str(match line.stream {
            LogStream::Out => form.stream[0],
            LogStream::Err => form.stream[1],
            LogStream::Sys => form.stream[2],
        });
        escaped(&mut out, line.text);
        if line.continued {
            out.push_str(form.continued);
        }
        out.push(form.close);
    }
    out.push_str("]}");
    out
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
fn escaped(out: &mut String, text: &str) {
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
    use warren_protocol::ServerMessage;
    use warren_protocol::run::LogLine;

    use super::*;

    #[test]
    fn the_frame_is_what_serde_json_writes_byte_for_byte_and_the_compact_one_reads_the_same() {
        let run_id = Id::from_random("run", [3; 10]);
        // Every byte below 0x80, and some that are not ASCII.
        let every: String = (0u8..0x80).map(char::from).collect();
        let lines = vec![
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
        ];
        let ours = log_lines(&run_id, lines.iter().map(LineRef::of), false);
        // The compact form reads back as the same message.
        let compact = log_lines(&run_id, lines.iter().map(LineRef::of), true);
        assert!(compact.len() < ours.len());
        let read: ServerMessage = serde_json::from_str(&compact).expect("compact JSON");
        assert_eq!(
            read,
            ServerMessage::LogLines {
                run_id: run_id.clone(),
                lines: lines.clone(),
            }
        );
        let theirs = crate::frames::text(&ServerMessage::LogLines {
            run_id: run_id.clone(),
            lines: Vec::new(),
        });
        assert_eq!(
            log_lines(&run_id, std::iter::empty(), false),
            theirs.as_str(),
            "no lines"
        );
        let theirs = crate::frames::text(&ServerMessage::LogLines { run_id, lines });
        assert_eq!(ours, theirs.as_str());
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
                    escaped(&mut ours, &text);
                    let theirs = serde_json::to_string(&text).unwrap();
                    assert_eq!(ours, theirs, "{special:?} at {at} among {filler:?}");
                }
            }
        }
    }
}
