//! `warren-server check`: verifies a store file (a data directory's or a backup) without
//! changing it.
//!
//! It opens the file read-only and checks, in one read transaction: the schema version; that
//! every workspace's events are exactly `1..=head`, each decoding to the event its key names;
//! and that the state tables (workspace, members, boards, cards and their column order, rooms,
//! messages and their id index, jobs, runs and their number index) hold exactly what replaying the events produces. Every problem
//! is reported in plain words; a store with none is `ok`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use redb::{ReadTransaction, ReadableDatabase, ReadableTable};
use serde::Serialize;
use warren_protocol::run::{Job, Run, RunStatus};
use warren_protocol::{Board, Card, Change, Event, Member, Message, Room, Workspace};

use crate::store::read::list_in_workspace;
use crate::store::tables::*;
use crate::store::{FILE_NAME, StoreError, decode, schema};

/// The most problems listed; more are counted.
const MAX_PROBLEMS: usize = 100;

/// One workspace as the check found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceSummary {
    pub id: String,
    pub name: String,
    pub head: u64,
}

/// The outcome of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub path: String,
    pub schema_version: Option<u32>,
    pub workspaces: Vec<WorkspaceSummary>,
    pub events: u64,
    /// The store was not closed cleanly (a crash): a copy was repaired, as the server does
    /// when it opens it, and checked; the file itself is unchanged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repaired: bool,
    /// The file is held by a running server, so it was not checked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_use: bool,
    /// Everything wrong, one sentence each; empty when the store is sound.
    pub problems: Vec<String>,
}

impl Report {
    /// True when no problem was found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, text: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(text.into());
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems
                .push("… and more problems (only the first 100 are listed)".to_owned());
        }
    }
}

/// Checks the store of a data directory.
pub fn check_dir(dir: &Path) -> Report {
    let path = dir.join(FILE_NAME);
    if !path.exists() {
        return Report {
            path: path.display().to_string(),
            problems: vec![format!(
                "there is no store in {}; pass the data directory of a server (--data) or a backup file (--file)",
                dir.display()
            )],
            ..Report::default()
        };
    }
    check_file(&path)
}

/// Checks a store file.
pub fn check_file(path: &Path) -> Report {
    let mut report = Report {
        path: path.display().to_string(),
        ..Report::default()
    };
    match redb::Database::builder().open_read_only(path) {
        Ok(db) => check_db(&db, &mut report),
        // A store a crashed process left needs redb's repair, which a read-only open cannot
        // do: check a repaired copy and leave the file itself alone.
        Err(redb::DatabaseError::RepairAborted) => check_repaired_copy(path, &mut report),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            report.in_use = true;
            report.problem(
                "the store is in use by a running server; check a backup of it instead: \
                 'warren-server backup --to FILE' then 'warren-server check --file FILE'",
            );
        }
        Err(e) => report.problem(format!(
            "the file cannot be opened as a store ({e}); it is damaged or not a warren store — restore a backup"
        )),
    }
    report
}

fn check_db(db: &impl ReadableDatabase, report: &mut Report) {
    let result = db
        .begin_read()
        .map_err(StoreError::from)
        .and_then(|txn| check_txn(&txn, report));
    if let Err(e) = result {
        report.problem(format!(
            "reading the store failed ({e}); the file is damaged — restore a backup"
        ));
    }
}

/// Copies the file to the temporary directory, lets redb repair the copy, checks it, removes it.
fn check_repaired_copy(path: &Path, report: &mut Report) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let copy =
        std::env::temp_dir().join(format!("warren-check-{}-{nanos}.redb", std::process::id()));
    let repaired = crate::backup::create_private_file(&copy)
        .and_then(|mut dest| {
            let mut source = std::fs::File::open(path)?;
            std::io::copy(&mut source, &mut dest).map(drop)
        })
        .map_err(|e| e.to_string())
        .and_then(|()| {
            redb::Database::builder()
                .open(&copy)
                .map_err(|e| e.to_string())
        });
    match repaired {
        Ok(db) => {
            report.repaired = true;
            check_db(&db, report);
        }
        Err(e) => report.problem(format!(
            "the store was not closed cleanly and a copy of it cannot be repaired ({e}); restore a backup"
        )),
    }
    let _ = std::fs::remove_file(&copy);
}

fn check_txn(txn: &ReadTransaction, report: &mut Report) -> Result<(), StoreError> {
    let version = {
        let meta = txn.open_table(META)?;
        let value = meta.get("schema_version")?;
        value.and_then(|v| <[u8; 4]>::try_from(v.value()).ok().map(u32::from_le_bytes))
    };
    report.schema_version = version;
    match version {
        None => report.problem("the store has no readable schema version"),
        Some(v) if v > schema::CURRENT => report.problem(format!(
            "the store has schema version {v}, newer than this warren-server understands ({}); check it with a newer warren-server",
            schema::CURRENT
        )),
        Some(_) => {}
    }
    let workspaces = txn.open_table(WORKSPACES)?;
    let heads = txn.open_table(HEADS)?;
    let mut known = BTreeSet::new();
    for entry in workspaces.iter()? {
        let (key, value) = entry?;
        let id = key.value().to_owned();
        known.insert(id.clone());
        let stored: Option<Workspace> = match decode("workspaces", value.value()) {
            Ok(w) => Some(w),
            Err(e) => {
                report.problem(format!("workspace {id}: its record does not decode ({e})"));
                None
            }
        };
        let head = heads.get(id.as_str())?.map_or(0, |g| g.value());
        let replayed = replay(txn, &id, head, report)?;
        compare(txn, &id, stored.as_ref(), &replayed, report)?;
        report.events += head;
        report.workspaces.push(WorkspaceSummary {
            name: stored.map(|w| w.name).unwrap_or_default(),
            id,
            head,
        });
    }
    for entry in heads.iter()? {
        let (key, _) = entry?;
        if !known.contains(key.value()) {
            report.problem(format!(
                "the heads table names workspace {}, which does not exist",
                key.value()
            ));
        }
    }
    check_invites(txn, &known, report)?;
    check_audit(txn, report)?;
    crate::logs::check::check(txn, &mut |p| report.problem(p))?;
    let events = txn.open_table(EVENTS)?;
    let mut orphaned = BTreeSet::new();
    for entry in events.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) && orphaned.insert(ws.to_owned()) {
            report.problem(format!(
                "there are events of workspace {ws}, which does not exist"
            ));
        }
    }
    orphans(txn, &known, report)?;
    Ok(())
}

/// Rows of workspace-keyed tables whose workspace does not exist (left by a deletion that
/// missed a table, say).
fn orphans(
    txn: &ReadTransaction,
    known: &BTreeSet<String>,
    report: &mut Report,
) -> Result<(), StoreError> {
    let mut found: BTreeSet<(&'static str, String)> = BTreeSet::new();
    for (name, table) in [
        ("members", MEMBERS),
        ("boards", BOARDS),
        ("cards", CARDS),
        ("rooms", ROOMS),
        ("jobs", JOBS),
        ("runs", RUNS),
        ("log_progress", LOG_PROGRESS),
        ("workers", WORKERS),
        ("providers", PROVIDERS),
        ("agents", AGENTS),
        ("budgets", BUDGETS),
    ] {
        for entry in txn.open_table(table)?.iter()? {
            let (key, _) = entry?;
            let ws = key.value().0;
            if !known.contains(ws) {
                found.insert((name, ws.to_owned()));
            }
        }
    }
    for entry in txn.open_table(MESSAGES)?.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) {
            found.insert(("messages", ws.to_owned()));
        }
    }
    for entry in txn.open_table(COUNTERS)?.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) {
            found.insert(("counters", ws.to_owned()));
        }
    }
    for entry in txn.open_table(STEPS)?.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) {
            found.insert(("steps", ws.to_owned()));
        }
    }
    for entry in txn.open_table(GRANTS)?.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) {
            found.insert(("grants", ws.to_owned()));
        }
    }
    for entry in txn.open_table(USAGE)?.iter()? {
        let (key, _) = entry?;
        let ws = key.value().0;
        if !known.contains(ws) {
            found.insert(("usage", ws.to_owned()));
        }
    }
    for (table, ws) in found {
        report.problem(format!(
            "the {table} table holds rows of workspace {ws}, which does not exist"
        ));
    }
    Ok(())
}

/// Every invite decodes, names a workspace that exists, keeps a SHA-256 digest (never a code)
/// and has not been used more often than it allows.
fn check_invites(
    txn: &ReadTransaction,
    known: &BTreeSet<String>,
    report: &mut Report,
) -> Result<(), StoreError> {
    let invites = match txn.open_table(INVITES) {
        Ok(table) => table,
        // A store from before invites.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in invites.iter()? {
        let (key, value) = entry?;
        let id = key.value().to_owned();
        let invite: crate::store::records::InviteRecord = match decode("invites", value.value()) {
            Ok(invite) => invite,
            Err(e) => {
                report.problem(format!("invite {id}: its record does not decode ({e})"));
                continue;
            }
        };
        if invite.id.as_str() != id {
            report.problem(format!(
                "invite {id} is stored under another id ({})",
                invite.id
            ));
        }
        if !known.contains(invite.workspace_id.as_str()) {
            report.problem(format!(
                "invite {id} is for workspace {}, which does not exist",
                invite.workspace_id
            ));
        }
        let digest = &invite.secret_sha256;
        if digest.len() != 64
            || !digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            report.problem(format!(
                "invite {id} does not hold a SHA-256 digest of its code"
            ));
        }
        if invite.used > invite.uses {
            report.problem(format!(
                "invite {id} was used {} times but allows {}",
                invite.used, invite.uses
            ));
        }
    }
    Ok(())
}

/// Every audit entry decodes and sits under its own workspace (or the server-wide scope) and
/// id. Entries of a workspace that no longer exists are fine: the log outlives what it records.
fn check_audit(txn: &ReadTransaction, report: &mut Report) -> Result<(), StoreError> {
    let table = match txn.open_table(AUDIT) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for row in table.iter()? {
        let (key, value) = row?;
        let (scope, id) = key.value();
        match decode::<crate::audit::Stored>("audit", value.value()) {
            Err(e) => report.problem(format!("audit entry {id}: it does not decode ({e})")),
            Ok(stored) => {
                let ws = stored
                    .entry
                    .workspace_id
                    .as_ref()
                    .map_or("", |w| w.as_str());
                if stored.entry.id != id || ws != scope {
                    report.problem(format!(
                        "audit entry {id}: it is stored under ({scope:?}, {id}) but says ({ws:?}, {})",
                        stored.entry.id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A workspace's state, rebuilt from its events.
#[derive(Default)]
struct Replayed {
    workspace: Option<Workspace>,
    providers: BTreeMap<String, warren_protocol::agent::Provider>,
    agents: BTreeMap<String, warren_protocol::agent::Agent>,
    /// By scope key (`crate::service::budgets::scope_key`).
    budgets: BTreeMap<String, warren_protocol::budget::Budget>,
    members: BTreeMap<String, Member>,
    boards: BTreeMap<String, Board>,
    cards: BTreeMap<String, Card>,
    rooms: BTreeMap<String, Room>,
    /// `(room_id, seq) → message`.
    messages: BTreeMap<(String, u64), Message>,
    /// `message_id → (room_id, seq)`.
    message_ids: BTreeMap<String, (String, u64)>,
    max_card_number: u64,
    jobs: BTreeMap<String, Job>,
    runs: BTreeMap<String, Run>,
    /// Agent runs' steps and "approve always" grants (`service::agent_runs::check`).
    agent_runs: crate::service::agent_runs::check::Replayed,
    /// Run transitions the state machine does not allow, in words.
    bad_transitions: Vec<String>,
    /// A `workspace_deleted` event was found in the log, where it never belongs.
    deleted_in_log: bool,
}

impl Replayed {
    fn apply(&mut self, change: Change) {
        match change {
            Change::JobCreated { job } | Change::JobUpdated { job } => {
                self.jobs.insert(job.id.to_string(), job);
            }
            Change::JobDeleted { job_id } => {
                self.jobs.remove(job_id.as_str());
            }
            Change::RunCreated { run } => {
                self.runs.insert(run.id.to_string(), run);
            }
            Change::ProviderCreated { provider } | Change::ProviderUpdated { provider } => {
                self.providers.insert(provider.id.to_string(), provider);
            }
            Change::ProviderDeleted { provider_id } => {
                self.providers.remove(provider_id.as_str());
            }
            Change::AgentCreated { agent } | Change::AgentUpdated { agent } => {
                self.agents.insert(agent.id.to_string(), agent);
            }
            Change::AgentDeleted { agent_id } => {
                self.agents.remove(agent_id.as_str());
            }
            Change::RunStep { .. }
            | Change::ApprovalGranted { .. }
            | Change::ApprovalRevoked { .. } => self.agent_runs.apply(change),
            Change::BudgetSet { budget } => {
                let key = crate::service::budgets::scope_key(&budget.scope);
                self.budgets.insert(key, budget);
            }
            Change::BudgetCleared { scope } => {
                self.budgets
                    .remove(&crate::service::budgets::scope_key(&scope));
            }
            Change::RunUpdated { run, from } => {
                let before = self.runs.get(run.id.as_str()).map(|r| r.status);
                // A worker's report after a cancel is taken without another transition.
                let late_report = from == run.status && from == RunStatus::Cancelled;
                // An agent run's totals (steps, usage, cost) change without a transition.
                let totals = from == run.status && run.is_agent();
                let late_report = late_report || totals;
                if before != Some(from) || !(from.can_become(run.status) || late_report) {
                    self.bad_transitions.push(format!(
                        "run {} went from {} to {} (it was {})",
                        run.id,
                        from.as_str(),
                        run.status.as_str(),
                        before.map_or("unknown", RunStatus::as_str)
                    ));
                }
                self.runs.insert(run.id.to_string(), run);
            }
            Change::WorkspaceCreated { workspace } => self.workspace = Some(workspace),
            Change::WorkspaceRenamed { workspace } => self.workspace = Some(workspace),
            Change::MemberAdded { member } | Change::MemberUpdated { member } => {
                self.members.insert(member.user_id.to_string(), member);
            }
            Change::MemberRemoved { user_id } => {
                self.members.remove(user_id.as_str());
            }
            Change::BoardCreated { board } | Change::BoardUpdated { board } => {
                self.boards.insert(board.id.to_string(), board);
            }
            Change::ColumnDeleted {
                board, moved_cards, ..
            } => {
                self.boards.insert(board.id.to_string(), board);
                for card in moved_cards {
                    self.cards.insert(card.id.to_string(), card);
                }
            }
            Change::CardCreated { card }
            | Change::CardUpdated { card }
            | Change::CardMoved { card, .. } => {
                self.max_card_number = self.max_card_number.max(card.number);
                self.cards.insert(card.id.to_string(), card);
            }
            Change::CardDeleted { card_id, .. } => {
                self.cards.remove(card_id.as_str());
            }
            Change::RoomCreated { room } => {
                self.rooms.insert(room.id.to_string(), room);
            }
            Change::MessagePosted { message } | Change::MessageEdited { message } => {
                let at = (message.room_id.to_string(), message.seq);
                self.message_ids.insert(message.id.to_string(), at.clone());
                self.messages.insert(at, message);
            }
            Change::MessageDeleted { message_id, .. } => {
                if let Some(at) = self.message_ids.remove(message_id.as_str()) {
                    self.messages.remove(&at);
                }
            }
            // Never stored (the log goes with the workspace); a stored one is out of place.
            Change::WorkspaceDeleted { .. } => self.deleted_in_log = true,
        }
    }
}

/// Reads a workspace's events, checks they are exactly `1..=head`, and replays them.
fn replay(
    txn: &ReadTransaction,
    ws: &str,
    head: u64,
    report: &mut Report,
) -> Result<Replayed, StoreError> {
    let events = txn.open_table(EVENTS)?;
    let mut state = Replayed::default();
    let mut expected = 1u64;
    for entry in events.range((ws, 0)..=(ws, u64::MAX))? {
        let (key, value) = entry?;
        let seq = key.value().1;
        if seq > head {
            report.problem(format!(
                "workspace {ws}: event {seq} is beyond the head ({head}); the head and the log disagree"
            ));
            break;
        }
        if seq != expected {
            report.problem(format!(
                "workspace {ws}: events {expected}..{} are missing (the log must run 1..{head} without gaps)",
                seq - 1
            ));
        }
        expected = seq + 1;
        match decode::<Event>("events", value.value()) {
            Ok(event) if event.seq == seq && event.workspace_id.as_str() == ws => {
                state.apply(event.change);
            }
            Ok(event) => report.problem(format!(
                "workspace {ws}: the event stored as {seq} says it is event {} of {}",
                event.seq, event.workspace_id
            )),
            Err(e) => report.problem(format!("workspace {ws}: event {seq} does not decode ({e})")),
        }
    }
    if expected <= head {
        report.problem(format!(
            "workspace {ws}: events {expected}..{head} are missing (the head says {head})"
        ));
    }
    if state.deleted_in_log {
        report.problem(format!(
            "workspace {ws}: its log holds a workspace_deleted event, yet its data is still there"
        ));
    }
    Ok(state)
}

/// Compares the state tables of a workspace with its replayed events.
fn compare(
    txn: &ReadTransaction,
    ws: &str,
    stored: Option<&Workspace>,
    replayed: &Replayed,
    report: &mut Report,
) -> Result<(), StoreError> {
    if stored != replayed.workspace.as_ref() {
        report.problem(format!(
            "workspace {ws}: its record differs from what its events say"
        ));
    }
    let by_id = |items: Vec<(String, String)>| items.into_iter().collect::<BTreeMap<_, _>>();
    macro_rules! same {
        ($table:expr, $name:literal, $ty:ty, $replayed:expr, $id:expr, $what:literal) => {{
            let rows: Vec<$ty> = list_in_workspace(&txn.open_table($table)?, $name, ws)?;
            let stored = by_id(rows.iter().map(|r| ($id(r), json(r))).collect());
            let wanted = by_id($replayed.values().map(|r| ($id(r), json(r))).collect());
            for (id, text) in &wanted {
                match stored.get(id) {
                    None => report.problem(format!(
                        "workspace {ws}: {} {id} is missing from the {} table though its events created it",
                        $what, $name
                    )),
                    Some(s) if s != text => report.problem(format!(
                        "workspace {ws}: {} {id} in the {} table differs from what its events say",
                        $what, $name
                    )),
                    Some(_) => {}
                }
            }
            for id in stored.keys().filter(|id| !wanted.contains_key(*id)) {
                report.problem(format!(
                    "workspace {ws}: {} {id} is in the {} table but no event created it (or one deleted it)",
                    $what, $name
                ));
            }
        }};
    }
    same!(
        MEMBERS,
        "members",
        Member,
        replayed.members,
        |m: &Member| m.user_id.to_string(),
        "member"
    );
    same!(
        BOARDS,
        "boards",
        Board,
        replayed.boards,
        |b: &Board| b.id.to_string(),
        "board"
    );
    same!(
        CARDS,
        "cards",
        Card,
        replayed.cards,
        |c: &Card| c.id.to_string(),
        "card"
    );
    same!(
        ROOMS,
        "rooms",
        Room,
        replayed.rooms,
        |r: &Room| r.id.to_string(),
        "room"
    );

    same!(
        JOBS,
        "jobs",
        Job,
        replayed.jobs,
        |j: &Job| j.id.to_string(),
        "job"
    );
    same!(
        PROVIDERS,
        "providers",
        warren_protocol::agent::Provider,
        replayed.providers,
        |p: &warren_protocol::agent::Provider| p.id.to_string(),
        "provider"
    );
    same!(
        AGENTS,
        "agents",
        warren_protocol::agent::Agent,
        replayed.agents,
        |a: &warren_protocol::agent::Agent| a.id.to_string(),
        "agent"
    );
    {
        // Budgets: the stored record's budget is the last `budget_set` of its scope (spending
        // stores one each time), its alerts aside.
        let records: Vec<crate::service::budgets::BudgetRecord> =
            list_in_workspace(&txn.open_table(BUDGETS)?, "budgets", ws)?;
        let stored: BTreeMap<String, String> = records
            .iter()
            .map(|r| {
                let key = crate::service::budgets::scope_key(&r.budget.scope);
                (key, json(&r.budget))
            })
            .collect();
        for (key, budget) in &replayed.budgets {
            match stored.get(key) {
                None => report.problem(format!(
                    "workspace {ws}: the budget of {key} is missing from the budgets table though its events set it"
                )),
                Some(text) if *text != json(budget) => report.problem(format!(
                    "workspace {ws}: the budget of {key} in the budgets table differs from what its events say"
                )),
                Some(_) => {}
            }
        }
        for key in stored.keys().filter(|k| !replayed.budgets.contains_key(*k)) {
            report.problem(format!(
                "workspace {ws}: the budget of {key} is in the budgets table but no event set it (or one cleared it)"
            ));
        }
    }
    compare_runs(txn, ws, replayed, report)?;
    for problem in crate::service::agent_runs::check::compare(txn, ws, &replayed.agent_runs)? {
        report.problem(problem);
    }

    let column_cards = txn.open_table(COLUMN_CARDS)?;
    let mut ordered = 0usize;
    for entry in column_cards.range((ws, "", "")..)? {
        let (key, value) = entry?;
        let (w, column, rank) = key.value();
        if w != ws {
            break;
        }
        ordered += 1;
        let card = value.value();
        let fits = replayed
            .cards
            .get(card)
            .is_some_and(|c| c.column_id.as_str() == column && c.rank == rank);
        if !fits {
            report.problem(format!(
                "workspace {ws}: the column order lists card {card} at {column}/{rank}, where its events do not put it"
            ));
        }
    }
    if ordered != replayed.cards.len() {
        report.problem(format!(
            "workspace {ws}: the column order holds {ordered} cards, the events {}",
            replayed.cards.len()
        ));
    }

    let messages = txn.open_table(MESSAGES)?;
    let mut seen = 0usize;
    for entry in messages.range((ws, "", 0)..)? {
        let (key, value) = entry?;
        let (w, room, seq) = key.value();
        if w != ws {
            break;
        }
        seen += 1;
        let wanted = replayed.messages.get(&(room.to_owned(), seq));
        let stored: Result<Message, _> = decode("messages", value.value());
        match (wanted, stored) {
            (_, Err(e)) => report.problem(format!(
                "workspace {ws}: the message at {room}/{seq} does not decode ({e})"
            )),
            (None, Ok(m)) => report.problem(format!(
                "workspace {ws}: message {} is stored but no event posted it (or one deleted it)",
                m.id
            )),
            (Some(w), Ok(m)) if *w != m => report.problem(format!(
                "workspace {ws}: message {} differs from what its events say",
                m.id
            )),
            _ => {}
        }
    }
    if seen != replayed.messages.len() {
        report.problem(format!(
            "workspace {ws}: {seen} messages are stored, the events leave {}",
            replayed.messages.len()
        ));
    }
    let ids = txn.open_table(MESSAGE_IDS)?;
    let mut indexed = 0usize;
    for entry in ids.range((ws, "")..)? {
        let (key, value) = entry?;
        let (w, id) = key.value();
        if w != ws {
            break;
        }
        indexed += 1;
        let (room, seq) = value.value();
        if replayed.message_ids.get(id) != Some(&(room.to_owned(), seq)) {
            report.problem(format!(
                "workspace {ws}: the message index points {id} at {room}/{seq}, where its events do not put it"
            ));
        }
    }
    if indexed != replayed.message_ids.len() {
        report.problem(format!(
            "workspace {ws}: the message index holds {indexed} ids, the events {}",
            replayed.message_ids.len()
        ));
    }
    let next_number = txn
        .open_table(COUNTERS)?
        .get((ws, "card_number"))?
        .map_or(1, |g| g.value());
    if replayed.max_card_number >= next_number {
        report.problem(format!(
            "workspace {ws}: the next card number ({next_number}) is not above card #{} made by its events",
            replayed.max_card_number
        ));
    }
    Ok(())
}

/// Runs against their events: the records (log counters aside, which the log path advances
/// without events), the number index, the run counter and every transition.
fn compare_runs(
    txn: &ReadTransaction,
    ws: &str,
    replayed: &Replayed,
    report: &mut Report,
) -> Result<(), StoreError> {
    for problem in &replayed.bad_transitions {
        report.problem(format!(
            "workspace {ws}: {problem}, which the state machine does not allow"
        ));
    }
    let without_log = |run: &Run| {
        let mut run = run.clone();
        run.lines = 0;
        run.log_bytes = 0;
        json(&run)
    };
    let stored: Vec<Run> = list_in_workspace(&txn.open_table(RUNS)?, "runs", ws)?;
    let stored: BTreeMap<String, String> = stored
        .iter()
        .map(|r| (r.id.to_string(), without_log(r)))
        .collect();
    for (id, run) in &replayed.runs {
        match stored.get(id) {
            None => report.problem(format!(
                "workspace {ws}: run {id} is missing from the runs table though its events created it"
            )),
            Some(text) if *text != without_log(run) => report.problem(format!(
                "workspace {ws}: run {id} in the runs table differs from what its events say"
            )),
            Some(_) => {}
        }
    }
    for id in stored.keys().filter(|id| !replayed.runs.contains_key(*id)) {
        report.problem(format!(
            "workspace {ws}: run {id} is in the runs table but no event created it"
        ));
    }
    let numbers = txn.open_table(RUN_NUMBERS)?;
    let mut indexed = 0usize;
    for entry in numbers.range((ws, 0)..=(ws, u64::MAX))? {
        let (key, value) = entry?;
        indexed += 1;
        let number = key.value().1;
        if replayed.runs.get(value.value()).map(|r| r.number) != Some(number) {
            report.problem(format!(
                "workspace {ws}: the run index points r{number} at {}, which its events do not",
                value.value()
            ));
        }
    }
    if indexed != replayed.runs.len() {
        report.problem(format!(
            "workspace {ws}: the run index holds {indexed} runs, the events {}",
            replayed.runs.len()
        ));
    }
    let max = replayed.runs.values().map(|r| r.number).max().unwrap_or(0);
    let next = txn
        .open_table(COUNTERS)?
        .get((ws, "run_number"))?
        .map_or(1, |g| g.value());
    if max >= next {
        report.problem(format!(
            "workspace {ws}: the next run number ({next}) is not above r{max} made by its events"
        ));
    }
    Ok(())
}

/// JSON text of a record, to compare stored and replayed values.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn sound_store(dir: &Path) -> Store {
        let store = Store::create(&dir.join("data")).expect("create");
        crate::service::workspace::bootstrap(&store, "ada", "Acme").expect("bootstrap");
        store
    }

    #[test]
    fn a_fresh_store_is_sound() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sound_store(dir.path());
        let path = store.path().to_path_buf();
        drop(store);
        let report = check_file(&path);
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.schema_version, Some(schema::CURRENT));
        assert_eq!(report.workspaces.len(), 1);
        assert_eq!(report.events, report.workspaces[0].head);
    }

    #[test]
    fn state_that_its_events_do_not_explain_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sound_store(dir.path());
        let ws = {
            let txn = store.begin_read().expect("read");
            let table = txn.open_table(WORKSPACES).expect("workspaces");
            let first = table
                .iter()
                .expect("iter")
                .next()
                .expect("one")
                .expect("row");
            first.0.value().to_owned()
        };
        let txn = store.begin_write().expect("write");
        {
            let mut rooms = txn.open_table(ROOMS).expect("rooms");
            let key = rooms
                .range((ws.as_str(), "")..)
                .expect("range")
                .next()
                .expect("a room")
                .expect("row")
                .0
                .value()
                .1
                .to_owned();
            rooms.remove((ws.as_str(), key.as_str())).expect("remove");
            txn.open_table(HEADS)
                .expect("heads")
                .insert(ws.as_str(), 99)
                .expect("bump the head");
        }
        txn.commit().expect("commit");
        let path = store.path().to_path_buf();
        drop(store);
        let report = check_file(&path);
        let all = report.problems.join("\n");
        assert!(all.contains("is missing from the rooms table"), "{all}");
        assert!(all.contains("missing (the head says 99)"), "{all}");
    }

    #[test]
    fn an_invite_holding_anything_but_a_digest_or_of_no_workspace_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sound_store(dir.path());
        let record = crate::store::records::InviteRecord {
            id: warren_protocol::Id::parse("inv_1").expect("id"),
            workspace_id: warren_protocol::Id::parse("ws_gone").expect("id"),
            role: warren_protocol::Role::Member,
            created_by: warren_protocol::Id::parse("usr_1").expect("id"),
            created_at: 0,
            expires_at: 1,
            uses: 1,
            used: 2,
            revoked_at: None,
            secret_sha256: "wri_plain_code".into(),
        };
        let txn = store.begin_write().expect("write");
        txn.open_table(INVITES)
            .expect("invites")
            .insert(
                "inv_1",
                crate::store::encode("invites", &record)
                    .expect("encode")
                    .as_slice(),
            )
            .expect("insert");
        txn.commit().expect("commit");
        let path = store.path().to_path_buf();
        drop(store);
        let all = check_file(&path).problems.join("\n");
        assert!(all.contains("does not hold a SHA-256 digest"), "{all}");
        assert!(all.contains("ws_gone, which does not exist"), "{all}");
        assert!(all.contains("used 2 times but allows 1"), "{all}");
    }

    #[test]
    fn a_missing_store_or_a_file_that_is_not_one_says_what_to_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let none = check_dir(dir.path());
        assert!(none.problems[0].contains("--file"), "{:?}", none.problems);
        let junk = dir.path().join("junk.redb");
        std::fs::write(&junk, b"this is not a store").expect("write");
        let report = check_file(&junk);
        assert!(!report.ok());
        assert!(
            report.problems[0].contains("restore a backup"),
            "{:?}",
            report.problems
        );
    }
}
