//! Terminal safety for job output: the bytes of a log line are run through `vte`'s parser and
//! only printable text and SGR colour and style survive. OSC (titles, clipboard), cursor moves,
//! screen clears, DCS strings and every control character are dropped; tabs become spaces.
//! Colours are fitted to what the terminal shows ([`ColorSupport`]) and vanish under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use unicode_width::UnicodeWidthChar;
use vte::{Params, Parser, Perform};

use crate::theme::ColorSupport;

/// Tab stops every this many columns.
const TAB: usize = 8;

/// A line's text split into runs of one style each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Styled {
    /// The runs in order; their text has no control characters.
    pub runs: Vec<(String, Style)>,
}

impl Styled {
    /// The text without styles.
    pub fn text(&self) -> String {
        self.runs.iter().map(|(t, _)| t.as_str()).collect()
    }

    /// The runs as ratatui spans.
    pub fn spans(&self) -> Vec<Span<'static>> {
        self.runs
            .iter()
            .map(|(t, s)| Span::styled(t.clone(), *s))
            .collect()
    }
}

/// Parses a line's raw bytes into styled runs, keeping only SGR (colours fitted to `support`).
pub fn parse(bytes: &[u8], support: ColorSupport) -> Styled {
    let mut sink = Sink {
        support,
        style: Style::default(),
        runs: Vec::new(),
        column: 0,
    };
    let mut parser: Parser = Parser::new();
    parser.advance(&mut sink, bytes);
    Styled { runs: sink.runs }
}

/// The printable text of a line: what filters and searches match against.
pub fn plain(bytes: &[u8]) -> String {
    parse(bytes, ColorSupport::None).text()
}

struct Sink {
    support: ColorSupport,
    style: Style,
    runs: Vec<(String, Style)>,
    column: usize,
}

impl Sink {
    fn push(&mut self, c: char) {
        self.column += c.width().unwrap_or(0);
        match self.runs.last_mut() {
            Some((text, style)) if *style == self.style => text.push(c),
            _ => self.runs.push((c.to_string(), self.style)),
        }
    }

    fn color(&self, color: Color) -> Option<Color> {
        self.support.degrade(color)
    }

    fn sgr(&mut self, params: &Params) {
        let mut codes = params.iter().peekable();
        if codes.peek().is_none() {
            self.style = Style::default();
            return;
        }
        while let Some(param) = codes.next() {
            let code = param.first().copied().unwrap_or(0);
            match code {
                0 => self.style = Style::default(),
                1 => self.style = self.style.add_modifier(Modifier::BOLD),
                2 => self.style = self.style.add_modifier(Modifier::DIM),
                3 => self.style = self.style.add_modifier(Modifier::ITALIC),
                4 => self.style = self.style.add_modifier(Modifier::UNDERLINED),
                7 => self.style = self.style.add_modifier(Modifier::REVERSED),
                9 => self.style = self.style.add_modifier(Modifier::CROSSED_OUT),
                22 => self.style = self.style.remove_modifier(Modifier::BOLD | Modifier::DIM),
                23 => self.style = self.style.remove_modifier(Modifier::ITALIC),
                24 => self.style = self.style.remove_modifier(Modifier::UNDERLINED),
                27 => self.style = self.style.remove_modifier(Modifier::REVERSED),
                29 => self.style = self.style.remove_modifier(Modifier::CROSSED_OUT),
                30..=37 | 90..=97 => self.set_fg(Some(basic(code))),
                40..=47 | 100..=107 => self.set_bg(Some(basic(code - 10))),
                39 => self.set_fg(None),
                49 => self.set_bg(None),
                38 | 48 => {
                    // Either `38;5;N` / `38;2;R;G;B` or the colon form `38:5:N` / `38:2::R:G:B`.
                    let color = if param.len() > 1 {
                        extended(&param[1..])
                    } else {
                        let kind = codes.next().and_then(|p| p.first().copied());
                        match kind {
                            Some(5) => codes
                                .next()
                                .and_then(|p| p.first().copied())
                                .and_then(|n| u8::try_from(n).ok())
                                .map(Color::Indexed),
                            Some(2) => {
                                let mut channel = || codes.next().and_then(|p| p.first().copied());
                                let (r, g, b) = (channel(), channel(), channel());
                                rgb(r, g, b)
                            }
                            _ => None,
                        }
                    };
                    if let Some(color) = color {
                        if code == 38 {
                            self.set_fg(Some(color));
                        } else {
                            self.set_bg(Some(color));
                        }
                    }
                }
                // Blink, hidden text, fonts, overlines: not worth carrying (hidden would let a
                // job hide text in its own log).
                _ => {}
            }
        }
    }

    fn set_fg(&mut self, color: Option<Color>) {
        self.style.fg = color.and_then(|c| self.color(c));
    }

    fn set_bg(&mut self, color: Option<Color>) {
        self.style.bg = color.and_then(|c| self.color(c));
    }
}

/// `5:N` or `2:[colour space]:R:G:B` (colon sub-parameters).
fn extended(sub: &[u16]) -> Option<Color> {
    match sub {
        [5, n, ..] => u8::try_from(*n).ok().map(Color::Indexed),
        [2, _, r, g, b, ..] | [2, r, g, b] => rgb(Some(*r), Some(*g), Some(*b)),
        _ => None,
    }
}

fn rgb(r: Option<u16>, g: Option<u16>, b: Option<u16>) -> Option<Color> {
    let c = |v: Option<u16>| v.and_then(|v| u8::try_from(v).ok());
    Some(Color::Rgb(c(r)?, c(g)?, c(b)?))
}

/// SGR 30–37 and 90–97 as the 16 ANSI colours.
fn basic(code: u16) -> Color {
    match code {
        30 => Color::Black,
        31 => Color::Red,
        32 => Color::Green,
        33 => Color::Yellow,
        34 => Color::Blue,
        35 => Color::Magenta,
        36 => Color::Cyan,
        37 => Color::Gray,
        90 => Color::DarkGray,
        91 => Color::LightRed,
        92 => Color::LightGreen,
        93 => Color::LightYellow,
        94 => Color::LightBlue,
        95 => Color::LightMagenta,
        96 => Color::LightCyan,
        _ => Color::White,
    }
}

impl Perform for Sink {
    fn print(&mut self, c: char) {
        // vte hands over C1 controls and format characters (bidi overrides) as text.
        if c.is_control() || is_invisible(c) {
            return;
        }
        self.push(c);
    }

    fn execute(&mut self, byte: u8) {
        if byte == b'\t' {
            let pad = TAB - self.column % TAB;
            for _ in 0..pad {
                self.push(' ');
            }
        }
        // Every other C0 control (CR, BEL, BS, …) is dropped.
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if action == 'm' && intermediates.is_empty() && !ignore {
            self.sgr(params);
        }
        // Cursor moves, erases, scroll regions, modes: dropped.
    }

    // OSC, DCS and plain ESC sequences fall to the trait's defaults: nothing happens.
}

/// Bidi overrides and isolates: they draw nothing but reorder what follows (as in `sanitize`).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
