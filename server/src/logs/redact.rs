//! Redaction on the server, before a line is stored: every secret parameter value of the run
//! (from the secret vault) and everything that looks like a warren token (`TOKEN_PATTERN`) is
//! replaced by `***`. The worker redacts too; this is the second line of defence, so a worker
//! that forgot (or an old one) still never puts a secret into the store.

use std::sync::LazyLock;

use regex::Regex;
use warren_protocol::run::{MASK, TOKEN_PATTERN};

use super::lines::Lines;

static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(TOKEN_PATTERN).ok());

/// Redacts `lines` in place. `secrets` are the run's secret values (empty ones are ignored).
pub fn redact(lines: &mut Lines, secrets: &[String]) {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    // The longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    // One look through the whole chunk first: most chunks hold nothing to mask.
    let all = lines.text();
    if !all.contains("wrn_") && !secrets.iter().any(|s| all.contains(s)) {
        return;
    }
    lines.rewrite(|text| redact_text(text, &secrets));
}

/// The text with every secret and token masked, or `None` when it holds none.
fn redact_text(text: &str, secrets: &[&str]) -> Option<String> {
    let mut out: Option<String> = None;
    for secret in secrets {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(secret) {
            out = Some(current.replace(secret, MASK));
        }
    }
    let current = out.as_deref().unwrap_or(text);
    if current.contains("wrn_")
        && let Some(token) = TOKEN.as_ref()
        && token.is_match(current)
    {
        out = Some(token.replace_all(current, MASK).into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::run::LogStream;

    use warren_protocol::run::LogLine;

    fn line(n: u64, text: &str) -> LogLine {
        LogLine {
            n,
            ts: 0,
            stream: LogStream::Out,
            text: text.into(),
            continued: false,
        }
    }

    #[test]
    fn secrets_and_tokens_become_the_mask() {
        let mut lines = Lines::from(vec![
            line(1, "before"),
            line(
                2,
                "key=hunter2-long token=wrn_ABCDEFGHIJKLMNOP1234 short wrn_abc",
            ),
            line(3, "hunter2 alone"),
            line(4, "after"),
        ]);
        redact(
            &mut lines,
            &["hunter2".into(), "hunter2-long".into(), String::new()],
        );
        let texts: Vec<String> = lines.to_vec().into_iter().map(|l| l.text).collect();
        assert_eq!(
            texts,
            [
                "before",
                "key=*** token=*** short wrn_abc",
                "*** alone",
                "after"
            ]
        );
    }

    #[test]
    fn a_chunk_without_secrets_is_left_alone() {
        // "hunter2" only across a line boundary of the chunk's buffer: no line holds it.
        let plain = vec![line(1, "no secret here, hun"), line(2, "ter2 wrn_short")];
        let mut lines = Lines::from(plain.clone());
        redact(&mut lines, &["hunter2".into()]);
        assert_eq!(lines.to_vec(), plain);
    }
}
