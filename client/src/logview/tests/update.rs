//! Update logic: keys and actions over a million-line source and small in-memory logs.

use crossterm::event::KeyCode;

use crate::keymap::{Context, Keymap};
use crate::logview::tests::fixture::{MILLION, Million, build_log, draw, key, typed, view};
use crate::logview::{LineSource, LogAction, Notice, Stream};

#[test]
fn a_million_line_log_opens_following_and_reads_only_a_window() {
    let mut v = view(Million::new());
    assert!(v.following());
    assert_eq!(v.top(), MILLION - 23);
    let before = v.source().fetched.get();
    let terminal = draw(&v, 80, 24);
    assert!(super::fixture::row(&terminal, 22).contains("step 1000000"));
    assert!(
        v.source().fetched.get() - before <= 23,
        "drawing fetched {} lines for 23 rows",
        v.source().fetched.get() - before
    );
    key(&mut v, KeyCode::Char('g'));
    assert_eq!(v.top(), 0);
    key(&mut v, KeyCode::Char(' '));
    assert_eq!(v.top(), 22, "a page is the height less one line of overlap");
    key(&mut v, KeyCode::Char('G'));
    assert!(v.following());
    assert!(
        v.source().widest.get() <= 4096,
        "never more than a block of lines at once"
    );
}

#[test]
fn follow_stops_when_scrolling_up_and_f_resumes_it() {
    let mut v = view(build_log(100));
    key(&mut v, KeyCode::Up);
    assert!(!v.following());
    assert_eq!(v.top(), 100 - 23 - 1);
    // New lines arrive: a view that does not follow stays where it is.
    v.source_mut().push(Stream::Stdout, 0, "late line");
    assert_eq!(v.top(), 76);
    key(&mut v, KeyCode::Char('F'));
    assert!(v.following());
    v.source_mut().push(Stream::Stdout, 0, "later line");
    assert_eq!(
        v.top(),
        102 - 23,
        "following keeps the newest line on screen"
    );
    key(&mut v, KeyCode::Char('j'));
    assert!(v.following(), "scrolling down at the end keeps following");
}

#[test]
fn toggles_flip_options() {
    let mut v = view(build_log(5));
    let before = v.options();
    for c in ['#', 't', 's', 'p'] {
        key(&mut v, KeyCode::Char(c));
    }
    let after = v.options();
    assert_eq!(after.numbers, !before.numbers);
    assert_eq!(after.timestamps, !before.timestamps);
    assert_eq!(after.wrap, !before.wrap);
    assert_eq!(after.pretty_json, !before.pretty_json);
}

#[test]
fn search_jumps_to_matches_with_n_and_shift_n() {
    let mut v = view(Million::new());
    key(&mut v, KeyCode::Char('g'));
    typed(&mut v, "/step 5000\\b\n");
    assert!(v.prompt().is_none());
    assert_eq!(v.top(), 4999, "the first match at or after the top");
    typed(&mut v, "/step [0-9]*5000\\b\n");
    key(&mut v, KeyCode::Char('n'));
    assert_eq!(v.top(), 14_999);
    key(&mut v, KeyCode::Char('N'));
    assert_eq!(v.top(), 4999);
    key(&mut v, KeyCode::Char('N'));
    assert_eq!(v.top(), 4999, "nothing earlier: the view stays");
    assert!(matches!(v.notice(), Some(Notice::Info(_))));
    key(&mut v, KeyCode::Esc);
    assert!(v.search().is_none());
}

#[test]
fn an_invalid_pattern_shows_an_error_and_hides_nothing() {
    let mut v = view(build_log(50));
    typed(&mut v, "&step\n");
    let filtered = v.source().len();
    typed(&mut v, "&");
    // Replace the text with a broken pattern.
    for _ in 0..4 {
        key(&mut v, KeyCode::Backspace);
    }
    typed(&mut v, "(oops");
    assert!(
        v.prompt().and_then(|p| p.error.as_ref()).is_some(),
        "checked as typed"
    );
    typed(&mut v, "\n");
    assert!(
        v.prompt().is_some(),
        "the prompt stays open to fix the pattern"
    );
    assert!(matches!(v.notice(), Some(Notice::Error(e)) if e.contains("not a valid pattern")));
    assert_eq!(v.filter().map(|f| f.source()), Some("step".to_owned()));
    assert_eq!(
        v.source().len(),
        filtered,
        "the previous filter still applies"
    );
    key(&mut v, KeyCode::Esc);
    assert!(v.prompt().is_none());
    assert!(
        v.notice().is_none(),
        "esc kept the previous filter, as the error said: the error goes"
    );
    assert_eq!(v.filter().map(|f| f.source()), Some("step".to_owned()));
}

#[test]
fn filters_keep_or_drop_and_an_empty_one_clears() {
    let mut v = view(build_log(50));
    typed(&mut v, "&compiling\n");
    assert_eq!(v.source().len(), 7, "every seventh line compiles");
    typed(&mut v, "&");
    for _ in 0.."compiling".len() {
        key(&mut v, KeyCode::Backspace);
    }
    typed(&mut v, "!compiling\n");
    assert_eq!(v.source().len(), 43);
    typed(&mut v, "&");
    for _ in 0.."!compiling".len() {
        key(&mut v, KeyCode::Backspace);
    }
    typed(&mut v, "\n");
    assert!(v.filter().is_none());
    assert_eq!(v.source().len(), 50);
}

#[test]
fn a_filter_keeps_the_top_line_in_view() {
    let mut v = view(Million::new());
    key(&mut v, KeyCode::Char('g'));
    typed(&mut v, "/step 123456 \n");
    assert_eq!(v.top(), 123_455);
    typed(&mut v, "&!WARN\n");
    let top = v.source().fetch(v.top()..v.top() + 1);
    assert_eq!(top[0].number, 123_456);
    assert!(v.source().len() < MILLION);
}

#[test]
fn error_and_warning_jumps() {
    let mut v = view(Million::new());
    key(&mut v, KeyCode::Char('g'));
    key(&mut v, KeyCode::Char('e'));
    assert_eq!(v.top(), 999, "line 1000 is the first error");
    key(&mut v, KeyCode::Char('e'));
    assert_eq!(v.top(), 1999);
    key(&mut v, KeyCode::Char('E'));
    assert_eq!(v.top(), 999);
    key(&mut v, KeyCode::Char('w'));
    assert_eq!(
        v.top(),
        1249,
        "line 1250 warns (1000 errs, 1500 warns after)"
    );
    key(&mut v, KeyCode::Char('W'));
    assert_eq!(v.top(), 749);
    key(&mut v, KeyCode::Char('g'));
    key(&mut v, KeyCode::Char('E'));
    assert_eq!(v.top(), 0);
    assert!(matches!(v.notice(), Some(Notice::Info(t)) if t.contains("no earlier errors")));
}

#[test]
fn bookmarks_toggle_and_jump_and_survive_a_filter() {
    let mut v = view(build_log(200));
    key(&mut v, KeyCode::Char('g'));
    for _ in 0..10 {
        key(&mut v, KeyCode::Char('j'));
    }
    key(&mut v, KeyCode::Char('m'));
    for _ in 0..50 {
        key(&mut v, KeyCode::Char('j'));
    }
    key(&mut v, KeyCode::Char('m'));
    assert_eq!(
        v.bookmarks().iter().copied().collect::<Vec<_>>(),
        vec![11, 61]
    );
    key(&mut v, KeyCode::Char('g'));
    key(&mut v, KeyCode::Char('u'));
    assert_eq!(v.top(), 10);
    key(&mut v, KeyCode::Char('\''));
    assert_eq!(v.top(), 60);
    key(&mut v, KeyCode::Char('U'));
    assert_eq!(v.top(), 10);
    key(&mut v, KeyCode::Char('m'));
    assert_eq!(v.bookmarks().len(), 1, "m again removes it");
    // Line 61 is hidden by this filter: the jump skips it and says so.
    typed(&mut v, "&compiling\n");
    key(&mut v, KeyCode::Char('g'));
    key(&mut v, KeyCode::Char('u'));
    assert!(matches!(v.notice(), Some(Notice::Info(t)) if t.contains("no more bookmarks")));
}

#[test]
fn every_action_is_a_keymap_action_bound_in_the_log_context() {
    let keymap = Keymap::default();
    let mut names = std::collections::HashSet::new();
    for action in LogAction::all() {
        assert_eq!(LogAction::from_action(action.action()), Some(action));
        assert!(action.name().starts_with("log_"), "{}", action.name());
        assert!(names.insert(action.name()), "{} twice", action.name());
        assert!(
            !keymap.keys_for(Context::Log, action.action()).is_empty(),
            "{} has no default key in [log]",
            action.name()
        );
    }
    let mut v = view(build_log(5));
    assert!(
        !key(&mut v, KeyCode::Char('z')),
        "an unbound key is not consumed"
    );
    assert_eq!(LogAction::Follow.name(), "log_follow");
    v.handle(LogAction::Top);
    assert!(!v.following());
}
