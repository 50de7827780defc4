//! Filters, searches and levels: pure functions of (pattern, line).

use crate::logview::level::{detect, pretty_json};
use crate::logview::{
    Direction, Filter, Level, LineSource, LogLine, MemorySource, Pattern, Query, Stream,
};

fn line(text: &str) -> LogLine {
    LogLine {
        number: 1,
        stream: Stream::Stdout,
        ts_ms: 0,
        bytes: text.as_bytes().to_vec(),
        continued: false,
    }
}

#[test]
fn a_filter_keeps_matches_and_an_inverted_one_drops_them() {
    let keep = Filter::parse("err(or)?").expect("valid");
    let drop = Filter::parse("!err(or)?").expect("valid");
    assert!(!keep.inverted && drop.inverted);
    assert_eq!(drop.source(), "!err(or)?");
    for (text, matches) in [("an ERROR here", true), ("all fine", false)] {
        assert_eq!(keep.matches(&line(text)), matches, "{text}");
        assert_eq!(drop.matches(&line(text)), !matches, "{text}");
    }
}

#[test]
fn matching_sees_the_printable_text_not_the_escapes() {
    let filter = Filter::parse("ERROR").expect("valid");
    assert!(filter.matches(&line("\x1b[31mER\x1b[1mROR\x1b[0m")));
    assert!(
        !Filter::parse("31m")
            .expect("valid")
            .matches(&line("\x1b[31mx")),
        "escape bytes are not text"
    );
}

#[test]
fn patterns_are_smart_case() {
    let lower = Pattern::new("error").expect("valid");
    let upper = Pattern::new("Error").expect("valid");
    assert!(lower.is_match("ERROR") && lower.is_match("error"));
    assert!(upper.is_match("Error") && !upper.is_match("ERROR"));
}

#[test]
fn invalid_and_empty_patterns_are_errors_not_filters() {
    let err = Filter::parse("(unclosed").expect_err("invalid");
    assert!(err.to_string().contains("not a valid pattern"), "{err}");
    assert!(
        Filter::parse("!").is_err(),
        "an empty inverted filter would hide everything"
    );
    assert!(Pattern::new("").is_err());
}

#[test]
fn levels_from_json_then_keywords() {
    assert_eq!(detect(r#"{"level":"error","msg":"x"}"#), Some(Level::Error));
    assert_eq!(detect(r#"{"level":"warning"}"#), Some(Level::Warn));
    assert_eq!(
        detect(r#"{"msg":"ERROR in text but level says info","level":"info"}"#),
        Some(Level::Info)
    );
    assert_eq!(detect("2026-12-05 INFO started"), Some(Level::Info));
    assert_eq!(detect("[DEBUG] cache"), Some(Level::Debug));
    assert_eq!(detect("WARN: disk 91%"), Some(Level::Warn));
    assert_eq!(detect("FATAL: out of memory"), Some(Level::Error));
    assert_eq!(detect("error[E0308]: mismatched types"), Some(Level::Error));
    assert_eq!(detect("warning: unused variable"), Some(Level::Warn));
    assert_eq!(
        detect("no errors found"),
        None,
        "lower case words are not levels"
    );
    assert_eq!(detect("TERRORS"), None, "whole words only");
}

#[test]
fn json_lines_pretty_print() {
    let pretty = pretty_json(r#"{"level":"info","n":1}"#).expect("json");
    assert_eq!(pretty.lines().count(), 4);
    assert_eq!(pretty_json("plain text"), None);
    assert_eq!(pretty_json("{not json"), None);
}

#[test]
fn a_filtered_source_applies_to_the_stored_log_then_the_tail() {
    let mut source = MemorySource::new();
    for i in 0..10 {
        source.push(
            Stream::Stdout,
            i,
            format!("line {i} {}", if i % 3 == 0 { "hit" } else { "" }),
        );
    }
    source.set_filter(Some(Filter::parse("hit").expect("valid")));
    assert_eq!(source.len(), 4);
    source.push(Stream::Stderr, 10, "late hit");
    source.push(Stream::Stderr, 11, "late miss");
    let numbers: Vec<u64> = source.fetch(0..100).iter().map(|l| l.number).collect();
    assert_eq!(numbers, vec![1, 4, 7, 10, 11]);
    assert_eq!(source.total(), 12);
}

#[test]
fn find_searches_across_blocks_both_ways() {
    let mut source = MemorySource::new();
    for i in 0..10_000 {
        let text = if i == 9_000 || i == 50 {
            "needle"
        } else {
            "hay"
        };
        source.push(Stream::Stdout, i, text);
    }
    let q = Query::Pattern(Pattern::new("needle").expect("valid"));
    assert_eq!(source.find(100, Direction::Forward, &q), Some(9_000));
    assert_eq!(source.find(9_000, Direction::Forward, &q), None);
    assert_eq!(source.find(9_000, Direction::Backward, &q), Some(50));
    assert_eq!(source.find(50, Direction::Backward, &q), None);
}
