//! Chat's slash commands: `/run NAME key=value …` starts a job from the room (the room then
//! hears one "started" and one "finished" line about it from the server, never its log). A
//! message that should start with `/run` literally is written `//run`.

use std::collections::BTreeMap;

/// What a message box's text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slash {
    /// An ordinary message (with a leading `//` turned into `/`).
    Message(String),
    /// `/run NAME k=v …`.
    Run {
        job: String,
        params: BTreeMap<String, String>,
    },
}

/// Reads the message box's text; `Err` says what is wrong with a `/run` line.
pub fn parse(body: &str) -> Result<Slash, String> {
    if let Some(rest) = body.strip_prefix("//") {
        return Ok(Slash::Message(format!("/{rest}")));
    }
    let trimmed = body.trim();
    let Some(rest) = trimmed
        .strip_prefix("/run")
        .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
    else {
        return Ok(Slash::Message(body.to_owned()));
    };
    let words = split_words(rest)?;
    let mut words = words.into_iter();
    let Some(job) = words.next() else {
        return Err("say which job: /run NAME key=value …".to_owned());
    };
    let mut params = BTreeMap::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!(
                "“{word}” is not a parameter: write key=value (quote values with spaces: key=\"a b\")"
            ));
        };
        if key.is_empty() {
            return Err(format!("“{word}” has no parameter name before '='"));
        }
        params.insert(key.to_owned(), value.to_owned());
    }
    Ok(Slash::Run { job, params })
}

/// Splits on whitespace, keeping double-quoted stretches together (quotes removed).
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err("a quote is not closed".to_owned());
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lines_are_read_with_quoted_values() {
        assert_eq!(
            parse("/run deploy env=prod note=\"two words\""),
            Ok(Slash::Run {
                job: "deploy".into(),
                params: [("env", "prod"), ("note", "two words")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            })
        );
        assert_eq!(
            parse("/run build"),
            Ok(Slash::Run {
                job: "build".into(),
                params: BTreeMap::new()
            })
        );
    }

    #[test]
    fn everything_else_is_a_message() {
        assert_eq!(parse("hello"), Ok(Slash::Message("hello".into())));
        assert_eq!(parse("/runner up"), Ok(Slash::Message("/runner up".into())));
        assert_eq!(parse("//run x"), Ok(Slash::Message("/run x".into())));
    }

    #[test]
    fn mistakes_say_how_to_write_it() {
        assert!(parse("/run").is_err_and(|e| e.contains("/run NAME")));
        assert!(parse("/run deploy prod").is_err_and(|e| e.contains("key=value")));
        assert!(parse("/run deploy note=\"open").is_err_and(|e| e.contains("quote")));
    }
}
