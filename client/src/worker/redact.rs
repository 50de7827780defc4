//! Redaction: every secret parameter value, and anything shaped like a warren token (`wrn_` and
//! the characters of its id and secret), becomes `***` before a line leaves the worker.

use std::borrow::Cow;

use regex::bytes::{Regex, RegexBuilder};

/// What a redacted value is replaced with.
pub const MASK: &[u8] = b"***";

/// A warren token, as the server recognises it too.
use warren_protocol::run::TOKEN_PATTERN;

/// A value longer than this is kept whole in the line splitter's look-ahead only up to here.
const MIN_LOOKAHEAD: usize = 64;

/// The redaction pattern could not be built (secrets far too large for a pattern).
#[derive(Debug, thiserror::Error)]
#[error("the secret parameters are too large to redact ({0} bytes together); shorten them")]
pub struct RedactError(usize);

/// Finds and masks secrets and tokens in raw lines.
#[derive(Debug, Clone)]
pub struct Redactor {
    pattern: Regex,
    lookahead: usize,
    secrets: Vec<Vec<u8>>,
}

impl Redactor {
    /// A redactor for these secret values (empty values are ignored) and warren tokens.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Result<Self, RedactError> {
        let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first: where one secret contains another, the longer one is masked whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        let total: usize = secrets.iter().map(|s| s.len()).sum();
        let mut alternatives: Vec<String> = secrets.iter().map(|s| regex::escape(s)).collect();
        alternatives.push(TOKEN_PATTERN.to_owned());
        let pattern = RegexBuilder::new(&alternatives.join("|"))
            .size_limit(64 * 1024 * 1024)
            .build()
            .map_err(|_| RedactError(total))?;
        let longest = secrets.first().map_or(0, |s| s.len());
        Ok(Self {
            pattern,
            lookahead: longest.max(MIN_LOOKAHEAD),
            secrets: secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
        })
    }

    /// The line with every match replaced by `***`.
    pub fn redact<'a>(&self, line: &'a [u8]) -> Cow<'a, [u8]> {
        self.pattern.replace_all(line, MASK)
    }

    /// How many bytes past a cut the splitter must hold to see every secret that crosses it.
    pub fn lookahead(&self) -> usize {
        self.lookahead
    }

    /// How many bytes at the end of an unfinished `text` could begin a secret or a token, and
    /// so must wait for more output before they may be sent.
    pub fn unsafe_tail(&self, text: &[u8]) -> usize {
        let mut hold = 0;
        for secret in &self.secrets {
            for k in (1..secret.len().min(text.len() + 1)).rev() {
                if text.ends_with(&secret[..k]) {
                    hold = hold.max(k);
                    break;
                }
            }
        }
        // `wrn_` and any token characters after it, or the start of `wrn_`.
        let token_chars = text
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if let Some(at) = text[..text.len() - token_chars].len().checked_sub(4)
            && &text[at..text.len() - token_chars] == b"wrn_"
        {
            hold = hold.max(token_chars + 4);
        }
        for k in (1..=3).rev() {
            if text.ends_with(&b"wrn_"[..k]) {
                hold = hold.max(k);
                break;
            }
        }
        hold
    }

    /// Where to cut `text` near `at` so that no secret or token is cut in two: `at`, or the start
    /// of a match that crosses it (its end, when it starts the text).
    pub fn safe_cut(&self, text: &[u8], at: usize) -> usize {
        for m in self.pattern.find_iter(text) {
            if m.start() >= at {
                break;
            }
            if m.end() > at {
                return if m.start() > 0 { m.start() } else { m.end() };
            }
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(r: &Redactor, text: &str) -> String {
        String::from_utf8_lossy(&r.redact(text.as_bytes())).into_owned()
    }

    #[test]
    fn secrets_and_tokens_are_masked() -> Result<(), RedactError> {
        let r = Redactor::new(["hunter2", "", "a.b*c"])?;
        assert_eq!(redacted(&r, "pw=hunter2 x hunter2"), "pw=*** x ***");
        // Regex characters in a secret are literal.
        assert_eq!(redacted(&r, "a.b*c axbbc"), "*** axbbc");
        let token = "wrn_3k8m1p4r7t0w2y5aq4s6u8w0y2a4c6e8g0j2m4p6r8t0v2x4";
        assert_eq!(redacted(&r, &format!("token {token}.")), "token ***.");
        assert_eq!(redacted(&r, "wrn_short stays"), "wrn_short stays");
        Ok(())
    }

    #[test]
    fn the_longer_of_overlapping_secrets_is_masked_whole() -> Result<(), RedactError> {
        let r = Redactor::new(["abc", "abcdef"])?;
        assert_eq!(redacted(&r, "xabcdefx abc"), "x***x ***");
        Ok(())
    }

    #[test]
    fn invalid_utf8_around_a_secret_is_kept() -> Result<(), RedactError> {
        let r = Redactor::new(["s3cret"])?;
        let line = b"\xff\x1b[31ms3cret\xfe";
        assert_eq!(&*r.redact(line), b"\xff\x1b[31m***\xfe");
        Ok(())
    }

    #[test]
    fn the_start_of_a_secret_or_token_at_the_end_is_held() -> Result<(), RedactError> {
        let r = Redactor::new(["hunter2"])?;
        assert_eq!(r.unsafe_tail(b"pw=hunt"), 4);
        assert_eq!(r.unsafe_tail(b"pw=h"), 1);
        assert_eq!(r.unsafe_tail(b"pw=x"), 0);
        assert_eq!(r.unsafe_tail(b"token wrn_3k8m"), 8);
        assert_eq!(r.unsafe_tail(b"token wrn_"), 4);
        assert_eq!(r.unsafe_tail(b"token wr"), 2);
        assert_eq!(r.unsafe_tail(b"progress 10%"), 0);
        Ok(())
    }

    #[test]
    fn a_cut_never_splits_a_secret() -> Result<(), RedactError> {
        let r = Redactor::new(["hunter2"])?;
        assert_eq!(r.safe_cut(b"0123hunter2xyz", 6), 4);
        assert_eq!(r.safe_cut(b"0123hunter2xyz", 4), 4);
        assert_eq!(r.safe_cut(b"hunter2xyz", 3), 7);
        assert_eq!(r.safe_cut(b"0123456789", 5), 5);
        Ok(())
    }
}
