//! One output stream's raw bytes into redacted lines: split at `\n`, long lines cut into pieces
//! of at most the line limit (never through a secret), each piece redacted whole, so a secret
//! that arrives split across two reads is still masked. A line that pauses mid-way can be sent
//! as it stands (`flush_partial`), less a tail that could begin a secret or a token. A cut
//! avoids splitting a UTF-8 character, and every piece after a cut says it is `continued`.

use std::sync::Arc;

use super::redact::Redactor;

/// A finished piece of output: a line, or part of a line too long to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Redacted bytes, without the `\n`.
    pub bytes: Vec<u8>,
    /// This piece continues the previous one: that one was cut, not ended by a newline.
    pub continued: bool,
}

/// Buffers one stream's unfinished line.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    max_line: usize,
    redactor: Arc<Redactor>,
    /// The last piece was cut: the next one continues it.
    after_cut: bool,
}

impl LineSplitter {
    pub fn new(max_line: usize, redactor: Arc<Redactor>) -> Self {
        Self {
            pending: Vec::new(),
            max_line: max_line.max(1),
            redactor,
            after_cut: false,
        }
    }

    /// Takes the next bytes read and appends the pieces they finish to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Piece>) {
        self.pending.extend_from_slice(data);
        self.drain(false, out);
    }

    /// The stream ended: whatever is left becomes the last piece(s).
    pub fn finish(&mut self, out: &mut Vec<Piece>) {
        self.drain(true, out);
    }

    /// The stream paused in the middle of a line (a prompt, a progress bar): sends what it has
    /// so far as a `continued` piece, except a tail that could begin a secret or a token.
    pub fn flush_partial(&mut self, out: &mut Vec<Piece>) {
        let held = self.redactor.unsafe_tail(&self.pending);
        let at = self.pending.len() - held;
        if at == 0 {
            return;
        }
        let cut = self.redactor.safe_cut(&self.pending, at).min(at);
        let cut = char_boundary(&self.pending, cut);
        if cut == 0 {
            return;
        }
        let piece = piece(
            &self.redactor,
            &mut self.after_cut,
            &self.pending[..cut],
            false,
        );
        out.push(piece);
        self.pending.drain(..cut);
    }

    fn drain(&mut self, eof: bool, out: &mut Vec<Piece>) {
        let Self {
            pending,
            max_line,
            redactor,
            after_cut,
        } = self;
        let max_line = *max_line;
        let mut pos = 0;
        while pos < pending.len() {
            let rest = &pending[pos..];
            match rest.iter().position(|&b| b == b'\n') {
                Some(nl) if nl <= max_line => {
                    out.push(piece(redactor, after_cut, &rest[..nl], true));
                    pos += nl + 1;
                }
                found => {
                    let line = &rest[..found.unwrap_or(rest.len())];
                    let complete = found.is_some() || eof;
                    if line.len() <= max_line {
                        if !complete {
                            break;
                        }
                        // End of stream without a final newline.
                        out.push(piece(redactor, after_cut, line, true));
                        pos += line.len();
                        continue;
                    }
                    if !complete && line.len() < max_line + redactor.lookahead() {
                        break;
                    }
                    let cut = char_boundary(line, redactor.safe_cut(line, max_line));
                    let last = cut >= line.len() && complete;
                    out.push(piece(redactor, after_cut, &line[..cut], last));
                    pos += cut;
                    if last && found.is_some() {
                        pos += 1;
                    }
                }
            }
        }
        pending.drain(..pos);
    }
}

/// A redacted piece; `ends_line` says whether a newline (or the stream's end) follows it, and
/// so whether the next piece continues it.
fn piece(redactor: &Redactor, after_cut: &mut bool, bytes: &[u8], ends_line: bool) -> Piece {
    let piece = Piece {
        bytes: redactor.redact(bytes).into_owned(),
        continued: *after_cut,
    };
    *after_cut = !ends_line;
    piece
}

/// `cut`, moved back to the start of a UTF-8 character it would split (never to 0: text that
/// is not UTF-8 is cut where it is).
fn char_boundary(text: &[u8], cut: usize) -> usize {
    let continuation = |b: u8| b & 0xC0 == 0x80;
    let mut at = cut;
    while at > 0 && cut - at < 3 && text.get(at).is_some_and(|&b| continuation(b)) {
        at -= 1;
    }
    if at == 0 || text.get(at).is_some_and(|&b| continuation(b)) {
        cut
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::redact::RedactError;

    fn splitter(max: usize, secrets: &[&str]) -> Result<LineSplitter, RedactError> {
        Ok(LineSplitter::new(
            max,
            Arc::new(Redactor::new(secrets.iter().copied())?),
        ))
    }

    fn texts(pieces: &[Piece]) -> Vec<(String, bool)> {
        pieces
            .iter()
            .map(|p| (String::from_utf8_lossy(&p.bytes).into_owned(), p.continued))
            .collect()
    }

    #[test]
    fn lines_are_split_at_newlines_across_reads() -> Result<(), RedactError> {
        let mut s = splitter(1024, &[])?;
        let mut out = Vec::new();
        s.push(b"one\ntw", &mut out);
        s.push(b"o\n\nthree", &mut out);
        assert_eq!(out.len(), 3);
        s.finish(&mut out);
        let got: Vec<String> = texts(&out).into_iter().map(|(t, _)| t).collect();
        assert_eq!(got, ["one", "two", "", "three"]);
        Ok(())
    }

    #[test]
    fn a_secret_split_across_reads_is_masked() -> Result<(), RedactError> {
        let mut s = splitter(1024, &["hunter2"])?;
        let mut out = Vec::new();
        s.push(b"pw=hun", &mut out);
        assert!(out.is_empty());
        s.push(b"ter2 ok\n", &mut out);
        assert_eq!(texts(&out), [("pw=*** ok".to_owned(), false)]);
        Ok(())
    }

    #[test]
    fn a_paused_partial_line_is_sent_without_a_secrets_start() -> Result<(), RedactError> {
        let mut s = splitter(1024, &["hunter2"])?;
        let mut out = Vec::new();
        s.push(b"progress 10% pw=hun", &mut out);
        s.flush_partial(&mut out);
        assert_eq!(texts(&out), [("progress 10% pw=".to_owned(), false)]);
        s.push(b"ter2 done\n", &mut out);
        assert_eq!(texts(&out)[1], ("*** done".to_owned(), true));
        // The line ended: the next one starts afresh.
        s.push(b"next\n", &mut out);
        assert_eq!(texts(&out)[2], ("next".to_owned(), false));
        Ok(())
    }

    #[test]
    fn long_lines_are_cut_without_cutting_a_secret() -> Result<(), RedactError> {
        let mut s = splitter(10, &["SECRET"])?;
        let mut out = Vec::new();
        // The secret crosses the 10-byte limit: the cut moves before it.
        s.push(b"abcdefgSECRETxyz0123456789", &mut out);
        s.push(b"\n", &mut out);
        assert_eq!(
            texts(&out),
            [
                ("abcdefg".to_owned(), false),
                ("***xyz0".to_owned(), true),
                ("123456789".to_owned(), true),
            ]
        );
        Ok(())
    }

    #[test]
    fn a_cut_does_not_split_a_utf8_character() -> Result<(), RedactError> {
        let mut s = splitter(10, &[])?;
        let mut out = Vec::new();
        // "é" is two bytes at 9..11: a cut at 10 would split it.
        s.push("abcdefghié-rest\n".as_bytes(), &mut out);
        assert_eq!(
            texts(&out),
            [("abcdefghi".to_owned(), false), ("é-rest".to_owned(), true)]
        );
        // Bytes that are not UTF-8 are cut where the limit falls.
        let mut s = splitter(4, &[])?;
        let mut out = Vec::new();
        s.push(b"\x80\x80\x80\x80\x80\x80\n", &mut out);
        assert_eq!(
            out.iter().map(|p| p.bytes.len()).collect::<Vec<_>>(),
            [4, 2]
        );
        Ok(())
    }

    #[test]
    fn an_endless_line_is_emitted_in_pieces_before_it_ends() -> Result<(), RedactError> {
        let mut s = splitter(100, &[])?;
        let mut out = Vec::new();
        for _ in 0..10 {
            s.push(&[b'x'; 100], &mut out);
        }
        assert!(out.len() >= 8, "{}", out.len());
        assert!(out.iter().all(|p| p.bytes.len() == 100));
        s.push(b"\n", &mut out);
        s.push(b"after\n", &mut out);
        s.finish(&mut out);
        let (after, line) = out.split_last().expect("pieces");
        let total: usize = line.iter().map(|p| p.bytes.len()).sum();
        assert_eq!(total, 1000);
        assert!(!line[0].continued && line[1..].iter().all(|p| p.continued));
        assert_eq!(
            texts(std::slice::from_ref(after)),
            [("after".to_owned(), false)]
        );
        Ok(())
    }
}
