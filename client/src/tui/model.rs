//! The client's replica of a workspace: built from a snapshot, advanced by events, and paged
//! chat history per room. Every string from the server is sanitised on the way in, so nothing a
//! teammate typed can reach the terminal as an escape sequence.

use std::collections::HashMap;

use warren_protocol::run::{Job, Run};
use warren_protocol::{
    Board, Card, Change, Event, Id, Member, Message, Room, Workspace, WorkspaceState,
};

use crate::sanitize;

/// A room's loaded history: a contiguous run of the newest messages.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Oldest first, by `seq`.
    pub messages: Vec<Message>,
    /// Older messages exist on the server before the first loaded one.
    pub has_more: bool,
    /// The first page has arrived.
    pub loaded: bool,
    /// A page request is in flight.
    pub loading: bool,
}

/// The replica.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub workspace: Option<Workspace>,
    /// The last event applied.
    pub seq: u64,
    pub members: Vec<Member>,
    pub boards: Vec<Board>,
    cards: HashMap<Id, Card>,
    /// Card ids per column, in rank order.
    columns: HashMap<Id, Vec<Id>>,
    pub rooms: Vec<Room>,
    pub history: HashMap<Id, History>,
    /// Every job, by name.
    pub jobs: Vec<Job>,
    /// The runs the snapshot and the events since brought: every unfinished one and the recent
    /// finished ones, newest (highest number) first.
    pub runs: Vec<Run>,
    /// Providers, agents, budgets and agent runs' steps (issue 9).
    pub agents: super::agents::Agents,
}

fn clean_card(mut card: Card) -> Card {
    card.title = sanitize::line(&card.title);
    card.description = sanitize::block(&card.description);
    card.labels = card.labels.iter().map(|l| sanitize::line(l)).collect();
    card
}

fn clean_message(mut message: Message) -> Message {
    message.body = sanitize::block(&message.body);
    message
}

fn clean_board(mut board: Board) -> Board {
    board.name = sanitize::line(&board.name);
    for c in &mut board.columns {
        c.name = sanitize::line(&c.name);
    }
    board
}

fn clean_room(mut room: Room) -> Room {
    room.name = sanitize::line(&room.name);
    room.topic = sanitize::line(&room.topic);
    room
}

fn clean_job(mut job: Job) -> Job {
    job.name = sanitize::line(&job.name);
    job.description = sanitize::block(&job.description);
    job.command = sanitize::block(&job.command);
    job
}

fn clean_run(mut run: Run) -> Run {
    run.job_name = sanitize::line(&run.job_name);
    run.reason = run.reason.map(|r| sanitize::line(&r));
    if let Some(agent) = run.agent.as_mut() {
        agent.prompt = sanitize::block(&agent.prompt);
        agent.paused_reason = agent.paused_reason.as_deref().map(sanitize::line);
    }
    for p in &mut run.params {
        p.name = sanitize::line(&p.name);
        p.value = sanitize::line(&p.value);
    }
    run
}

fn clean_member(mut member: Member) -> Member {
    member.name = sanitize::line(&member.name);
    member
}

impl Model {
    /// Replaces everything but chat history with a snapshot. Loaded histories are kept: events
    /// after the snapshot keep them current, and rooms that vanished are dropped.
    pub fn apply_snapshot(&mut self, state: WorkspaceState) {
        let mut workspace = state.workspace;
        workspace.name = sanitize::line(&workspace.name);
        self.workspace = Some(workspace);
        self.seq = state.seq;
        self.members = state.members.into_iter().map(clean_member).collect();
        self.boards = state.boards.into_iter().map(clean_board).collect();
        self.cards = state
            .cards
            .into_iter()
            .map(|c| (c.id.clone(), clean_card(c)))
            .collect();
        self.rooms = state.rooms.into_iter().map(clean_room).collect();
        self.jobs = state.jobs.into_iter().map(clean_job).collect();
        self.jobs.sort_by_cached_key(|j| j.name.to_lowercase());
        self.runs = state.runs.into_iter().map(clean_run).collect();
        self.runs.sort_by_key(|r| std::cmp::Reverse(r.number));
        self.agents.apply_snapshot(state.providers, state.agents);
        let rooms: Vec<Id> = self.rooms.iter().map(|r| r.id.clone()).collect();
        self.history.retain(|id, _| rooms.contains(id));
        // History may have missed edits while we were away; reload it lazily.
        for h in self.history.values_mut() {
            h.loaded = false;
        }
        self.reindex();
    }

    fn reindex(&mut self) {
        self.columns.clear();
        for card in self.cards.values() {
            self.columns
                .entry(card.column_id.clone())
                .or_default()
                .push(card.id.clone());
        }
        let cards = &self.cards;
        for ids in self.columns.values_mut() {
            ids.sort_by(|a, b| {
                let ra = cards.get(a).map(|c| c.rank.as_str());
                let rb = cards.get(b).map(|c| c.rank.as_str());
                ra.cmp(&rb).then_with(|| a.cmp(b))
            });
        }
    }

    fn reindex_column(&mut self, column: &Id) {
        let cards = &self.cards;
        let mut ids: Vec<Id> = cards
            .values()
            .filter(|c| &c.column_id == column)
            .map(|c| c.id.clone())
            .collect();
        ids.sort_by(|a, b| {
            let ra = cards.get(a).map(|c| c.rank.as_str());
            let rb = cards.get(b).map(|c| c.rank.as_str());
            ra.cmp(&rb).then_with(|| a.cmp(b))
        });
        self.columns.insert(column.clone(), ids);
    }

    /// The job called `name` (ignoring ASCII case, as the server compares job names).
    pub fn job_named(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name.eq_ignore_ascii_case(name))
    }

    /// Applies one event. Returns false (and changes nothing) unless `event.seq` is the next one.
    pub fn apply_event(&mut self, event: &Event) -> bool {
        if event.seq != self.seq + 1 {
            return false;
        }
        self.seq = event.seq;
        self.apply_change(&event.change);
        true
    }

    /// Applies a change without sequence checks (used for pending, not yet confirmed changes).
    pub fn apply_change(&mut self, change: &Change) {
        match change.clone() {
            Change::WorkspaceCreated { workspace } => {
                if self.workspace.is_none() {
                    self.workspace = Some(workspace);
                }
            }
            Change::MemberUpdated { member } => {
                let member = clean_member(member);
                for m in &mut self.members {
                    if m.user_id == member.user_id {
                        *m = member.clone();
                    }
                }
            }
            Change::MemberRemoved { user_id } => {
                self.members.retain(|m| m.user_id != user_id);
            }
            // The app says so and offers the user's other workspaces; the replica stays as it
            // was until they switch.
            Change::WorkspaceDeleted { .. } => {}
            Change::WorkspaceRenamed { mut workspace } => {
                workspace.name = sanitize::line(&workspace.name);
                self.workspace = Some(workspace);
            }
            Change::MemberAdded { member } => {
                let member = clean_member(member);
                self.members.retain(|m| m.user_id != member.user_id);
                self.members.push(member);
            }
            Change::BoardCreated { board } => {
                self.boards.retain(|b| b.id != board.id);
                self.boards.push(clean_board(board));
            }
            Change::BoardUpdated { board } => {
                let board = clean_board(board);
                match self.boards.iter_mut().find(|b| b.id == board.id) {
                    Some(slot) => *slot = board,
                    None => self.boards.push(board),
                }
            }
            Change::ColumnDeleted {
                board,
                column_id,
                moved_cards,
            } => {
                let board = clean_board(board);
                match self.boards.iter_mut().find(|b| b.id == board.id) {
                    Some(slot) => *slot = board,
                    None => self.boards.push(board),
                }
                let mut targets = Vec::new();
                for card in moved_cards {
                    let card = clean_card(card);
                    if !targets.contains(&card.column_id) {
                        targets.push(card.column_id.clone());
                    }
                    self.cards.insert(card.id.clone(), card);
                }
                // Cards a pending view still places in the deleted column go with it.
                self.cards.retain(|_, c| c.column_id != column_id);
                self.columns.remove(&column_id);
                for column in &targets {
                    self.reindex_column(column);
                }
            }
            Change::CardCreated { card } | Change::CardUpdated { card } => {
                let card = clean_card(card);
                let column = card.column_id.clone();
                let old_column = self.cards.get(&card.id).map(|c| c.column_id.clone());
                self.cards.insert(card.id.clone(), card);
                if let Some(old) = old_column.filter(|o| o != &column) {
                    self.reindex_column(&old);
                }
                self.reindex_column(&column);
            }
            Change::CardMoved {
                card,
                from_column_id,
            } => {
                let column = card.column_id.clone();
                self.cards.insert(card.id.clone(), clean_card(card));
                self.reindex_column(&from_column_id);
                self.reindex_column(&column);
            }
            Change::CardDeleted { card_id, .. } => {
                if let Some(card) = self.cards.remove(&card_id) {
                    self.reindex_column(&card.column_id);
                }
            }
            Change::RoomCreated { room } => {
                self.rooms.retain(|r| r.id != room.id);
                self.rooms.push(clean_room(room));
            }
            Change::MessagePosted { message } | Change::MessageEdited { message } => {
                let message = clean_message(message);
                let history = self.history.entry(message.room_id.clone()).or_default();
                match history
                    .messages
                    .binary_search_by_key(&message.seq, |m| m.seq)
                {
                    Ok(i) => history.messages[i] = message,
                    Err(i) => history.messages.insert(i, message),
                }
            }
            Change::MessageDeleted {
                message_id,
                room_id,
            } => {
                if let Some(history) = self.history.get_mut(&room_id) {
                    history.messages.retain(|m| m.id != message_id);
                }
            }
            Change::JobCreated { job } | Change::JobUpdated { job } => {
                let job = clean_job(job);
                self.jobs.retain(|j| j.id != job.id);
                let at = self
                    .jobs
                    .partition_point(|j| j.name.to_lowercase() < job.name.to_lowercase());
                self.jobs.insert(at, job);
            }
            Change::JobDeleted { job_id } => self.jobs.retain(|j| j.id != job_id),
            Change::RunCreated { run } | Change::RunUpdated { run, .. } => {
                let run = clean_run(run);
                self.runs.retain(|r| r.id != run.id);
                let at = self.runs.partition_point(|r| r.number > run.number);
                self.runs.insert(at, run);
            }
            // Providers, agents, steps and budgets: the agents part of the replica.
            Change::ProviderCreated { .. }
            | Change::ProviderUpdated { .. }
            | Change::ProviderDeleted { .. }
            | Change::AgentCreated { .. }
            | Change::AgentUpdated { .. }
            | Change::AgentDeleted { .. }
            | Change::RunStep { .. }
            | Change::BudgetSet { .. }
            | Change::BudgetCleared { .. } => self.agents.apply(change),
            // Grants are listed by `warren approvals list`; the TUI shows none.
            Change::ApprovalGranted { .. } | Change::ApprovalRevoked { .. } => {}
        }
    }

    /// Merges a page of older (or the first) messages into a room's history.
    ///
    /// The first page is the room's newest messages as the server had them when it answered;
    /// messages that arrived live before it (the room was not open yet) are merged with it, never
    /// dropped: a live message newer than the page is kept, one inside the page's range that the
    /// page lacks was deleted meanwhile, and older ones come back with the next page. Where both
    /// have a message, the later edit wins.
    pub fn apply_page(&mut self, room_id: &Id, page: Vec<Message>, has_more: bool) {
        let history = self.history.entry(room_id.clone()).or_default();
        let page: Vec<Message> = page.into_iter().map(clean_message).collect();
        if !history.loaded {
            let newest = page.last().map(|m| m.seq);
            let live = std::mem::take(&mut history.messages);
            let mut merged = page;
            for message in live {
                match merged.binary_search_by_key(&message.seq, |m| m.seq) {
                    Ok(i) => {
                        if message.edited_at > merged[i].edited_at {
                            merged[i] = message;
                        }
                    }
                    // Newer than the page: it arrived after the server answered.
                    Err(i) if newest.is_none_or(|n| message.seq > n) => {
                        merged.insert(i, message);
                    }
                    // Inside the page's range but not in it: deleted meanwhile. Older than
                    // the page: paging loads it again, without a gap.
                    Err(_) => {}
                }
            }
            history.messages = merged;
            history.has_more = has_more;
            history.loaded = true;
        } else {
            let first_loaded = history.messages.first().map(|m| m.seq);
            let mut older: Vec<Message> = page
                .into_iter()
                .filter(|m| first_loaded.is_none_or(|f| m.seq < f))
                .collect();
            older.append(&mut history.messages);
            history.messages = older;
            history.has_more = has_more;
        }
        history.loading = false;
    }

    /// A card by id.
    pub fn card(&self, id: &Id) -> Option<&Card> {
        self.cards.get(id)
    }

    /// The cards of a column, in order.
    pub fn column_cards(&self, column: &Id) -> Vec<&Card> {
        self.columns
            .get(column)
            .map(|ids| ids.iter().filter_map(|id| self.cards.get(id)).collect())
            .unwrap_or_default()
    }

    /// How many cards a column has.
    pub fn column_len(&self, column: &Id) -> usize {
        self.columns.get(column).map_or(0, Vec::len)
    }

    /// How many cards the workspace has.
    pub fn card_count(&self) -> usize {
        self.cards.len()
    }

    /// Every card (unordered).
    pub fn cards(&self) -> impl Iterator<Item = &Card> {
        self.cards.values()
    }

    /// A member's display name.
    pub fn member_name(&self, user: &Id) -> String {
        self.members
            .iter()
            .find(|m| &m.user_id == user)
            .map_or_else(|| user.to_string(), |m| m.name.clone())
    }

    /// The next free card number as far as this replica knows (for pending cards).
    pub fn next_card_number(&self) -> u64 {
        self.cards.values().map(|c| c.number).max().unwrap_or(0) + 1
    }
}
