//! Validation of user-supplied text: names, titles, bodies and labels.

use warren_protocol::{ErrorCode, Id};

use super::ApplyError;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A one-line name (board, column, room, title): trimmed, non-empty, no control characters, at
/// most `max` characters.
pub fn one_line(what: &str, value: &str, max: usize) -> Result<String, ApplyError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} must not be empty"),
        ));
    }
    if has_control(trimmed) {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} must be a single line without control characters"),
        ));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} is {chars} characters long; the limit is {max}"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Multi-line markdown (a description or message body). Line endings are normalised first (CRLF
/// and a lone CR become LF, so no stored text can move a terminal's cursor back to column 0) and
/// trailing whitespace is trimmed; the result is then measured in UTF-8 bytes against `max`.
/// Newlines and tabs are allowed, other control characters are not. `required` rejects blank text.
pub fn markdown(what: &str, value: &str, max: usize, required: bool) -> Result<String, ApplyError> {
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    let normalised = normalised.trim_end();
    if required && normalised.trim().is_empty() {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} must not be empty"),
        ));
    }
    if normalised.len() > max {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} is {} bytes; the limit is {max}", normalised.len()),
        ));
    }
    if normalised
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("{what} contains control characters; send plain text or markdown"),
        ));
    }
    Ok(normalised.to_owned())
}

/// A card's labels: each a non-empty line of at most `max_chars`, at most `max_count`, duplicates
/// dropped (keeping the first). Labels are the same when their Unicode lowercase forms are equal
/// (`str::to_lowercase`: `Ü` and `ü` match; no full case folding, so `ß` and `ss` differ).
pub fn labels(
    values: &[String],
    max_count: usize,
    max_chars: usize,
) -> Result<Vec<String>, ApplyError> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let label = one_line("a label", value, max_chars)?;
        let folded = label.to_lowercase();
        if !out.iter().any(|l| l.to_lowercase() == folded) {
            out.push(label);
        }
    }
    if out.len() > max_count {
        return Err(ApplyError::reject(
            ErrorCode::Validation,
            format!("a card has at most {max_count} labels; got {}", out.len()),
        ));
    }
    Ok(out)
}

/// Refuses `name` when another of `named` (each a name and its id; `except` is the one being
/// renamed) already has it, ignoring ASCII case. `kind` (`job`, `provider`) names the thing and
/// its `warren KIND edit` command.
pub fn refuse_taken_name<'a>(
    kind: &str,
    name: &str,
    except: Option<&Id>,
    named: impl IntoIterator<Item = (&'a str, &'a Id)>,
) -> Result<(), ApplyError> {
    match named
        .into_iter()
        .find(|(other, id)| other.eq_ignore_ascii_case(name) && Some(*id) != except)
    {
        Some((other, _)) => Err(ApplyError::reject(
            ErrorCode::Conflict,
            format!(
                "a {kind} named {other:?} already exists; pick another name or change it with `warren {kind} edit {other}`"
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_normalises_line_endings_and_measures_after_trimming() {
        let text = markdown("a body", "one\r\ntwo\rthree\r\r\n  \n", 100, true);
        assert_eq!(
            text.map_err(|e| e.to_string()),
            Ok("one\ntwo\nthree".to_owned())
        );
        let padded = format!("{}\n\n\n", "x".repeat(10));
        assert!(markdown("a body", &padded, 10, true).is_ok());
        assert!(markdown("a body", &"x".repeat(11), 10, true).is_err());
        assert!(markdown("a body", "bell\u{7}", 100, true).is_err());
        assert!(markdown("a body", "\r\n \r", 100, true).is_err());
    }

    #[test]
    fn labels_match_by_unicode_lowercase() {
        let given = ["Ünïcode", "ünïcode", "UI", "ui", "straße", "STRASSE"].map(String::from);
        let kept = labels(&given, 20, 50).map_err(|e| e.to_string());
        assert_eq!(
            kept,
            Ok(vec![
                "Ünïcode".to_owned(),
                "UI".to_owned(),
                "straße".to_owned(),
                "STRASSE".to_owned()
            ])
        );
    }
}
