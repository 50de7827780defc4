//! The board filter: space-separated terms that must all match. `#12` matches card 12, `#bug` a label,
//! `@ada` an assignee, `!high` a priority, anything else the title or description. Case is
//! ignored.

use warren_protocol::Card;

use crate::tui::model::Model;

/// Whether a card passes the filter.
pub fn matches(card: &Card, filter: &str, model: &Model) -> bool {
    filter.split_whitespace().all(|term| {
        let term = term.to_lowercase();
        if let Some(number) = term.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
            card.number == number
        } else if let Some(label) = term.strip_prefix('#').filter(|l| !l.is_empty()) {
            card.labels.iter().any(|l| l.to_lowercase().contains(label))
        } else if let Some(who) = term.strip_prefix('@').filter(|w| !w.is_empty()) {
            card.assignee
                .as_ref()
                .is_some_and(|a| model.member_name(a).to_lowercase().contains(who))
        } else if let Some(p) = term.strip_prefix('!').filter(|p| !p.is_empty()) {
            card.priority.as_str().starts_with(p)
        } else {
            card.title.to_lowercase().contains(&term)
                || card.description.to_lowercase().contains(&term)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::{Id, Priority};

    fn card() -> Card {
        Card {
            id: Id::from_random("card", [1; 10]),
            number: 7,
            board_id: Id::from_random("board", [1; 10]),
            column_id: Id::from_random("col", [1; 10]),
            rank: "V".into(),
            title: "Fix login timeout".into(),
            description: "Users on slow links".into(),
            labels: vec!["bug".into(), "auth".into()],
            assignee: None,
            priority: Priority::High,
            created_by: Id::from_random("usr", [1; 10]),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn terms_must_all_match() {
        let m = Model::default();
        let c = card();
        assert!(matches(&c, "", &m));
        assert!(matches(&c, "login", &m));
        assert!(matches(&c, "LOGIN #bug", &m));
        assert!(matches(&c, "slow", &m));
        assert!(matches(&c, "!hi", &m));
        assert!(matches(&c, "#7", &m));
        assert!(!matches(&c, "login #ui", &m));
        assert!(!matches(&c, "@ada", &m));
    }
}
