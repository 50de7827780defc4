//! Pasted text (bracketed paste): it lands as text in the focused field, never as key presses.
//! Multi-line fields (the message box, a card's description) keep the line breaks; one-line
//! fields (titles, the filter, the palette) get spaces instead.

use super::app::App;
use super::screens;
use super::state::Overlay;
use crate::keymap::Context;

/// Terminals send line breaks in a paste as CR (or CR LF); tabs would be dropped by the
/// sanitiser. Returns the text with `\n` line breaks and no control characters.
pub fn normalise(text: &str) -> String {
    let unified = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\t', "    ");
    crate::sanitize::block(&unified)
}

/// The text for a one-line field: line breaks become spaces, trailing ones go.
pub(crate) fn one_line(text: &str) -> String {
    text.trim_end_matches('\n').replace('\n', " ")
}

impl App {
    /// Pastes text into the focused text field. In the chat screen without the message box
    /// open, the paste opens it; where no field takes text, the user is told where to paste.
    pub fn on_paste(&mut self, text: &str) {
        let text = normalise(text);
        if text.is_empty() {
            return;
        }
        match self.context() {
            Context::Palette => {
                if let Some(Overlay::Palette { input, selected }) = self.overlay.as_mut() {
                    input.insert_str(one_line(&text));
                    *selected = 0;
                }
            }
            Context::Prompt => {
                if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                    prompt.input.insert_str(one_line(&text));
                    prompt.error = None;
                    prompt.selected = 0;
                }
            }
            context => {
                if !screens::paste(self, context, &text) {
                    self.paste_elsewhere();
                }
            }
        }
    }

    fn paste_elsewhere(&mut self) {
        self.notify(
            "nothing here takes text: open the message box or a card editor, then paste",
            false,
        );
    }
}
