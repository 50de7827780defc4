//! How `warren log` prints a run's lines. A job's output is untrusted bytes: only SGR colour and
//! style may reach the terminal. Lines are parsed by the log viewer's `vte`-based parser
//! ([`crate::logview::ansi`]) and written out again as fresh SGR sequences, so cursor moves,
//! titles (OSC), clears and control characters never survive, with or without colour.

use std::fmt::Write as _;

use ratatui::style::{Color, Modifier, Style};
use warren_protocol::run::{LogLine, LogStream};

use crate::logview::ansi;
use crate::theme::ColorSupport;

/// What happens to a line's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// SGR colour and style kept, fitted to this colour depth; everything else removed.
    Sgr(ColorSupport),
    /// Every escape sequence and control character removed.
    Plain,
}

impl Colour {
    /// Colours are kept with `--raw` (in full), else only when stdout is a terminal and the
    /// environment allows colour (`NO_COLOR` unset, `TERM` not `dumb`).
    pub fn choose(raw: bool, stdout_is_terminal: bool, env: ColorSupport) -> Self {
        if raw {
            return Colour::Sgr(ColorSupport::TrueColor);
        }
        match env {
            ColorSupport::None => Colour::Plain,
            support if stdout_is_terminal => Colour::Sgr(support),
            _ => Colour::Plain,
        }
    }
}

/// How lines are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFormat {
    pub colour: Colour,
    /// Prefix each line with its local time (`12:41:05.123`).
    pub timestamps: bool,
}

/// Prints lines one after another, joining a `continued` line to the line it continues (no
/// newline between, no second timestamp), so that the output holds the job's own bytes. A line
/// joins only the line printed just before it, of its stream and numbered one less (not across
/// lines a filter left out or another stream's line). Each line's newline is written when the
/// next line shows it is not continued, or by [`Joiner::finish`].
#[derive(Debug, Default)]
pub struct Joiner {
    open: Option<(u64, LogStream)>,
}

impl Joiner {
    /// Appends `line` to `out`.
    pub fn push(&mut self, line: &LogLine, format: LineFormat, out: &mut String) {
        let joins = line.continued && self.open == Some((line.n.wrapping_sub(1), line.stream));
        if joins {
            let format = LineFormat {
                timestamps: false,
                ..format
            };
            out.push_str(&render(line, format));
        } else {
            if self.open.is_some() {
                out.push('\n');
            }
            out.push_str(&render(line, format));
        }
        self.open = Some((line.n, line.stream));
    }

    /// Ends the last line printed.
    pub fn finish(&mut self, out: &mut String) {
        if self.open.take().is_some() {
            out.push('\n');
        }
    }
}

/// One line as it is printed (without the newline).
pub fn render(line: &LogLine, format: LineFormat) -> String {
    let mut out = String::new();
    if format.timestamps {
        let time = clock(line.ts, crate::localtime::offset_secs(line.ts));
        match format.colour {
            Colour::Sgr(_) => {
                let _ = write!(out, "\u{1b}[2m{time}\u{1b}[0m ");
            }
            Colour::Plain => {
                let _ = write!(out, "{time} ");
            }
        }
    }
    match format.colour {
        Colour::Plain => out.push_str(&ansi::plain(line.text.as_bytes())),
        Colour::Sgr(support) => {
            // warren's own lines (started, exit code, truncation) are dimmed to stand apart.
            let base = if line.stream == LogStream::Sys {
                Style::default().add_modifier(Modifier::DIM)
            } else {
                Style::default()
            };
            out.push_str(&sgr_only(line.text.as_bytes(), support, base));
        }
    }
    out
}

/// The printable text of `bytes` with its SGR styling re-encoded (over `base`), and nothing else.
pub fn sgr_only(bytes: &[u8], support: ColorSupport, base: Style) -> String {
    let styled = ansi::parse(bytes, support);
    let mut out = String::new();
    let mut styled_any = false;
    for (text, style) in &styled.runs {
        let style = base.patch(*style);
        let codes = sgr_codes(style);
        if !codes.is_empty() {
            let _ = write!(out, "\u{1b}[0;{codes}m");
            styled_any = true;
        } else if styled_any {
            out.push_str("\u{1b}[0m");
            styled_any = false;
        }
        out.push_str(text);
    }
    if styled_any {
        out.push_str("\u{1b}[0m");
    }
    out
}

/// The SGR parameters of a style (empty for the default style).
fn sgr_codes(style: Style) -> String {
    let mut codes: Vec<String> = Vec::new();
    for (modifier, code) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::REVERSED, "7"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if style.add_modifier.contains(modifier) {
            codes.push(code.to_owned());
        }
    }
    if let Some(fg) = style.fg.and_then(|c| colour_code(c, false)) {
        codes.push(fg);
    }
    if let Some(bg) = style.bg.and_then(|c| colour_code(c, true)) {
        codes.push(bg);
    }
    codes.join(";")
}

fn colour_code(color: Color, background: bool) -> Option<String> {
    let shift = if background { 10 } else { 0 };
    let basic = |code: u8| Some((code + shift).to_string());
    match color {
        Color::Reset => None,
        Color::Black => basic(30),
        Color::Red => basic(31),
        Color::Green => basic(32),
        Color::Yellow => basic(33),
        Color::Blue => basic(34),
        Color::Magenta => basic(35),
        Color::Cyan => basic(36),
        Color::Gray => basic(37),
        Color::DarkGray => basic(90),
        Color::LightRed => basic(91),
        Color::LightGreen => basic(92),
        Color::LightYellow => basic(93),
        Color::LightBlue => basic(94),
        Color::LightMagenta => basic(95),
        Color::LightCyan => basic(96),
        Color::White => basic(97),
        Color::Indexed(i) => Some(format!("{};5;{i}", 38 + shift)),
        Color::Rgb(r, g, b) => Some(format!("{};2;{r};{g};{b}", 38 + shift)),
    }
}

/// `HH:MM:SS.mmm` of `ts_ms` at `offset_secs` east of UTC.
pub fn clock(ts_ms: i64, offset_secs: i64) -> String {
    let local = ts_ms.saturating_add(offset_secs.saturating_mul(1000));
    let in_day = local.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, stream: LogStream) -> LogLine {
        LogLine {
            n: 1,
            ts: 45_296_789,
            stream,
            text: text.to_owned(),
            continued: false,
        }
    }

    #[test]
    fn continued_lines_join_the_line_they_continue() {
        let piece = |n: u64, stream: LogStream, text: &str, continued: bool| LogLine {
            n,
            continued,
            ..line(text, stream)
        };
        let format = LineFormat {
            colour: Colour::Plain,
            timestamps: true,
        };
        let mut joiner = Joiner::default();
        let mut out = String::new();
        for l in [
            piece(1, LogStream::Out, "abc", false),
            piece(2, LogStream::Out, "def", true),
            piece(3, LogStream::Err, "err", false),
            // The previous line is another stream's: it starts a line of its own.
            piece(4, LogStream::Out, "ghi", true),
        ] {
            joiner.push(&l, format, &mut out);
        }
        // A filter left line 5 out: line 6 does not join line 4.
        joiner.push(&piece(6, LogStream::Out, "jkl", true), format, &mut out);
        joiner.finish(&mut out);
        let time = clock(45_296_789, crate::localtime::offset_secs(45_296_789));
        assert_eq!(
            out,
            format!("{time} abcdef\n{time} err\n{time} ghi\n{time} jkl\n")
        );
        let mut empty = String::new();
        Joiner::default().finish(&mut empty);
        assert_eq!(empty, "");
    }

    const NASTY: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[H\u{1b}[31mred\u{1b}[0m \u{1b}[1;38;5;208mbold orange\u{1b}[m\u{8}\u{7} done\r";

    #[test]
    fn only_sgr_survives_in_colour() {
        let text = render(
            &line(NASTY, LogStream::Out),
            LineFormat {
                colour: Colour::Sgr(ColorSupport::Ansi256),
                timestamps: false,
            },
        );
        assert_eq!(
            text,
            "\u{1b}[0;31mred\u{1b}[0m \u{1b}[0;1;38;5;208mbold orange\u{1b}[0m done"
        );
        // Every escape left is an SGR: ESC [ digits/semicolons m.
        for part in text.split('\u{1b}').skip(1) {
            let end = part
                .find('m')
                .unwrap_or_else(|| panic!("not SGR: {part:?}"));
            assert!(part.starts_with('['), "{part:?}");
            assert!(
                part[1..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
                "{part:?}"
            );
        }
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\u{1b}'),
            "{text:?}"
        );
    }

    #[test]
    fn without_colour_every_escape_is_stripped() {
        let text = render(
            &line(NASTY, LogStream::Err),
            LineFormat {
                colour: Colour::Plain,
                timestamps: false,
            },
        );
        assert_eq!(text, "red bold orange done");
    }

    #[test]
    fn colours_follow_raw_the_terminal_and_no_color() {
        let env = ColorSupport::Ansi16;
        assert_eq!(Colour::choose(false, true, env), Colour::Sgr(env));
        assert_eq!(Colour::choose(false, false, env), Colour::Plain);
        assert_eq!(
            Colour::choose(false, true, ColorSupport::None),
            Colour::Plain
        );
        assert_eq!(
            Colour::choose(true, false, ColorSupport::None),
            Colour::Sgr(ColorSupport::TrueColor)
        );
        // NO_COLOR as the environment reports it.
        let no_color = ColorSupport::from_env(|name| (name == "NO_COLOR").then(|| "1".to_owned()));
        assert_eq!(Colour::choose(false, true, no_color), Colour::Plain);
    }

    #[test]
    fn colour_depth_is_reduced_for_the_terminal() {
        let text = sgr_only(
            b"\x1b[38;2;255;0;0mx",
            ColorSupport::Ansi16,
            Style::default(),
        );
        assert!(text.starts_with("\u{1b}[0;"), "{text:?}");
        assert!(!text.contains("38;2"), "{text:?}");
    }

    #[test]
    fn system_lines_are_dimmed_and_timestamps_are_local_clock_times() {
        let text = render(
            &line("exit code 0", LogStream::Sys),
            LineFormat {
                colour: Colour::Sgr(ColorSupport::Ansi16),
                timestamps: false,
            },
        );
        assert_eq!(text, "\u{1b}[0;2mexit code 0\u{1b}[0m");
        assert_eq!(clock(45_296_789, 0), "12:34:56.789");
        assert_eq!(clock(45_296_789, 3600), "13:34:56.789");
        assert_eq!(clock(1000, -7200), "22:00:01.000");
    }
}
