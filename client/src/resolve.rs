//! Turns what people type (`#12`, `todo`, `#general`, an id) into the entities of a workspace
//! snapshot. Pure functions: every failure is a [`ClientError`] whose message says what exists.

use warren_protocol::run::Job;
use warren_protocol::{Board, Card, Column, Id, Member, Room, Workspace, WorkspaceState};

use crate::error::ClientError;
use crate::sanitize;

/// How a card is named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardRef {
    /// `12` or `#12`.
    Number(u64),
    /// `card_5k2m…`.
    Id(Id),
}

impl std::fmt::Display for CardRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardRef::Number(n) => write!(f, "#{n}"),
            CardRef::Id(id) => write!(f, "{id}"),
        }
    }
}

/// Parses a card reference: a number (`12`, `#12`) or a card id.
pub fn parse_card_ref(input: &str) -> Result<CardRef, ClientError> {
    let trimmed = input.trim();
    let digits = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits
            .parse()
            .map(CardRef::Number)
            .map_err(|_| bad_card_ref(input));
    }
    Id::parse(trimmed)
        .map(CardRef::Id)
        .map_err(|_| bad_card_ref(input))
}

fn bad_card_ref(input: &str) -> ClientError {
    ClientError::Usage(format!(
        "{:?} is not a card: use its number (12 or #12) or its id (card_…); list cards with 'warren card list'",
        sanitize::line(input)
    ))
}

/// Finds a card in a snapshot.
pub fn find_card<'a>(state: &'a WorkspaceState, card: &CardRef) -> Result<&'a Card, ClientError> {
    let found = match card {
        CardRef::Number(n) => state.cards.iter().find(|c| c.number == *n),
        CardRef::Id(id) => state.cards.iter().find(|c| &c.id == id),
    };
    found.ok_or_else(|| {
        ClientError::NotFound(format!(
            "no card {card} in workspace {}; list cards with 'warren card list'",
            sanitize::line(&state.workspace.name)
        ))
    })
}

/// How a run is named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRef {
    /// `r7` or `7`.
    Number(u64),
    /// `run_5k2m…`.
    Id(Id),
}

impl std::fmt::Display for RunRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunRef::Number(n) => write!(f, "r{n}"),
            RunRef::Id(id) => write!(f, "{id}"),
        }
    }
}

/// Parses a run reference: `r7`, `R7`, `7` or a run id.
pub fn parse_run_ref(input: &str) -> Result<RunRef, ClientError> {
    let trimmed = input.trim();
    let digits = trimmed
        .strip_prefix('r')
        .or_else(|| trimmed.strip_prefix('R'))
        .unwrap_or(trimmed);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits
            .parse()
            .map(RunRef::Number)
            .map_err(|_| bad_run_ref(input));
    }
    match Id::parse(trimmed) {
        Ok(id) if trimmed.contains('_') => Ok(RunRef::Id(id)),
        _ => Err(bad_run_ref(input)),
    }
}

fn bad_run_ref(input: &str) -> ClientError {
    ClientError::Usage(format!(
        "{:?} is not a run: use its number (r7 or 7) or its id (run_…); list runs with 'warren run list'",
        sanitize::line(input)
    ))
}

/// Finds a job by name (case-insensitive) or id.
pub fn find_job<'a>(jobs: &'a [Job], key: &str) -> Result<&'a Job, ClientError> {
    match lookup(jobs, key.trim(), |j| &j.id, |j| &j.name) {
        Ok(Some(job)) => Ok(job),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no job {:?} (jobs: {}); add one with 'warren job add NAME --command CMD'",
            sanitize::line(key),
            names(jobs, |j| &j.name)
        ))),
        Err(n) => Err(ambiguous("job", key, n)),
    }
}

/// Finds an item by id or by name: an exact name wins over a case-insensitive one, and an
/// ambiguous name is an error.
fn lookup<'a, T>(
    items: &'a [T],
    key: &str,
    id_of: impl Fn(&T) -> &Id,
    name_of: impl Fn(&T) -> &str,
) -> Result<Option<&'a T>, usize> {
    if let Some(item) = items.iter().find(|i| id_of(i).as_str() == key) {
        return Ok(Some(item));
    }
    let exact: Vec<&T> = items.iter().filter(|i| name_of(i) == key).collect();
    if let [one] = exact.as_slice() {
        return Ok(Some(one));
    }
    let folded = key.to_lowercase();
    let loose: Vec<&T> = items
        .iter()
        .filter(|i| name_of(i).to_lowercase() == folded)
        .collect();
    match loose.as_slice() {
        [] if exact.is_empty() => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(many.len().max(exact.len())),
    }
}

fn names<T>(items: &[T], name_of: impl Fn(&T) -> &str) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| sanitize::line(name_of(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ambiguous(kind: &str, key: &str, count: usize) -> ClientError {
    ClientError::NotFound(format!(
        "{count} {kind}s are named {:?}; use the id instead",
        sanitize::line(key)
    ))
}

/// Picks a board by name or id, or the first board when `key` is `None`.
pub fn find_board<'a>(
    state: &'a WorkspaceState,
    key: Option<&str>,
) -> Result<&'a Board, ClientError> {
    let workspace = sanitize::line(&state.workspace.name);
    let Some(key) = key else {
        return state.boards.first().ok_or_else(|| {
            ClientError::NotFound(format!("workspace {workspace} has no boards yet"))
        });
    };
    match lookup(&state.boards, key, |b| &b.id, |b| &b.name) {
        Ok(Some(board)) => Ok(board),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no board {:?} in workspace {workspace} (boards: {}); list them with 'warren board list'",
            sanitize::line(key),
            names(&state.boards, |b| &b.name)
        ))),
        Err(n) => Err(ambiguous("board", key, n)),
    }
}

/// Picks a column of a board by name or id, or its first column when `key` is `None`.
pub fn find_column<'a>(board: &'a Board, key: Option<&str>) -> Result<&'a Column, ClientError> {
    let board_name = sanitize::line(&board.name);
    let Some(key) = key else {
        return board
            .columns
            .first()
            .ok_or_else(|| ClientError::NotFound(format!("board {board_name} has no columns")));
    };
    match lookup(&board.columns, key, |c| &c.id, |c| &c.name) {
        Ok(Some(column)) => Ok(column),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no column {:?} on board {board_name} (columns: {})",
            sanitize::line(key),
            names(&board.columns, |c| &c.name)
        ))),
        Err(n) => Err(ambiguous("column", key, n)),
    }
}

/// Picks a room by name (a leading `#` is ignored) or id.
pub fn find_room<'a>(state: &'a WorkspaceState, key: &str) -> Result<&'a Room, ClientError> {
    let name = key.strip_prefix('#').unwrap_or(key);
    match lookup(&state.rooms, name, |r| &r.id, |r| &r.name) {
        Ok(Some(room)) => Ok(room),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no room {:?} in workspace {} (rooms: {}); create it with 'warren room add NAME'",
            sanitize::line(key),
            sanitize::line(&state.workspace.name),
            names(&state.rooms, |r| &r.name)
        ))),
        Err(n) => Err(ambiguous("room", name, n)),
    }
}

/// Picks a member by name (a leading `@` is ignored) or user id.
pub fn find_member<'a>(state: &'a WorkspaceState, key: &str) -> Result<&'a Member, ClientError> {
    let name = key.strip_prefix('@').unwrap_or(key);
    match lookup(&state.members, name, |m| &m.user_id, |m| &m.name) {
        Ok(Some(member)) => Ok(member),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no member {:?} in workspace {} (members: {})",
            sanitize::line(key),
            sanitize::line(&state.workspace.name),
            names(&state.members, |m| &m.name)
        ))),
        Err(n) => Err(ambiguous("member", name, n)),
    }
}

/// Picks a model provider by name (case-insensitive) or id.
pub fn find_provider<'a>(
    providers: &'a [warren_protocol::agent::Provider],
    key: &str,
) -> Result<&'a warren_protocol::agent::Provider, ClientError> {
    match lookup(providers, key.trim(), |p| &p.id, |p| &p.name) {
        Ok(Some(provider)) => Ok(provider),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no provider {:?} (providers: {}); add one with 'warren provider add NAME --kind openai --base-url URL --model M'",
            sanitize::line(key),
            names(providers, |p| &p.name)
        ))),
        Err(n) => Err(ambiguous("provider", key, n)),
    }
}

/// Picks an agent by name (a leading `@` is ignored, case-insensitive) or id.
pub fn find_agent<'a>(
    agents: &'a [warren_protocol::agent::Agent],
    key: &str,
) -> Result<&'a warren_protocol::agent::Agent, ClientError> {
    let trimmed = key.trim();
    let name = trimmed.strip_prefix('@').unwrap_or(trimmed);
    match lookup(agents, name, |a| &a.id, |a| &a.name) {
        Ok(Some(agent)) => Ok(agent),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no agent {:?} (agents: {}); add one with 'warren agent add NAME --provider P'",
            sanitize::line(key),
            names(agents, |a| &a.name)
        ))),
        Err(n) => Err(ambiguous("agent", name, n)),
    }
}

/// Picks the workspace to work in: by id or name, or the first one the server listed.
pub fn pick_workspace<'a>(
    workspaces: &'a [Workspace],
    key: Option<&str>,
) -> Result<&'a Workspace, ClientError> {
    let Some(key) = key else {
        return workspaces.first().ok_or_else(|| {
            ClientError::NotFound(
                "your account has no workspaces on this server — create one with 'warren workspace \
                 create NAME' or ask an owner to add you"
                    .to_owned(),
            )
        });
    };
    match lookup(workspaces, key, |w| &w.id, |w| &w.name) {
        Ok(Some(workspace)) => Ok(workspace),
        Ok(None) => Err(ClientError::NotFound(format!(
            "no workspace {:?} on this server (yours: {}); pick one with --workspace",
            sanitize::line(key),
            names(workspaces, |w| &w.name)
        ))),
        Err(n) => Err(ambiguous("workspace", key, n)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn id(s: &str) -> Id {
        Id::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn state() -> WorkspaceState {
        let column = |i: &str, n: &str| Column {
            id: id(i),
            name: n.into(),
        };
        let card = |n: u64, i: &str, title: &str| Card {
            id: id(i),
            number: n,
            board_id: id("board_main"),
            column_id: id("col_todo"),
            rank: "V".into(),
            title: title.into(),
            description: String::new(),
            labels: vec![],
            assignee: None,
            priority: warren_protocol::Priority::None,
            created_by: id("user_ann"),
            created_at: 0,
            updated_at: 0,
        };
        WorkspaceState {
            agents: Vec::new(),
            providers: Vec::new(),
            jobs: Vec::new(),
            runs: Vec::new(),
            workspace: Workspace {
                id: id("ws_acme"),
                name: "Acme".into(),
                created_at: 0,
            },
            seq: 7,
            members: vec![Member {
                user_id: id("user_ann"),
                name: "Ann".into(),
                role: warren_protocol::Role::Owner,
            }],
            boards: vec![
                Board {
                    id: id("board_main"),
                    name: "Main".into(),
                    columns: vec![column("col_todo", "Todo"), column("col_done", "Done")],
                    created_at: 0,
                },
                Board {
                    id: id("board_ops"),
                    name: "ops".into(),
                    columns: vec![column("col_x", "Todo"), column("col_y", "todo")],
                    created_at: 0,
                },
            ],
            cards: vec![
                card(12, "card_twelve", "Twelve"),
                card(3, "card_three", "Three"),
            ],
            rooms: vec![Room {
                id: id("room_gen"),
                name: "general".into(),
                topic: String::new(),
                created_at: 0,
            }],
        }
    }

    #[test]
    fn parses_card_refs() {
        assert_eq!(parse_card_ref("12").ok(), Some(CardRef::Number(12)));
        assert_eq!(parse_card_ref("#12").ok(), Some(CardRef::Number(12)));
        assert_eq!(
            parse_card_ref("card_abc").ok(),
            Some(CardRef::Id(id("card_abc")))
        );
        for bad in [
            "",
            "#",
            "twelve",
            "#-1",
            "99999999999999999999999",
            "Card_X",
        ] {
            let err = parse_card_ref(bad).err();
            assert_eq!(err.map(|e| e.exit_code()), Some(1), "{bad:?}");
        }
    }

    #[test]
    fn finds_cards_by_number_and_id() {
        let s = state();
        let by_number = find_card(&s, &CardRef::Number(12)).map(|c| c.title.clone());
        assert_eq!(by_number.ok().as_deref(), Some("Twelve"));
        let by_id = find_card(&s, &CardRef::Id(id("card_three"))).map(|c| c.number);
        assert_eq!(by_id.ok(), Some(3));
        let missing = find_card(&s, &CardRef::Number(99))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            missing.as_deref(),
            Some("no card #99 in workspace Acme; list cards with 'warren card list'")
        );
    }

    #[test]
    fn resolves_names_case_insensitively_and_by_id() {
        let s = state();
        assert_eq!(
            find_board(&s, None).map(|b| b.id.as_str()).ok(),
            Some("board_main")
        );
        assert_eq!(
            find_board(&s, Some("OPS")).map(|b| b.id.as_str()).ok(),
            Some("board_ops")
        );
        assert_eq!(
            find_board(&s, Some("board_ops"))
                .map(|b| b.name.as_str())
                .ok(),
            Some("ops")
        );
        let main = &s.boards[0];
        assert_eq!(
            find_column(main, Some("done")).map(|c| c.id.as_str()).ok(),
            Some("col_done")
        );
        assert_eq!(
            find_column(main, None).map(|c| c.id.as_str()).ok(),
            Some("col_todo")
        );
        assert_eq!(
            find_room(&s, "#General").map(|r| r.id.as_str()).ok(),
            Some("room_gen")
        );
        assert_eq!(
            find_member(&s, "@ann").map(|m| m.user_id.as_str()).ok(),
            Some("user_ann")
        );
    }

    #[test]
    fn exact_name_beats_ambiguous_case_folding() {
        let s = state();
        let ops = &s.boards[1];
        assert_eq!(
            find_column(ops, Some("todo")).map(|c| c.id.as_str()).ok(),
            Some("col_y")
        );
        assert!(find_column(ops, Some("TODO")).is_err());
    }

    #[test]
    fn missing_names_list_what_exists() {
        let s = state();
        let err = find_column(&s.boards[0], Some("Doing"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("no column \"Doing\" on board Main (columns: Todo, Done)")
        );
        let err = find_room(&s, "#random").err().map(|e| e.exit_code());
        assert_eq!(err, Some(2));
    }

    #[test]
    fn picks_workspaces() {
        let s = state();
        let list = vec![s.workspace.clone()];
        assert_eq!(
            pick_workspace(&list, None).map(|w| w.name.as_str()).ok(),
            Some("Acme")
        );
        assert_eq!(
            pick_workspace(&list, Some("acme"))
                .map(|w| w.name.as_str())
                .ok(),
            Some("Acme")
        );
        assert!(pick_workspace(&list, Some("other")).is_err());
        assert!(pick_workspace(&[], None).is_err());
    }

    #[test]
    fn run_references_are_numbers_or_ids() {
        assert_eq!(parse_run_ref("r7").ok(), Some(RunRef::Number(7)));
        assert_eq!(parse_run_ref("R12").ok(), Some(RunRef::Number(12)));
        assert_eq!(parse_run_ref(" 7 ").ok(), Some(RunRef::Number(7)));
        assert_eq!(
            parse_run_ref("run_3k8m1p6r9t2w5y0b").ok(),
            Some(RunRef::Id(id("run_3k8m1p6r9t2w5y0b")))
        );
        for bad in [
            "",
            "r",
            "rx",
            "#7",
            "r-1",
            "seven",
            "99999999999999999999999",
        ] {
            let err = parse_run_ref(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("r7 or 7"), "{bad:?}: {err}");
        }
        assert_eq!(RunRef::Number(7).to_string(), "r7");
    }
}
