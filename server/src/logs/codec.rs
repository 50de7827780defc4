//! The stored form of a chunk of log lines (a `LOG_CHUNKS` value): a version byte, then per line
//! its stream (one byte, whose top bit is the line's `continued` flag), its timestamp (i64, little-endian), its text length (u32,
//! little-endian) and its UTF-8 text. Line numbers are not stored: the key holds the first one
//! and the lines follow without gaps. Decoding borrows the text, so a scan that filters lines
//! allocates only for the lines it keeps.

use warren_protocol::run::{LogLine, LogStream};

/// The format version written as the first byte.
const VERSION: u8 = 1;
/// Bytes of each line's header (stream, timestamp, length).
const HEADER: usize = 1 + 8 + 4;
/// The bit of the stream byte that says the line continues the previous one (chunks written
/// before the flag existed never set it, so they decode as they were).
const CONTINUED: u8 = 0x80;

/// A stored chunk that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("a stored log chunk is corrupt: {0}")]
pub struct CorruptChunk(pub &'static str);

/// Encodes `lines` (their numbers are implied by the key).
pub fn encode<'a, L: Into<LineRef<'a>>>(lines: impl IntoIterator<Item = L> + Clone) -> Vec<u8> {
    let size = 1 + lines
        .clone()
        .into_iter()
        .map(|l| HEADER + Into::<LineRef<'a>>::into(l).text.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(VERSION);
    for line in lines {
        let line: LineRef<'a> = line.into();
        let flag = if line.continued { CONTINUED } else { 0 };
        out.push(stream_byte(line.stream) | flag);
        out.extend_from_slice(&line.ts.to_le_bytes());
        let len = u32::try_from(line.text.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&line.text.as_bytes()[..len as usize]);
    }
    out
}

/// One line borrowing its text (from the stored bytes, a [`Lines`](super::lines::Lines) buffer
/// or a [`LogLine`]); it serialises exactly as a `LogLine` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// Decodes a chunk whose first line is `first`.
pub fn decode(first: u64, bytes: &[u8]) -> Result<Vec<LineRef<'_>>, CorruptChunk> {
    let Some((&version, mut rest)) = bytes.split_first() else {
        return Err(CorruptChunk("it is empty"));
    };
    if version != VERSION {
        return Err(CorruptChunk("unknown format version"));
    }
    let mut lines = Vec::new();
    let mut n = first;
    while !rest.is_empty() {
        if rest.len() < HEADER {
            return Err(CorruptChunk("a line header is cut short"));
        }
        let continued = rest[0] & CONTINUED != 0;
        let stream = match rest[0] & !CONTINUED {
            0 => LogStream::Out,
            1 => LogStream::Err,
            2 => LogStream::Sys,
            _ => return Err(CorruptChunk("unknown stream")),
        };
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&rest[1..9]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&rest[9..13]);
        let len = u32::from_le_bytes(len) as usize;
        let body = &rest[HEADER..];
        if body.len() < len {
            return Err(CorruptChunk("a line's text is cut short"));
        }
        let text = std::str::from_utf8(&body[..len])
            .map_err(|_| CorruptChunk("a line's text is not UTF-8"))?;
        lines.push(LineRef {
            n,
            ts: i64::from_le_bytes(ts),
            stream,
            text,
            continued,
        });
        n += 1;
        rest = &body[len..];
    }
    Ok(lines)
}

fn stream_byte(stream: LogStream) -> u8 {
    match stream {
        LogStream::Out => 0,
        LogStream::Err => 1,
        LogStream::Sys => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, stream: LogStream, text: &str) -> LogLine {
        LogLine {
            n,
            ts: 1_700_000_000_000 + n as i64,
            stream,
            text: text.into(),
            continued: false,
        }
    }

    #[test]
    fn lines_round_trip_with_numbers_from_the_key() {
        let lines = vec![
            line(7, LogStream::Out, "\u{1b}[31mred\u{1b}[0m"),
            line(8, LogStream::Err, ""),
            line(9, LogStream::Sys, "ünïcode ✓"),
            LogLine {
                continued: true,
                ..line(10, LogStream::Sys, " and the rest of it")
            },
            LogLine {
                continued: true,
                ..line(11, LogStream::Err, "")
            },
        ];
        let bytes = encode(lines.iter().map(LineRef::of));
        let back: Vec<LogLine> = decode(7, &bytes)
            .expect("decodes")
            .into_iter()
            .map(LineRef::to_line)
            .collect();
        assert_eq!(back, lines);
    }

    #[test]
    fn a_chunk_stored_before_the_continued_flag_still_decodes() {
        // Version 1 as first written: stream byte 1 (err), ts 5, length 2, "ok".
        let mut bytes = vec![1, 1];
        bytes.extend_from_slice(&5i64.to_le_bytes());
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(b"ok");
        let lines = decode(3, &bytes).expect("decodes");
        assert_eq!(
            lines,
            [LineRef {
                n: 3,
                ts: 5,
                stream: LogStream::Err,
                text: "ok",
                continued: false,
            }]
        );
        // The flag is one bit of the stream byte, nothing more.
        let flagged = LogLine {
            continued: true,
            ..line(1, LogStream::Err, "ok")
        };
        let flagged = encode([LineRef::of(&flagged)]);
        let plain = line(1, LogStream::Err, "ok");
        assert_eq!(flagged.len(), encode([LineRef::of(&plain)]).len());
        assert_eq!(flagged[1], 0x81);
    }

    #[test]
    fn a_cut_chunk_is_an_error_not_a_panic() {
        let hello = line(1, LogStream::Out, "hello");
        let bytes = encode([LineRef::of(&hello)]);
        for cut in 0..bytes.len() - 1 {
            if cut == 1 {
                continue; // only the version byte: an empty chunk, which is valid
            }
            assert!(decode(1, &bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
