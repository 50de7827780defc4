//! Fractional ranks: strings that order cards within a column.
//!
//! A rank is a non-empty string of the digits `0-9A-Za-z` (base 62, compared bytewise) that never
//! ends in `0`. Between any two distinct ranks there is always another one, so moving a card only
//! rewrites that card's rank; no other card in the column changes.

use crate::command::Position;
use crate::id::Id;

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn digit_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        b'a'..=b'z' => u32::from(b - b'a') + 36,
        _ => 0,
    }
}

/// True if `s` is a well-formed rank.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
        && !s.ends_with('0')
}

/// A rank strictly between `before` and `after` (either may be absent for "start" / "end").
///
/// When both are given, `before` must sort strictly lower than `after`; if it does not (a corrupt
/// pair), the result sorts after `before`.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    // Open ends take the shortest rank past the neighbour, so appending (or prepending) card
    // after card grows ranks by one character per ~60 cards, not per ~5 as bisection would.
    match (before.filter(|b| !b.is_empty()), after) {
        (None, None) => return "V".to_owned(),
        (Some(lo), None) => return after_rank(lo),
        (None, Some(hi)) if !hi.is_empty() => return before_rank(hi),
        _ => {}
    }
    let lo = before.unwrap_or("").as_bytes();
    let hi = after.map(str::as_bytes);
    if let Some(h) = hi
        && !lo.is_empty()
        && lo >= h
    {
        return between(before, None);
    }
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let l = lo.get(i).map_or(0, |&b| digit_value(b));
        let h = match hi {
            Some(h) => h.get(i).map_or(62, |&b| digit_value(b)),
            None => 62,
        };
        if h > l + 1 {
            let mid = (l + h) / 2;
            out.push(DIGITS[mid as usize]);
            break;
        }
        // No room at this digit: keep the lower digit and look one digit deeper. From here on
        // the upper bound no longer constrains us unless we are still on its prefix.
        out.push(DIGITS[l as usize]);
        if h == l + 1 {
            // Everything below `l+1` at this position with any suffix > lo's suffix works, so
            // the upper bound is lifted for deeper digits.
            return finish_above(out, lo, i + 1);
        }
        i += 1;
    }
    // `out` never ends in '0' because mid >= 1.
    String::from_utf8(out).unwrap_or_default()
}

/// A rank above `lo` of the same length where possible: `lo` plus one, counting in base 62 from
/// the last digit with carry (digits after a carry restart at `1`, as a rank may not end in `0`).
/// Only a rank of all `z`s has no successor of its length; it gets `V` and `len` more digits,
/// which buys ~36·61^len further appends, so n appends need ranks of only O(log n) characters.
fn after_rank(lo: &str) -> String {
    let mut digits: Vec<u32> = lo.bytes().map(digit_value).collect();
    match digits.iter().rposition(|&d| d < 61) {
        Some(i) => {
            digits[i] += 1;
            for d in &mut digits[i + 1..] {
                *d = 1;
            }
            encode(&digits)
        }
        None => format!("{lo}V{}", "1".repeat(lo.len())),
    }
}

/// A rank below `hi` of the same length where possible: `hi` minus one, counting down from the
/// last digit that can go lower without ending in `0`; digits after it become `z`. A rank made
/// only of `0`s and `1`s has no such digit; it gets its last `1` lowered to `0` and `len + 1`
/// `z`s appended.
fn before_rank(hi: &str) -> String {
    let mut digits: Vec<u32> = hi.bytes().map(digit_value).collect();
    match digits.iter().rposition(|&d| d >= 2) {
        Some(i) => {
            digits[i] -= 1;
            for d in &mut digits[i + 1..] {
                *d = 61;
            }
            encode(&digits)
        }
        None => {
            if let Some(i) = digits.iter().rposition(|&d| d == 1) {
                digits[i] = 0;
            }
            let len = digits.len();
            digits.extend(std::iter::repeat_n(61, len + 1));
            encode(&digits)
        }
    }
}

fn encode(digits: &[u32]) -> String {
    digits
        .iter()
        .map(|&d| char::from(DIGITS[d.min(61) as usize]))
        .collect()
}

/// Appends digits to `prefix` so the result sorts above `lo` (which shares `prefix` up to `start`)
/// with no upper bound.
fn finish_above(mut out: Vec<u8>, lo: &[u8], start: usize) -> String {
    let mut i = start;
    loop {
        let l = lo.get(i).map_or(0, |&b| digit_value(b));
        if l + 1 < 62 {
            let mid = (l + 62).div_ceil(2).min(61);
            if mid > l {
                out.push(DIGITS[mid as usize]);
                break;
            }
        }
        out.push(DIGITS[l as usize]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The rank of a card placed at `position` in a column whose other cards are `column`, in order,
/// as `(rank, card id)`. `None` when the position is relative to a card not in `column`.
pub fn for_position(column: &[(&str, &str)], position: &Position) -> Option<String> {
    let at = |i: usize| column.get(i).map(|(r, _)| *r);
    let index_of = |card: &Id| column.iter().position(|(_, id)| *id == card.as_str());
    Some(match position {
        Position::Top => between(None, at(0)),
        Position::Bottom => between(column.last().map(|(r, _)| *r), None),
        Position::After { card_id } => {
            let i = index_of(card_id)?;
            between(at(i), at(i + 1))
        }
        Position::Before { card_id } => {
            let i = index_of(card_id)?;
            between(i.checked_sub(1).and_then(at), at(i))
        }
    })
}

/// `n` evenly spread ranks in increasing order, for seeding a column.
pub fn spread(n: usize) -> Vec<String> {
    let mut ranks = Vec::with_capacity(n);
    let mut prev: Option<String> = None;
    for _ in 0..n {
        let next = between(prev.as_deref(), None);
        ranks.push(next.clone());
        prev = Some(next);
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: Option<&str>, b: Option<&str>) -> String {
        let r = between(a, b);
        assert!(is_valid(&r), "{r:?} invalid for {a:?}..{b:?}");
        if let Some(a) = a {
            assert!(a < r.as_str(), "{a:?} < {r:?}");
        }
        if let Some(b) = b {
            assert!(r.as_str() < b, "{r:?} < {b:?}");
        }
        r
    }

    #[test]
    fn between_open_ends() {
        check(None, None);
        check(Some("V"), None);
        check(None, Some("V"));
        check(None, Some("1"));
        check(Some("z"), None);
        check(Some("zzz"), None);
        check(None, Some("01"));
    }

    #[test]
    fn between_adjacent_digits() {
        check(Some("A"), Some("B"));
        check(Some("A"), Some("A1"));
        check(Some("Az"), Some("B"));
        check(Some("Azzz"), Some("B"));
    }

    #[test]
    fn repeated_insertion_at_the_front_and_back_stays_ordered() {
        let mut lo = between(None, None);
        let mut hi = lo.clone();
        for _ in 0..500 {
            lo = check(None, Some(&lo));
            hi = check(Some(&hi), None);
        }
        assert!(lo < hi);
    }

    #[test]
    fn repeated_bisection_stays_ordered() {
        let a = "A".to_owned();
        let mut b = "B".to_owned();
        for _ in 0..300 {
            b = check(Some(&a), Some(&b));
        }
        let mut a2 = "A".to_owned();
        let b2 = "B".to_owned();
        for _ in 0..300 {
            a2 = check(Some(&a2), Some(&b2));
        }
    }

    #[test]
    fn documented_examples() {
        // The table in docs/protocol.md §13.
        let cases: [(Option<&str>, Option<&str>, &str); 10] = [
            (None, None, "V"),
            (Some("V"), None, "W"),
            (None, Some("V"), "U"),
            (Some("V"), Some("k"), "c"),
            (Some("A"), Some("B"), "AV"),
            (Some("A"), Some("A1"), "A0V"),
            (Some("Az"), Some("B"), "AzV"),
            (None, Some("1"), "0zz"),
            (Some("z"), None, "zV1"),
            (Some("Vzz"), None, "W11"),
        ];
        for (lo, hi, want) in cases {
            assert_eq!(between(lo, hi), want, "between({lo:?}, {hi:?})");
        }
    }

    #[test]
    fn appending_and_prepending_grow_ranks_slowly() {
        let mut last = between(None, None);
        for _ in 0..2000 {
            last = check(Some(&last), None);
        }
        assert!(
            last.len() <= 40,
            "2,000 appends gave a {}-character rank",
            last.len()
        );
        let mut first = between(None, None);
        for _ in 0..2000 {
            first = check(None, Some(&first));
        }
        assert!(
            first.len() <= 40,
            "2,000 prepends gave a {}-character rank",
            first.len()
        );
    }

    #[test]
    fn positions_relative_to_neighbours() {
        let column = [("A", "card_a"), ("B", "card_b")];
        let id = |s: &str| Id::parse(s).expect("id");
        assert_eq!(for_position(&column, &Position::Top).as_deref(), Some("9"));
        assert_eq!(
            for_position(&column, &Position::Bottom).as_deref(),
            Some("C")
        );
        let after_a = Position::After {
            card_id: id("card_a"),
        };
        assert_eq!(for_position(&column, &after_a).as_deref(), Some("AV"));
        let before_a = Position::Before {
            card_id: id("card_a"),
        };
        assert_eq!(for_position(&column, &before_a).as_deref(), Some("9"));
        let missing = Position::After {
            card_id: id("card_x"),
        };
        assert_eq!(for_position(&column, &missing), None);
    }

    #[test]
    fn spread_is_increasing() {
        let r = spread(50);
        assert!(r.windows(2).all(|w| w[0] < w[1]));
    }
}
