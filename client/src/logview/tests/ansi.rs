//! Terminal safety: only SGR survives, colours fit the terminal, hostile input is inert.

use ratatui::style::{Color, Modifier, Style};

use crate::logview::ansi::{parse, plain};
use crate::theme::ColorSupport;

#[test]
fn sgr_colour_and_style_survive_as_runs() {
    let styled = parse(
        b"\x1b[1;31mred\x1b[0m plain \x1b[4mline",
        ColorSupport::TrueColor,
    );
    assert_eq!(
        styled.runs,
        vec![
            (
                "red".to_owned(),
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            ),
            (" plain ".to_owned(), Style::default()),
            (
                "line".to_owned(),
                Style::default().add_modifier(Modifier::UNDERLINED)
            ),
        ]
    );
}

#[test]
fn extended_colours_in_both_spellings() {
    let semi = parse(b"\x1b[38;2;10;20;30;48;5;200mx", ColorSupport::TrueColor);
    let colon = parse(b"\x1b[38:2::10:20:30;48:5:200mx", ColorSupport::TrueColor);
    let want = Style::default()
        .fg(Color::Rgb(10, 20, 30))
        .bg(Color::Indexed(200));
    assert_eq!(semi.runs, vec![("x".to_owned(), want)]);
    assert_eq!(colon.runs, semi.runs);
}

#[test]
fn colours_are_reduced_to_the_terminal_and_dropped_under_no_color() {
    let bytes = b"\x1b[1;38;2;250;10;10mhot";
    let ansi16 = parse(bytes, ColorSupport::Ansi16);
    let fg = ansi16.runs[0].1.fg;
    assert!(
        matches!(fg, Some(Color::Red | Color::LightRed)),
        "true colour red becomes an ANSI red on a 16-colour terminal, got {fg:?}"
    );
    let ansi256 = parse(bytes, ColorSupport::Ansi256);
    assert!(matches!(ansi256.runs[0].1.fg, Some(Color::Indexed(_))));
    let none = parse(bytes, ColorSupport::None);
    assert_eq!(
        none.runs,
        vec![(
            "hot".to_owned(),
            Style::default().add_modifier(Modifier::BOLD)
        )],
        "NO_COLOR: no colour at all, the style stays"
    );
}

#[test]
fn hostile_escapes_and_controls_are_removed() {
    let hostile = concat!(
        "\x1b]0;pwned title\x07",    // OSC 0: window title (BEL)
        "a\x1b[2J",                  // clear screen
        "b\x1b]52;c;c2VjcmV0\x1b\\", // OSC 52: clipboard write (ST)
        "c\x1b[10;10H",              // cursor move
        "d\rX\x08\x07",              // CR, backspace, bell
        "\x1bPqsixel\x1b\\",         // DCS
        "e\x1b[?1049h",              // alternate screen
        "f\x1b7\x1bc",               // save cursor, full reset
        "g\u{9d}0;c1 title\u{9c}",   // OSC as C1 characters
        "h\u{202e}i",                // bidi override
    );
    let text = plain(hostile.as_bytes());
    // The C1 OSC introducer is dropped; what it carried is left as inert text.
    assert_eq!(text, "abcdXefg0;c1 titlehi");
    assert!(text.chars().all(|c| !c.is_control()));
    assert!(!text.contains("pwned") && !text.contains("c2VjcmV0") && !text.contains("sixel"));
}

#[test]
fn tabs_expand_to_stops_and_invalid_utf8_does_not_panic() {
    assert_eq!(plain(b"a\tb\tc"), "a       b       c");
    let text = plain(b"ok \xff\xfe done");
    assert!(
        text.starts_with("ok ") && text.ends_with(" done"),
        "{text:?}"
    );
}
