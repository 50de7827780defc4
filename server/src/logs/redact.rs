//! Redaction on the server, before a line is stored: every secret parameter value of the run
//! (from the secret vault) and everything that looks like a warren token (`TOKEN_PATTERN`) is
//! replaced by `***`. The worker redacts too; this is the second line of defence, so a worker
//! that forgot (or an old one) still never puts a secret into the store.

use std::sync::LazyLock;

use regex::Regex;
use warren_protocol::run::{LogLine, MASK, TOKEN_PATTERN};

static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(TOKEN_PATTERN).ok());

/// Redacts `lines` in place. `secrets` are the run's secret values (empty ones are ignored).
pub fn redact(lines: &mut [LogLine], secrets: &[String]) {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    // The longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for line in lines {
        for secret in &secrets {
            if line.text.contains(secret) {
                line.text = line.text.replace(secret, MASK);
            }
        }
        if line.text.contains("wrn_")
            && let Some(token) = TOKEN.as_ref()
            && token.is_match(&line.text)
        {
            line.text = token.replace_all(&line.text, MASK).into_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::run::LogStream;

    #[test]
    fn secrets_and_tokens_become_the_mask() {
        let mut lines = vec![LogLine {
            n: 1,
            ts: 0,
            stream: LogStream::Out,
            text: "key=hunter2-long token=wrn_ABCDEFGHIJKLMNOP1234 short wrn_abc".into(),
            continued: false,
        }];
        redact(
            &mut lines,
            &["hunter2".into(), "hunter2-long".into(), String::new()],
        );
        assert_eq!(lines[0].text, "key=*** token=*** short wrn_abc");
    }
}
