//! A chunk's log lines held as ONE text buffer plus each line's fields and end offset, from the
//! parse of a `log_chunk` frame through redaction, the store's encoding and the live feed, instead
//! of one `String` per line: two allocations per chunk rather than one per line, and one free.
//! [`Lines`] deserialises straight from a frame's `lines` array (each text is appended to the
//! buffer as `serde_json` unescapes it) and serialises as the same array of `LogLine` objects.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use warren_protocol::run::{LogLine, LogStream};

use super::codec::LineRef;

/// One line's fields; its text ends at `end` in the buffer and starts where the previous one
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    n: u64,
    ts: i64,
    stream: LogStream,
    continued: bool,
    end: usize,
}

/// Log lines in order, their texts in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    meta: Vec<Meta>,
}

impl Lines {
    /// Room for `lines` lines of `bytes` text in all.
    pub fn with_capacity(lines: usize, bytes: usize) -> Lines {
        Lines {
            text: String::with_capacity(bytes),
            meta: Vec::with_capacity(lines),
        }
    }

    /// Appends a line.
    pub fn push(&mut self, line: LineRef<'_>) {
        self.text.push_str(line.text);
        self.push_meta(line.n, line.ts, line.stream, line.continued);
    }

    fn push_meta(&mut self, n: u64, ts: i64, stream: LogStream, continued: bool) {
        self.meta.push(Meta {
            n,
            ts,
            stream,
            continued,
            end: self.text.len(),
        });
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Every line's text, one after the other with nothing between (for a quick look for
    /// something in the whole chunk; a match may span two lines).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The bytes of text of every line together.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Line `i` (0-based), if there is one.
    pub fn get(&self, i: usize) -> Option<LineRef<'_>> {
        let meta = self.meta.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.meta[i - 1].end,
        };
        Some(LineRef {
            n: meta.n,
            ts: meta.ts,
            stream: meta.stream,
            text: self.text.get(start..meta.end)?,
            continued: meta.continued,
        })
    }

    pub fn first(&self) -> Option<LineRef<'_>> {
        self.get(0)
    }

    pub fn last(&self) -> Option<LineRef<'_>> {
        self.get(self.len().checked_sub(1)?)
    }

    /// The lines in order.
    pub fn iter(&self) -> impl Iterator<Item = LineRef<'_>> + Clone + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Keeps the first `len` lines.
    pub fn truncate(&mut self, len: usize) {
        self.meta.truncate(len);
        let end = self.meta.last().map_or(0, |m| m.end);
        self.text.truncate(end);
    }

    /// Replaces the text of every line for which `change` returns a new one (the buffer is
    /// rebuilt only when some line changed).
    pub fn rewrite(&mut self, mut change: impl FnMut(&str) -> Option<String>) {
        let changed: Vec<(usize, String)> = self
            .iter()
            .enumerate()
            .filter_map(|(i, line)| change(line.text).map(|t| (i, t)))
            .collect();
        if changed.is_empty() {
            return;
        }
        let mut rebuilt = Lines::with_capacity(self.len(), self.text.len());
        let mut changed = changed.into_iter().peekable();
        for (i, line) in self.iter().enumerate() {
            match changed.next_if(|(at, _)| *at == i) {
                Some((_, text)) => rebuilt.push(LineRef {
                    text: &text,
                    ..line
                }),
                None => rebuilt.push(line),
            }
        }
        *self = rebuilt;
    }

    /// The owned wire lines.
    pub fn to_vec(&self) -> Vec<LogLine> {
        self.iter().map(LineRef::to_line).collect()
    }
}

impl From<Vec<LogLine>> for Lines {
    fn from(lines: Vec<LogLine>) -> Lines {
        let bytes = lines.iter().map(|l| l.text.len()).sum();
        let mut out = Lines::with_capacity(lines.len(), bytes);
        for line in &lines {
            out.push(LineRef::of(line));
        }
        out
    }
}

impl Serialize for Lines {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for line in self.iter() {
            seq.serialize_element(&line)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Lines {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Lines, D::Error> {
        deserializer.deserialize_seq(LinesVisitor)
    }
}

struct LinesVisitor;

impl<'de> Visitor<'de> for LinesVisitor {
    type Value = Lines;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of log lines")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lines, A::Error> {
        let mut lines = Lines::with_capacity(seq.size_hint().unwrap_or(0), 0);
        while seq.next_element_seed(LineSeed(&mut lines))?.is_some() {}
        Ok(lines)
    }
}

/// Reads one line object into the buffer.
struct LineSeed<'a>(&'a mut Lines);

/// The fields of a `LogLine` object (any other is an error, as `deny_unknown_fields` makes it).
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    N,
    Ts,
    Stream,
    Text,
    Continued,
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // An object, or the compact array `[n, ts, "out", "text"(, true)]`.
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a log line (an object, or an array [n, ts, stream, text])")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let lines = self.0;
        let start = lines.text.len();
        let missing = || de::Error::custom("a log line array has 4 or 5 elements");
        let n = seq.next_element::<u64>()?.ok_or_else(missing)?;
        let ts = seq.next_element::<i64>()?.ok_or_else(missing)?;
        let stream = seq.next_element::<LogStream>()?.ok_or_else(missing)?;
        if seq.next_element_seed(TextSeed(&mut lines.text))?.is_none() {
            return Err(missing());
        }
        let continued = match seq.next_element::<bool>() {
            Ok(continued) => continued.unwrap_or(false),
            Err(e) => {
                lines.text.truncate(start);
                return Err(e);
            }
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            lines.text.truncate(start);
            return Err(missing());
        }
        lines.push_meta(n, ts, stream, continued);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let lines = self.0;
        let start = lines.text.len();
        let (mut n, mut ts, mut stream, mut text, mut continued) = (None, None, None, false, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::N if n.is_none() => n = Some(map.next_value::<u64>()?),
                Field::Ts if ts.is_none() => ts = Some(map.next_value::<i64>()?),
                Field::Stream if stream.is_none() => {
                    stream = Some(map.next_value::<LogStream>()?);
                }
                Field::Text if !text => {
                    map.next_value_seed(TextSeed(&mut lines.text))?;
                    text = true;
                }
                Field::Continued if continued.is_none() => {
                    continued = Some(map.next_value::<bool>()?);
                }
                _ => return Err(de::Error::custom("duplicate field")),
            }
        }
        let (Some(n), Some(ts), Some(stream), true) = (n, ts, stream, text) else {
            lines.text.truncate(start);
            return Err(de::Error::custom("missing field"));
        };
        lines.push_meta(n, ts, stream, continued.unwrap_or(false));
        Ok(())
    }
}

/// Appends a JSON string's (unescaped) text to the buffer without a `String` of its own.
struct TextSeed<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.0.push_str(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, stream: LogStream, text: &str, continued: bool) -> LogLine {
        LogLine {
            n,
            ts: 1_700_000_000_000 + n as i64,
            stream,
            text: text.into(),
            continued,
        }
    }

    fn sample() -> Vec<LogLine> {
        vec![
            line(
                1,
                LogStream::Out,
                "\u{1b}[31mred\u{1b}[0m \"q\" \\ ✓",
                false,
            ),
            line(2, LogStream::Err, "", false),
            line(3, LogStream::Sys, "tab\there", true),
        ]
    }

    #[test]
    fn lines_serialise_and_parse_exactly_as_log_lines_do() -> Result<(), serde_json::Error> {
        let owned = sample();
        let lines = Lines::from(owned.clone());
        assert_eq!(lines.to_vec(), owned);
        let json = serde_json::to_string(&lines)?;
        assert_eq!(json, serde_json::to_string(&owned)?);
        let back: Lines = serde_json::from_str(&json)?;
        assert_eq!(back, lines);
        // Escapes in any form unescape into the buffer; field order is free.
        let back: Lines = serde_json::from_str(
            r#"[{"text":"\u0061\n","stream":"err","ts":-4,"n":9,"continued":false}]"#,
        )?;
        let want = LogLine {
            ts: -4,
            ..line(9, LogStream::Err, "a\n", false)
        };
        assert_eq!(back.to_vec(), [want]);
        Ok(())
    }

    #[test]
    fn what_a_log_line_refuses_lines_refuse() {
        for bad in [
            r#"[{"n":1,"ts":5,"stream":"out"}]"#,
            r#"[{"n":1,"ts":5,"stream":"out","text":"a","text":"b"}]"#,
            r#"[{"n":1,"n":2,"ts":5,"stream":"out","text":"a"}]"#,
            r#"[{"n":1,"ts":5,"stream":"out","text":"a","x":1}]"#,
            r#"[{"n":-1,"ts":5,"stream":"out","text":"a"}]"#,
            r#"[{"n":1,"ts":5,"stream":"log","text":"a"}]"#,
            r#"[{"n":1,"ts":5,"stream":"out","text":7}]"#,
            r#"[{"n":1,"ts":5,"stream":"out","text":"a","continued":null}]"#,
            r#"[[1,5,"out"]]"#,
            r#"[[1,5,"out","a",true,3]]"#,
            r#"[[1,5,"out","a",3]]"#,
            r#"[[1,5,"log","a"]]"#,
            r#"[[-1,5,"out","a"]]"#,
        ] {
            assert!(serde_json::from_str::<Vec<LogLine>>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Lines>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_compact_form_reads_as_the_same_lines() -> Result<(), serde_json::Error> {
        let compact = r#"[[1,1700000000001,"out","\u001b[31mred\u001b[0m \"q\" \\ ✓"],[2,1700000000002,"err",""],{"n":3,"ts":1700000000003,"stream":"sys","text":"tab\there","continued":true}]"#;
        let lines: Lines = serde_json::from_str(compact)?;
        assert_eq!(lines.to_vec(), sample());
        let owned: Vec<LogLine> = serde_json::from_str(compact)?;
        assert_eq!(owned, sample());
        let continued: Lines =
            serde_json::from_str(r#"[[3,1700000000003,"sys","tab\there",true]]"#)?;
        assert_eq!(continued.to_vec(), sample()[2..]);
        Ok(())
    }

    #[test]
    fn truncate_and_rewrite_keep_the_other_lines() {
        let mut lines = Lines::from(sample());
        lines.rewrite(|t| t.contains("red").then(|| "***".to_owned()));
        let mut want = sample();
        want[0].text = "***".into();
        assert_eq!(lines.to_vec(), want);
        lines.rewrite(|_| None);
        assert_eq!(lines.to_vec(), want);
        lines.truncate(1);
        assert_eq!(lines.to_vec(), want[..1]);
        assert_eq!(lines.text_bytes(), 3);
        assert_eq!(lines.last().map(|l| l.n), Some(1));
        lines.truncate(0);
        assert!(lines.is_empty() && lines.first().is_none());
    }
}
