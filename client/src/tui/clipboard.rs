//! Copying text to the system clipboard through the terminal (OSC 52). It is opt-in
//! (`[ui] osc52 = true` in config.toml) because some terminals refuse or mishandle it; when it
//! is off, the copy action says how to turn it on.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::app::App;
use super::screens::board;

/// The escape sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!("\u{1b}]52;c;{}\u{7}", STANDARD.encode(text))
}

/// Writes the OSC 52 sequence for `text` to the terminal.
pub fn write_to_terminal(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

impl App {
    /// The copy action: the open window's text (the join line, a secret, a card shown in full),
    /// else what the screen in front offers ([`super::screens::Screen::copy`]): the selected
    /// card (board) or message (chat) as text.
    pub fn copy_selection(&mut self) {
        let picked = match (&self.overlay, self.tab) {
            (Some(super::state::Overlay::Invite(shown)), _) => {
                Some(("the join line".to_owned(), self.join_line(&shown.code)))
            }
            (Some(super::state::Overlay::Secret(shown)), _) => {
                Some(("the token".to_owned(), shown.secret.clone()))
            }
            (Some(super::state::Overlay::Detail { card, .. }), _) => self
                .view()
                .card(card)
                .map(|c| (format!("card #{}", c.number), board::card_text(c))),
            (_, tab) => tab.screen().copy(self),
        };
        let Some((what, text)) = picked else {
            self.notify("Nothing to copy: select a card or a message first", false);
            return;
        };
        if !self.osc52 {
            let path = self.config_path.as_deref().unwrap_or("config.toml");
            self.notify(
                format!(
                    "Copying is off: it goes through the terminal (OSC 52), which some terminals refuse. To turn it on, add 'osc52 = true' under [ui] in {path} and restart warren"
                ),
                true,
            );
            return;
        }
        self.copy_request = Some(text);
        self.notify(format!("Copied {what} to the clipboard"), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_osc_52_with_base64() {
        assert_eq!(osc52("hi"), "\u{1b}]52;c;aGk=\u{7}");
    }
}
