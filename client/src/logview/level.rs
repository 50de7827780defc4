//! Log levels: read from a JSON line's `level` field, else from keywords (`ERROR`, `WARN`,
//! `INFO`, `DEBUG` and their usual spellings as whole words, and compiler-style `error:` /
//! `warning:` at the start of a line). Also the pretty form of JSON lines.

/// How severe a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Debug and trace output.
    Debug,
    /// Ordinary information.
    Info,
    /// A warning.
    Warn,
    /// An error (also fatal, critical, panic).
    Error,
}

/// The level of a line's printable text, if it shows one.
pub fn detect(text: &str) -> Option<Level> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed)
    {
        return map
            .get("level")
            .and_then(serde_json::Value::as_str)
            .and_then(|v| from_word(&v.to_ascii_uppercase()));
    }
    for prefix in ["error:", "error[", "warning:", "warning["] {
        if trimmed.starts_with(prefix) {
            return from_word(&prefix[..prefix.len() - 1].to_ascii_uppercase());
        }
    }
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(from_word)
        .max()
}

/// An upper-case keyword as a level.
fn from_word(word: &str) -> Option<Level> {
    match word {
        "ERROR" | "ERR" | "FATAL" | "CRITICAL" | "PANIC" => Some(Level::Error),
        "WARN" | "WARNING" => Some(Level::Warn),
        "INFO" | "NOTICE" => Some(Level::Info),
        "DEBUG" | "TRACE" => Some(Level::Debug),
        _ => None,
    }
}

/// A JSON object line laid out over several lines, or `None` when the line is not one.
pub fn pretty_json(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    serde_json::to_string_pretty(&value).ok()
}
