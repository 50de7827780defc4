//! Key strings: `q`, `Q`, `ctrl-c`, `alt-enter`, `shift-tab`, `f5`, `?`. A [`KeyBinding`] is a
//! crossterm key code plus modifiers, normalised so that every way of writing (or of a terminal
//! reporting) the same key compares equal: `shift-a` == `A`, `shift-tab` == `backtab`.

use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key with its modifiers, as bound in a keymap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Why a key string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("empty key")]
    Empty,
    #[error(
        "unknown key {0:?}; use a single character or a name such as enter, esc, tab, space, up, pageup, f1"
    )]
    UnknownKey(String),
    #[error("{0} is not a key on its own; add a key after it, such as {0}-x")]
    ModifierOnly(String),
    #[error("{0:?} is written twice")]
    RepeatedModifier(String),
}

/// Named keys: the canonical name first, then aliases.
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
    ("minus", KeyCode::Char('-')),
];

impl KeyBinding {
    /// A binding from parts, normalised.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut binding = Self { code, modifiers };
        binding.normalise();
        binding
    }

    /// The binding a key event from the terminal matches.
    pub fn from_event(event: &KeyEvent) -> Self {
        Self::new(event.code, event.modifiers)
    }

    /// Whether typing this key in a text field would insert a character (no ctrl or alt).
    pub fn is_printable(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// Shift is folded into the character (`shift-a` is `A`, `?` never carries shift) and into
    /// back-tab, because terminals disagree about reporting it.
    fn normalise(&mut self) {
        match self.code {
            KeyCode::Char(c) => {
                if self.modifiers.contains(KeyModifiers::SHIFT) && c.is_lowercase() {
                    let mut upper = c.to_uppercase();
                    if let (Some(u), None) = (upper.next(), upper.next()) {
                        self.code = KeyCode::Char(u);
                    }
                }
                self.modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::Tab if self.modifiers.contains(KeyModifiers::SHIFT) => {
                self.code = KeyCode::BackTab;
                self.modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::BackTab => self.modifiers.remove(KeyModifiers::SHIFT),
            _ => {}
        }
    }
}

impl FromStr for KeyBinding {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = s;
        // Strip `mod-` prefixes while something is left after them, so `-` and `ctrl--` work.
        'strip: loop {
            for (name, modifier) in [
                ("ctrl-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ] {
                let Some(head) = rest.get(..name.len()) else {
                    continue;
                };
                if head.eq_ignore_ascii_case(name) && rest.len() > name.len() {
                    if modifiers.contains(modifier) {
                        return Err(KeyParseError::RepeatedModifier(name.to_owned()));
                    }
                    modifiers |= modifier;
                    rest = &rest[name.len()..];
                    continue 'strip;
                }
            }
            break;
        }
        let code = parse_code(rest)?;
        Ok(Self::new(code, modifiers))
    }
}

fn parse_code(s: &str) -> Result<KeyCode, KeyParseError> {
    let mut chars = s.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_control() {
            return Err(KeyParseError::UnknownKey(s.to_owned()));
        }
        return Ok(KeyCode::Char(c));
    }
    let lower = s.to_ascii_lowercase();
    if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == lower) {
        return Ok(*code);
    }
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
        && (1..=24).contains(&n)
        && !lower.starts_with("f0")
    {
        return Ok(KeyCode::F(n));
    }
    if ["ctrl", "alt", "shift"].contains(&lower.as_str()) {
        return Err(KeyParseError::ModifierOnly(lower));
    }
    Err(KeyParseError::UnknownKey(s.to_owned()))
}

impl fmt::Display for KeyBinding {
    /// The canonical key string, which parses back to the same binding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => match NAMED.iter().find(|(_, named)| *named == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> KeyBinding {
        s.parse()
            .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    #[test]
    fn shift_is_folded_into_letters_and_tab() {
        assert_eq!(key("shift-a"), key("A"));
        assert_eq!(key("A").code, KeyCode::Char('A'));
        assert_eq!(key("A").modifiers, KeyModifiers::NONE);
        assert_eq!(key("shift-tab"), key("backtab"));
        assert_eq!(key("ctrl-shift-x"), key("ctrl-X"));
        assert_ne!(key("shift-left"), key("left"));
    }

    #[test]
    fn terminal_events_match_their_key_strings() {
        let event = KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from_event(&event), key("A"));
        let event = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from_event(&event), key("?"));
        let event = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(KeyBinding::from_event(&event), key("shift-tab"));
        let event = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(KeyBinding::from_event(&event), key("ctrl-c"));
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for (input, canonical) in [
            ("q", "q"),
            ("Q", "Q"),
            ("shift-q", "Q"),
            ("Ctrl-c", "ctrl-c"),
            ("ctrl-C", "ctrl-C"),
            ("alt-ctrl-x", "ctrl-alt-x"),
            ("backtab", "shift-tab"),
            ("Enter", "enter"),
            ("escape", "esc"),
            ("space", "space"),
            (" ", "space"),
            ("ctrl-enter", "ctrl-enter"),
            ("shift-left", "shift-left"),
            ("pagedown", "pagedown"),
            ("F12", "f12"),
            ("-", "-"),
            ("ctrl--", "ctrl--"),
            ("minus", "-"),
            ("/", "/"),
            ("?", "?"),
            ("del", "delete"),
        ] {
            let parsed = key(input);
            assert_eq!(parsed.to_string(), canonical, "{input:?}");
            assert_eq!(key(canonical), parsed, "{canonical:?}");
        }
    }

    #[test]
    fn bad_key_strings_are_rejected() {
        for bad in [
            "",
            "ctrl",
            "ctrl-",
            "ctlr-x",
            "f0",
            "f25",
            "f01",
            "enterr",
            "ctrl-ctrl-x",
            "\t",
        ] {
            assert!(
                bad.parse::<KeyBinding>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn printable_means_it_would_be_typed() {
        assert!(key("q").is_printable());
        assert!(key("Q").is_printable());
        assert!(key("space").is_printable());
        assert!(!key("ctrl-q").is_printable());
        assert!(!key("enter").is_printable());
    }
}
