//! The widget at 80x24: insta snapshots of the text, and cell styles where colour means something.

use crossterm::event::KeyCode;
use ratatui::style::Color;

use crate::logview::tests::fixture::{Million, build_log, draw, key, memory, row, typed, view};
use crate::logview::{LineSource, LogView, LogViewWidget};
use crate::theme::{ColorSupport, Theme};

#[test]
fn following_shows_the_tail() {
    let v = view(build_log(60));
    insta::assert_snapshot!(draw(&v, 80, 24).backend());
}

#[test]
fn the_rest_of_a_cut_line_is_marked_in_the_gutter() {
    let mut source = memory(&["building"]);
    let stream = crate::logview::Stream::Stdout;
    source.push_piece(stream, 0, "progress: 10%", false);
    source.push_piece(stream, 0, " 50%", true);
    source.push_piece(stream, 0, " 100%", true);
    source.push(stream, 0, "done");
    let v = view(source);
    let terminal = draw(&v, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let marked: Vec<String> = (0..6)
        .map(|y| row(&terminal, y))
        .filter(|r| r.starts_with('↪'))
        .collect();
    assert_eq!(marked.len(), 2, "only the two continued pieces: {marked:?}");
    assert!(
        marked[0].contains("3  50%"),
        "line numbers stay the wire's: {marked:?}"
    );
}

#[test]
fn filtered_with_timestamps() {
    let mut v = view(build_log(60));
    key(&mut v, KeyCode::Char('t'));
    typed(&mut v, "&compiling|error\n");
    insta::assert_snapshot!(draw(&v, 80, 24).backend());
}

#[test]
fn an_error_jump_puts_the_error_on_top_in_the_error_colour() {
    let mut v = view(build_log(60));
    key(&mut v, KeyCode::Char('g'));
    key(&mut v, KeyCode::Char('e'));
    let terminal = draw(&v, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    assert!(row(&terminal, 0).contains("mismatched types"));
    let buffer = terminal.backend().buffer();
    let error_fg = Theme::default().style("ui.error").fg;
    let x = row(&terminal, 0)
        .find(": mismatched")
        .map_or(0, |x| x as u16);
    assert_eq!(
        buffer[(x + 2, 0)].style().fg,
        error_fg,
        "uncoloured text of an error line takes the error colour"
    );
    let red = row(&terminal, 0).find("error[").map_or(0, |x| x as u16);
    assert_eq!(
        buffer[(red, 0)].style().fg,
        Some(Color::Red),
        "the job's own colour wins"
    );
}

#[test]
fn wrapped_long_lines_and_pretty_json() {
    let long = format!("INFO {}", "lorem ipsum dolor sit amet ".repeat(7));
    let mut v = view(memory(&[
        "short line",
        &long,
        r#"{"level":"warn","msg":"disk almost full","used":0.93}"#,
        "last line",
    ]));
    key(&mut v, KeyCode::Char('s'));
    key(&mut v, KeyCode::Char('p'));
    insta::assert_snapshot!(draw(&v, 80, 24).backend());
}

#[test]
fn hostile_escapes_are_removed_from_the_screen() {
    let v = view(memory(&[
        "\x1b]0;pwned\x07title set?",
        "\x1b[2J\x1b[Hscreen cleared?",
        "\x1b]52;c;c2VjcmV0\x07clipboard written?",
        "\x1b[31mred\x1b[0m and \x1b[10Acursor moved?",
        "bell\x07 backspace\x08 cr\r done",
    ]));
    let terminal = draw(&v, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    for y in 0..24 {
        let text = row(&terminal, y);
        assert!(
            !text.contains("pwned") && !text.contains("c2VjcmV0"),
            "{text}"
        );
        assert!(text.chars().all(|c| !c.is_control()), "{text:?}");
    }
}

#[test]
fn search_matches_are_highlighted() {
    let mut v = view(build_log(60));
    key(&mut v, KeyCode::Char('g'));
    typed(&mut v, "/crate-\\d+\n");
    let terminal = draw(&v, 80, 24);
    let line = row(&terminal, 0);
    let x = line.find("crate-7").map_or(0, |x| x as u16);
    let matched = Theme::default().style("ui.match");
    let cell = terminal.backend().buffer()[(x, 0)].style();
    assert_eq!(cell.bg, matched.bg.or(cell.bg));
    assert_eq!(cell.fg, matched.fg.or(cell.fg));
    assert_ne!(
        terminal.backend().buffer()[(x + 8, 0)].style(),
        cell,
        "only the match is highlighted"
    );
    assert!(matched.fg.is_some() || matched.bg.is_some() || !matched.add_modifier.is_empty());
}

#[test]
fn no_color_drops_the_jobs_colours() {
    let v = LogView::new(
        memory(&["\x1b[38;5;196mred\x1b[0m text"]),
        ColorSupport::None,
    );
    let theme = Theme::default().resolve(ColorSupport::None);
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(40, 3)).expect("terminal");
    terminal
        .draw(|f| f.render_widget(LogViewWidget::new(&v, &theme), f.area()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    for x in 0..40 {
        let fg = buffer[(x, 0)].style().fg;
        assert!(matches!(fg, None | Some(Color::Reset)), "x={x}: {fg:?}");
    }
}

#[test]
fn any_size_draws_without_panicking() {
    let mut v = view(Million::new());
    for (w, h) in [(1, 1), (2, 2), (10, 3), (200, 60), (80, 1)] {
        let _ = draw(&v, w, h);
    }
    key(&mut v, KeyCode::Char('s'));
    key(&mut v, KeyCode::Char('g'));
    let _ = draw(&v, 5, 5);
    let empty = view(memory(&[]));
    assert!(row(&draw(&empty, 40, 3), 0).contains("waiting for output"));
    assert_eq!(v.source().len(), crate::logview::tests::fixture::MILLION);
}

#[test]
fn cut_lines_scroll_sideways_and_timestamps_follow_the_zone() {
    let long = format!("start {}end", "x".repeat(100));
    let mut v = view(memory(&[&long]));
    key(&mut v, KeyCode::Char('t'));
    let utc = row(&draw(&v, 80, 24), 0);
    assert!(utc.contains("09:00:00.000 start"), "{utc}");
    v.set_zone(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)));
    assert!(row(&draw(&v, 80, 24), 0).contains("11:00:00.000 start"));
    for _ in 0..13 {
        key(&mut v, KeyCode::Right);
    }
    let shifted = row(&draw(&v, 80, 24), 0);
    assert!(shifted.trim_end().ends_with("end"), "{shifted}");
    assert!(!shifted.contains("start"));
    key(&mut v, KeyCode::Char('s'));
    assert!(
        row(&draw(&v, 80, 24), 0).contains("start"),
        "wrapping shows lines from their first column"
    );
}

#[test]
fn real_shell_output_keeps_colour_and_loses_everything_else() {
    let script = r#"printf '\033]0;owned\007\033[32mPASS\033[0m unit\n\033[2J\033[1;31mFAIL\033[0m e2e ERROR\n\033]52;c;c2VjcmV0\007tail\t|\n'"#;
    let output = std::process::Command::new("sh")
        .args(["-c", script])
        .output()
        .expect("run sh");
    assert!(output.status.success());
    let mut source = crate::logview::MemorySource::new();
    for (i, bytes) in output.stdout.split(|&b| b == b'\n').enumerate() {
        if !bytes.is_empty() {
            source.push(crate::logview::Stream::Stdout, i as i64, bytes);
        }
    }
    let v = view(source);
    let terminal = draw(&v, 40, 5);
    let rows: Vec<String> = (0..3).map(|y| row(&terminal, y)).collect();
    assert_eq!(rows[0].trim_end(), "    1 PASS unit");
    assert_eq!(rows[1].trim_end(), "    2 FAIL e2e ERROR");
    assert_eq!(rows[2].trim_end(), "    3 tail    |");
    let buffer = terminal.backend().buffer();
    assert_eq!(buffer[(6, 0)].style().fg, Some(Color::Green));
    assert_eq!(buffer[(6, 1)].style().fg, Some(Color::Red));
}

#[test]
fn with_wrapping_the_last_line_can_be_scrolled_to() {
    let long = "word ".repeat(40);
    let lines: Vec<&str> = std::iter::repeat_n(long.as_str(), 30).collect();
    let mut source = memory(&lines);
    source.push(crate::logview::Stream::Stdout, 0, "the very last line");
    let mut v = view(source);
    key(&mut v, KeyCode::Char('s'));
    key(&mut v, KeyCode::Char('g'));
    for _ in 0..100 {
        key(&mut v, KeyCode::Char('j'));
    }
    let terminal = draw(&v, 80, 24);
    let shown: Vec<String> = (0..23).map(|y| row(&terminal, y)).collect();
    assert!(
        shown.iter().any(|r| r.contains("the very last line")),
        "{shown:#?}"
    );
    key(&mut v, KeyCode::Char('F'));
    let terminal = draw(&v, 80, 24);
    assert!(row(&terminal, 22).contains("the very last line"));
}

#[test]
fn warrens_own_lines_stand_apart() {
    let mut source = memory(&["job output"]);
    source.push(crate::logview::Stream::System, 0, "exit code 0 after 3.2 s");
    let terminal = draw(&view(source), 80, 24);
    let accent = Theme::default().style("ui.accent").fg;
    let buffer = terminal.backend().buffer();
    assert_eq!(buffer[(6, 1)].style().fg, accent);
    assert_ne!(buffer[(6, 0)].style().fg, accent);
}
