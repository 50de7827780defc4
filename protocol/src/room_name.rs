//! The rule for room names, shared by the server (which enforces it) and clients (which check
//! before sending): like Slack channel names, 1–80 characters of lowercase letters, digits, `-`
//! and `_`. A leading `#` is not part of the name.

/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 80;

/// The rule in words, for error messages.
pub const ROOM_NAME_RULE: &str =
    "room names use lowercase letters, digits, '-' and '_' (1 to 80 characters, no spaces)";

fn allowed(c: char) -> bool {
    c.is_lowercase() && c.is_alphabetic() || c.is_numeric() || c == '-' || c == '_'
}

/// Why `name` is not a valid room name, or `None` if it is. "Lowercase letters" are letters
/// that have case and are lowercase (`a`–`z`, `é`, `ß`, …), and "digits" are Unicode digits;
/// letters without case (CJK, say) are not allowed, so every name has one spelling.
pub fn problem(name: &str) -> Option<String> {
    let count = name.chars().count();
    if count == 0 {
        return Some(format!("a room name must not be empty; {ROOM_NAME_RULE}"));
    }
    if count > MAX_ROOM_NAME_CHARS {
        return Some(format!(
            "the room name is {count} characters long; {ROOM_NAME_RULE}"
        ));
    }
    if name.chars().all(allowed) {
        return None;
    }
    let suggestion = suggest(name);
    let hint = if suggestion.is_empty() || suggestion == name {
        String::new()
    } else {
        format!("; try {suggestion:?}")
    };
    Some(format!(
        "{name:?} is not a valid room name: {ROOM_NAME_RULE}{hint}"
    ))
}

/// A valid name close to `name`: lowercased, spaces and dots as `-`, other characters dropped,
/// cut at the length limit. Empty when nothing usable is left.
pub fn suggest(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().trim_start_matches('#').chars() {
        for lower in c.to_lowercase() {
            if allowed(lower) {
                out.push(lower);
            } else if (lower.is_whitespace() || lower == '.') && !out.ends_with('-') {
                out.push('-');
            }
        }
    }
    out.trim_matches('-')
        .chars()
        .take(MAX_ROOM_NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_like_names_pass() {
        for ok in [
            "general",
            "dev-ops",
            "team_2",
            "q3",
            "café",
            &"a".repeat(80),
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn other_names_say_what_is_allowed_and_suggest_one() {
        for (bad, hint) in [
            ("General", Some("general")),
            ("dev ops", Some("dev-ops")),
            ("a.b", Some("a-b")),
            ("", None),
            ("日本", None),
            ("x\u{1b}[31m", Some("x31m")),
        ] {
            let message = problem(bad).unwrap_or_default();
            assert!(
                message.contains("lowercase letters, digits"),
                "{bad:?}: {message}"
            );
            if let Some(hint) = hint {
                assert!(message.contains(&format!("try {hint:?}")), "{message}");
            }
        }
        let long = problem(&"a".repeat(81)).unwrap_or_default();
        assert!(long.contains("81 characters"), "{long}");
    }
}
