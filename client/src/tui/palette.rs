//! The command palette's entries: actions by their human names, jumps to rooms, boards and
//! cards by name, and switching to the user's other workspaces (`#12`, a title), ranked by fuzzy match ([`super::fuzzy`], as the room jump is). Only the
//! characters that matched are highlighted.

use warren_protocol::Id;

use super::app::App;
use super::fuzzy::Fuzzy;
use super::screens::Tab;
use super::state::Overlay;
use crate::keymap::{Action, Context};

/// What choosing an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Action(Action),
    Room(Id),
    Board(Id),
    Card(Id),
    /// Another of the user's workspaces: switching reconnects to it.
    Workspace(Id),
}

/// One line of the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub target: Target,
    /// What the entry is called ("New card", "#general", "#12 Fix login").
    pub label: String,
    /// A short explanation shown after the label.
    pub detail: String,
    /// Char positions in `label` that matched the query.
    pub matched: Vec<usize>,
}

/// Actions offered first when nothing is typed, most useful first; quitting is last of all.
const FIRST: &[Action] = &[
    Action::CardNew,
    Action::Compose,
    Action::Filter,
    Action::ShowBoard,
    Action::ShowChat,
    Action::CardOpen,
    Action::CardEdit,
    Action::NextBoard,
    Action::NextRoom,
    Action::Help,
];

/// Where an action goes in the empty-query list: the current screen's own actions first, then
/// the curated order, then the rest, with quit at the very end.
fn base_rank(action: Action, screen: Context, app: &App) -> (u8, usize) {
    if action == Action::Quit {
        return (3, 0);
    }
    let here = !app.keymap.keys_for(screen, action).is_empty()
        && app.keymap.keys_for(Context::Global, action).is_empty();
    let curated = FIRST.iter().position(|a| *a == action);
    match (here, curated) {
        (true, Some(i)) => (0, i),
        (false, Some(i)) => (1, i),
        (_, None) => (
            2,
            Action::ALL.iter().position(|a| *a == action).unwrap_or(0),
        ),
    }
}

/// Every entry the palette can offer, in the empty-query order.
fn candidates(app: &App) -> Vec<Entry> {
    let screen = app.screen_context();
    let mut actions: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| !a.is_key_only())
        .collect();
    actions.sort_by_key(|a| base_rank(*a, screen, app));
    let view = app.view();
    let entry = |target, label: String, detail: String| Entry {
        target,
        label,
        detail,
        matched: Vec::new(),
    };
    let mut out: Vec<Entry> = actions
        .into_iter()
        .map(|a| {
            entry(
                Target::Action(a),
                a.title().to_owned(),
                a.description().to_owned(),
            )
        })
        .collect();
    out.extend(view.rooms.iter().map(|r| {
        entry(
            Target::Room(r.id.clone()),
            format!("#{}", r.name),
            "Go to room".to_owned(),
        )
    }));
    out.extend(view.boards.iter().map(|b| {
        entry(
            Target::Board(b.id.clone()),
            b.name.clone(),
            "Show board".to_owned(),
        )
    }));
    out.extend(app.other_workspaces().into_iter().map(|w| {
        entry(
            Target::Workspace(w.id),
            format!("Switch to workspace {}", w.name),
            "Reconnect to that workspace".to_owned(),
        )
    }));
    for board in &view.boards {
        for column in &board.columns {
            for card in view.column_cards(&column.id) {
                if card.number == 0 {
                    continue; // not confirmed yet: it has no number to jump to
                }
                out.push(entry(
                    Target::Card(card.id.clone()),
                    format!("#{} {}", card.number, card.title),
                    format!("Card in {} · {}", column.name, board.name),
                ));
            }
        }
    }
    out
}

/// The entries matching `query`, best first. An empty query lists the actions (the current
/// screen's first, quit last), then rooms, boards and cards.
pub fn entries(app: &App, query: &str) -> Vec<Entry> {
    let all = candidates(app);
    let query = query.trim();
    if query.is_empty() {
        return all;
    }
    let mut fuzzy = Fuzzy::new(query);
    let lower = query.to_lowercase();
    let mut scored: Vec<(u32, usize, Entry)> = all
        .into_iter()
        .enumerate()
        .filter_map(|(order, mut entry)| {
            let hit = fuzzy.find(&entry.label).or_else(|| match entry.target {
                // The internal name (`card_new`) still finds the action, without highlights.
                Target::Action(action) => fuzzy.find(action.name()).map(|mut hit| {
                    hit.matched.clear();
                    hit
                }),
                _ => None,
            })?;
            let mut score = hit.score;
            // `#12` means card 12, not #120.
            let label = entry.label.to_lowercase();
            if label == lower || label.starts_with(&format!("{lower} ")) {
                score += 1_000;
            }
            entry.matched = hit.matched;
            Some((score, order, entry))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, e)| e).collect()
}

impl App {
    /// The palette's query, if it is open.
    fn palette_query(&self) -> Option<String> {
        match &self.overlay {
            Some(Overlay::Palette { input, .. }) => Some(input.lines().join(" ")),
            _ => None,
        }
    }

    /// The entries matching the palette's query, best first.
    pub fn palette_entries(&self) -> Vec<Entry> {
        self.palette_query()
            .map(|q| entries(self, &q))
            .unwrap_or_default()
    }

    /// Runs the selected palette entry and closes the palette.
    pub fn run_palette_choice(&mut self, selected: usize) {
        let chosen = self.palette_entries().into_iter().nth(selected);
        self.overlay = None;
        let Some(entry) = chosen else {
            return;
        };
        match entry.target {
            Target::Action(action) => self.perform(action),
            Target::Room(room) => {
                if let Some(i) = self.view().rooms.iter().position(|r| r.id == room) {
                    self.chat.room = i;
                    self.chat.selected = None;
                    self.perform(Action::ShowChat);
                }
            }
            Target::Board(board) => {
                if let Some(i) = self.view().boards.iter().position(|b| b.id == board) {
                    self.board.board = i;
                    self.board.column = 0;
                    self.tab = Tab::Board;
                }
            }
            Target::Card(card) => self.reveal_card(&card),
            Target::Workspace(workspace) => self.switch_workspace(&workspace),
        }
    }
}
