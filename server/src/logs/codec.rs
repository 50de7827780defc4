//! The stored form of a chunk of log lines (a `LOG_CHUNKS` value): a version byte, then per line
//! its stream (one byte, whose top bit is the line's `continued` flag), its timestamp as a
//! zigzag varint of the difference from the line before (from 0 for the first), its text length
//! as a varint, and its UTF-8 text: usually 3 bytes of header a line. Version 1, written before,
//! had fixed-width headers (an i64 and a u32, little-endian: 13 bytes a line) and is still read.
//! Line numbers are not stored: the key holds the first one and the lines follow without gaps.
//! Decoding borrows the text, so a scan that filters lines allocates only for the lines it keeps.

use integer_encoding::VarInt;
pub use warren_protocol::log_json::LineRef;
use warren_protocol::run::LogStream;

/// The format version written as the first byte.
const VERSION: u8 = 2;
/// The first version: fixed-width line headers.
const V1: u8 = 1;
/// Bytes of each line's header in version 1 (stream, timestamp, length).
const V1_HEADER: usize = 1 + 8 + 4;
/// Most bytes a varint of 64 bits takes.
const VARINT_MAX: usize = 10;
/// The bit of the stream byte that says the line continues the previous one (chunks written
/// before the flag existed never set it, so they decode as they were).
const CONTINUED: u8 = 0x80;

/// A stored chunk that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("a stored log chunk is corrupt: {0}")]
pub struct CorruptChunk(pub &'static str);

/// Encodes `lines` (their numbers are implied by the key).
pub fn encode<'a, L: Into<LineRef<'a>>>(lines: impl IntoIterator<Item = L> + Clone) -> Vec<u8> {
    // Typical headers take 3–4 bytes; the first line's timestamp takes up to 10 more.
    let size = 1
        + VARINT_MAX
        + lines
            .clone()
            .into_iter()
            .map(|l| 4 + Into::<LineRef<'a>>::into(l).text.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(VERSION);
    let mut varint = [0u8; VARINT_MAX];
    let mut previous = 0i64;
    for line in lines {
        let line: LineRef<'a> = line.into();
        let flag = if line.continued { CONTINUED } else { 0 };
        out.push(stream_byte(line.stream) | flag);
        let taken = line.ts.wrapping_sub(previous).encode_var(&mut varint);
        out.extend_from_slice(&varint[..taken]);
        previous = line.ts;
        let len = u32::try_from(line.text.len()).unwrap_or(u32::MAX);
        let taken = len.encode_var(&mut varint);
        out.extend_from_slice(&varint[..taken]);
        out.extend_from_slice(&line.text.as_bytes()[..len as usize]);
    }
    out
}

/// Decodes a chunk whose first line is `first`.
pub fn decode(first: u64, bytes: &[u8]) -> Result<Vec<LineRef<'_>>, CorruptChunk> {
    let Some((&version, mut rest)) = bytes.split_first() else {
        return Err(CorruptChunk("it is empty"));
    };
    let varints = match version {
        VERSION => true,
        V1 => false,
        _ => return Err(CorruptChunk("unknown format version")),
    };
    const CUT: &str = "a line header is cut short";
    // A guess of the line count (most lines are tens of bytes), so the list rarely grows.
    let mut lines = Vec::with_capacity(bytes.len() / 48);
    let mut n = first;
    let mut previous = 0i64;
    while let Some((&flags, after)) = rest.split_first() {
        let continued = flags & CONTINUED != 0;
        let stream = match flags & !CONTINUED {
            0 => LogStream::Out,
            1 => LogStream::Err,
            2 => LogStream::Sys,
            _ => return Err(CorruptChunk("unknown stream")),
        };
        let (ts, len, body) = if varints {
            let (delta, taken) = i64::decode_var(after).ok_or(CorruptChunk(CUT))?;
            let after = &after[taken..];
            let (len, taken) = u32::decode_var(after).ok_or(CorruptChunk(CUT))?;
            (previous.wrapping_add(delta), len as usize, &after[taken..])
        } else {
            if rest.len() < V1_HEADER {
                return Err(CorruptChunk(CUT));
            }
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&rest[1..9]);
            let mut len = [0u8; 4];
            len.copy_from_slice(&rest[9..13]);
            let len = u32::from_le_bytes(len) as usize;
            (i64::from_le_bytes(ts), len, &rest[V1_HEADER..])
        };
        previous = ts;
        if body.len() < len {
            return Err(CorruptChunk("a line's text is cut short"));
        }
        let text = std::str::from_utf8(&body[..len])
            .map_err(|_| CorruptChunk("a line's text is not UTF-8"))?;
        lines.push(LineRef {
            n,
            ts,
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
    use warren_protocol::run::LogLine;

    fn line(n: u64, stream: LogStream, text: &str) -> LogLine {
        LogLine {
            n,
            ts: 1_700_000_000_000 + n as i64,
            stream,
            text: text.into(),
            continued: false,
        }
    }

    /// `bytes` decoded from line `first` into owned lines.
    fn owned(first: u64, bytes: &[u8]) -> Vec<LogLine> {
        decode(first, bytes)
            .expect("decodes")
            .into_iter()
            .map(LineRef::to_line)
            .collect()
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
        let back = owned(7, &bytes);
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

    /// A chunk as version 1 wrote it.
    fn v1(lines: &[LogLine]) -> Vec<u8> {
        let mut out = vec![V1];
        for line in lines {
            let flag = if line.continued { CONTINUED } else { 0 };
            out.push(stream_byte(line.stream) | flag);
            out.extend_from_slice(&line.ts.to_le_bytes());
            out.extend_from_slice(&(line.text.len() as u32).to_le_bytes());
            out.extend_from_slice(line.text.as_bytes());
        }
        out
    }

    #[test]
    fn extreme_timestamps_and_long_lines_round_trip() {
        let long = "x".repeat(70_000);
        let lines = vec![
            LogLine {
                ts: i64::MIN,
                ..line(1, LogStream::Out, "first")
            },
            LogLine {
                ts: i64::MAX,
                ..line(2, LogStream::Err, &"y".repeat(200))
            },
            LogLine {
                ts: -5,
                ..line(3, LogStream::Sys, &long)
            },
            LogLine {
                ts: 0,
                ..line(4, LogStream::Out, "")
            },
        ];
        let bytes = encode(lines.iter().map(LineRef::of));
        assert_eq!(bytes[0], VERSION);
        let back = owned(1, &bytes);
        assert_eq!(back, lines);
    }

    #[test]
    fn a_line_header_usually_takes_three_bytes() {
        // Lines of one burst: the same millisecond or the next, short texts.
        let lines: Vec<LogLine> = (1..=100)
            .map(|n| LogLine {
                ts: 1_700_000_000_000 + n as i64 / 10,
                ..line(n, LogStream::Out, "compiling warren-server")
            })
            .collect();
        let bytes = encode(lines.iter().map(LineRef::of));
        let text: usize = lines.iter().map(|l| l.text.len()).sum();
        let headers = bytes.len() - 1 - text;
        // The first line's full timestamp takes 5 bytes more (6 in all).
        assert_eq!(headers, 100 * 3 + 5, "{headers}");
        assert!(v1(&lines).len() - bytes.len() >= 900);
    }

    #[test]
    fn chunks_of_version_1_still_decode() {
        let lines = vec![
            line(5, LogStream::Out, "one"),
            LogLine {
                ts: 3,
                continued: true,
                ..line(6, LogStream::Err, "two")
            },
            line(7, LogStream::Sys, ""),
        ];
        let back = owned(5, &v1(&lines));
        assert_eq!(back, lines);
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
