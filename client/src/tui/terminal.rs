//! Taking over the terminal and giving it back: ratatui's raw mode and alternate screen, plus
//! bracketed paste (so a paste arrives as one `Event::Paste`, not as key presses). Every way out
//! gives the terminal back as it was: the normal return, an error, and a panic.

use std::io::stdout;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::DefaultTerminal;

/// Takes over the terminal. A panic from here on also turns bracketed paste off again (ratatui's
/// own hook restores the rest).
pub fn take_over() -> std::io::Result<DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    let _ = crossterm::execute!(stdout(), EnableBracketedPaste);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(stdout(), DisableBracketedPaste);
        previous(info);
    }));
    Ok(terminal)
}

/// Gives the terminal back.
pub fn give_back() {
    let _ = crossterm::execute!(stdout(), DisableBracketedPaste);
    ratatui::restore();
}
