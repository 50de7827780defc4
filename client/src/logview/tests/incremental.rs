//! Incremental search: the view moves to the first match from where the search started as the
//! pattern is typed, highlights and counts the matches; an invalid pattern says why without
//! moving; esc goes back (following again if it was), enter keeps the place; each keystroke
//! looks through a bounded number of lines, and enter runs the full search past them. Snapshots
//! mid-typing at 80x24, in true colour and in 16 colours.

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::logview::tests::fixture::{MILLION, Million, build_log, draw, key, row, typed, view};
use crate::logview::{
    COUNT_BUDGET, FIND_BUDGET, LineSource, LogView, LogViewWidget, MatchCount, MemorySource,
};
use crate::theme::{ColorSupport, Theme};

fn count(v: &LogView<impl LineSource>) -> Option<MatchCount> {
    v.prompt().and_then(|p| p.found).map(|f| f.count)
}

/// A build log scrolled to line 6 at the top.
fn at_line_6() -> LogView<MemorySource> {
    let mut v = view(build_log(200));
    key(&mut v, KeyCode::Char('g'));
    for _ in 0..5 {
        key(&mut v, KeyCode::Char('j'));
    }
    assert_eq!(v.top(), 5);
    v
}

#[test]
fn each_keystroke_moves_to_the_first_match_from_where_the_search_started() {
    let mut v = at_line_6();
    typed(&mut v, "/crate-1");
    assert_eq!(v.top(), 13, "line 14 is the first crate-1 from line 6");
    assert_eq!(
        count(&v),
        Some(MatchCount {
            before: 0,
            total: 15,
            whole: true
        })
    );
    typed(&mut v, "0");
    assert_eq!(v.top(), 104, "crate-105 is the first crate-10");
    key(&mut v, KeyCode::Backspace);
    assert_eq!(
        v.top(),
        13,
        "counted from where the search started, not from the last match"
    );
    assert!(v.search().is_none(), "nothing is searched for until enter");
    assert_eq!(v.highlight().map(|p| p.source()), Some("crate-1"));
    typed(&mut v, "\n");
    assert!(v.prompt().is_none());
    assert_eq!(v.top(), 13, "enter keeps the place");
    assert!(!v.following());
    assert_eq!(v.search().map(|p| p.source()), Some("crate-1"));
    key(&mut v, KeyCode::Char('n'));
    assert_eq!(v.top(), 104, "n goes on from there");
}

#[test]
fn esc_goes_back_to_where_the_search_started_and_keeps_the_old_search() {
    let mut v = at_line_6();
    typed(&mut v, "/crate-14\n");
    assert_eq!(v.top(), 13);
    typed(&mut v, "/step 19");
    assert_eq!(v.top(), 18);
    key(&mut v, KeyCode::Esc);
    assert!(v.prompt().is_none());
    assert_eq!(v.top(), 13);
    assert_eq!(v.search().map(|p| p.source()), Some("crate-14"));
    assert_eq!(v.highlight().map(|p| p.source()), Some("crate-14"));

    // A view that followed the tail follows it again.
    let mut v = view(build_log(200));
    assert!(v.following());
    typed(&mut v, "/");
    assert_eq!(v.top(), 177);
    typed(&mut v, "step 1");
    assert!(!v.following(), "the search takes the view to a match");
    assert_eq!(
        v.top(),
        177,
        "from the top line shown: step 178 is the first"
    );
    key(&mut v, KeyCode::Esc);
    assert!(v.following());
    v.source_mut()
        .push(crate::logview::Stream::Stdout, 0, "new");
    assert_eq!(v.top(), 201 - 23, "still following the tail");
}

#[test]
fn an_invalid_partial_pattern_says_why_without_moving() {
    let mut v = at_line_6();
    typed(&mut v, "/crate-10");
    assert_eq!(v.top(), 104);
    typed(&mut v, "(");
    let prompt = v.prompt().cloned();
    assert!(
        prompt.as_ref().and_then(|p| p.error.as_ref()).is_some(),
        "{prompt:?}"
    );
    assert_eq!(prompt.and_then(|p| p.found), None);
    assert_eq!(v.top(), 104, "the view stays");
    typed(&mut v, "5)");
    assert_eq!(v.prompt().and_then(|p| p.error.clone()), None);
    assert_eq!(v.top(), 104);
    // Emptied, the view goes back and nothing is highlighted.
    for _ in 0.."crate-10(5)".len() {
        key(&mut v, KeyCode::Backspace);
    }
    assert_eq!(v.top(), 5);
    assert!(v.highlight().is_none());
    assert_eq!(count(&v), None);
}

#[test]
fn no_match_below_stays_and_says_where_they_are() {
    let mut v = at_line_6();
    for _ in 0..10 {
        key(&mut v, KeyCode::Char('j'));
    }
    typed(&mut v, "/crate-7 ");
    assert_eq!(v.top(), 15, "crate-7 is above: the view stays");
    let found = v.prompt().and_then(|p| p.found);
    assert_eq!(found.map(|f| (f.moved, f.count.before)), Some((false, 1)));
    let status = row(&draw(&v, 80, 24), 23);
    assert!(status.contains("none below, 1 above"), "{status}");
    typed(&mut v, "\n");
    assert_eq!(v.top(), 15);
    key(&mut v, KeyCode::Char('N'));
    assert_eq!(v.top(), 6, "N finds it: line 7");
}

#[test]
fn a_keystroke_reads_a_bounded_number_of_lines_and_enter_searches_on() {
    let mut v = view(Million::new());
    key(&mut v, KeyCode::Char('g'));
    typed(&mut v, "/step 50000");
    assert_eq!(v.top(), 49_999, "line 50,000 is near enough");
    let before = v.source().fetched.get();
    typed(&mut v, "0 ");
    let read = v.source().fetched.get() - before;
    assert!(
        read <= 2 * (FIND_BUDGET + COUNT_BUDGET + 1),
        "two keystrokes read {read} lines"
    );
    assert_eq!(v.top(), 0, "line 500,000 is too far for a keystroke");
    let found = v.prompt().and_then(|p| p.found);
    assert_eq!(
        found.map(|f| (f.moved, f.count.whole)),
        Some((false, false))
    );
    let status = row(&draw(&v, 80, 24), 23);
    assert!(status.contains("enter searches the whole log"), "{status}");
    typed(&mut v, "\n");
    assert_eq!(v.top(), 499_999, "enter runs the full search");
    assert_eq!(v.source().len(), MILLION);
}

/// The view drawn with the bundled theme fitted to `support`.
fn draw_in(v: &LogView<MemorySource>, support: ColorSupport) -> Terminal<TestBackend> {
    let theme = Theme::default().resolve(support);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    terminal
        .draw(|f| f.render_widget(LogViewWidget::new(v, &theme), f.area()))
        .expect("draw");
    terminal
}

/// Columns of row `y` drawn in the match style.
fn highlighted(terminal: &Terminal<TestBackend>, y: u16, theme: &Theme) -> String {
    let matched = theme.style("ui.match");
    let buffer = terminal.backend().buffer();
    (0..80u16)
        .map(|x| &buffer[(x, y)])
        .filter(|c| {
            let style = c.style();
            style.fg == matched.fg
                && matched.bg.is_none_or(|bg| style.bg == Some(bg))
                && style.add_modifier.contains(matched.add_modifier)
        })
        .map(|c| c.symbol().to_owned())
        .collect()
}

#[test]
fn mid_typing_at_80x24_every_match_on_screen_is_highlighted() {
    for (support, name) in [
        (ColorSupport::TrueColor, "mid_typing_truecolor"),
        (ColorSupport::Ansi16, "mid_typing_16_colours"),
    ] {
        let mut v = LogView::new(build_log(200), support);
        v.set_height(23);
        key(&mut v, KeyCode::Char('g'));
        typed(&mut v, "/crate-[0-9]");
        let terminal = draw_in(&v, support);
        insta::assert_snapshot!(name, terminal.backend());
        assert!(row(&terminal, 23).contains("/crate-[0-9]▏  match 1 of 28"));
        let theme = Theme::default().resolve(support);
        assert_ne!(theme.style("ui.match"), theme.style("ui.statusbar"));
        // Lines 7, 14 and 21 are on screen (rows 0, 7, 14): each match, and only it, is marked.
        for y in [0, 7, 14] {
            let marked = highlighted(&terminal, y, &theme);
            assert!(
                marked.starts_with("crate-") && marked.len() == 7,
                "row {y}: {marked:?}"
            );
        }
        assert_eq!(highlighted(&terminal, 1, &theme), "");
    }
}

#[test]
fn mid_typing_an_invalid_pattern_shows_the_error_at_80x24() {
    let mut v = view(build_log(60));
    key(&mut v, KeyCode::Char('g'));
    typed(&mut v, "/crate-(");
    let terminal = draw(&v, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    assert!(row(&terminal, 23).starts_with("/crate-(▏  "));
}
