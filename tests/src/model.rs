//! A workspace rebuilt on the client side from a snapshot plus the events that follow, applied
//! by the rules of the protocol (§6), to compare with what the server says.

use std::collections::BTreeMap;

use warren_protocol::{Change, Event, Id, Message, Workspace, WorkspaceState};

/// The state a client would hold: the snapshot's entities and the chat messages it has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub state: WorkspaceState,
    /// Messages posted since the snapshot, by id.
    pub messages: BTreeMap<Id, Message>,
}

impl Model {
    /// Starts from a snapshot.
    pub fn new(state: WorkspaceState) -> Model {
        Model {
            state,
            messages: BTreeMap::new(),
        }
    }

    /// Starts from nothing, for a client that replays the stream from seq 1 (whose first event,
    /// `workspace_created`, fills in the workspace).
    pub fn empty() -> Model {
        let placeholder = Id::parse("ws_unknown").expect("a well-formed placeholder id");
        Model::new(WorkspaceState {
            workspace: Workspace {
                id: placeholder,
                name: String::new(),
                created_at: 0,
            },
            seq: 0,
            members: Vec::new(),
            boards: Vec::new(),
            cards: Vec::new(),
            rooms: Vec::new(),
            jobs: Vec::new(),
            runs: Vec::new(),
            providers: Vec::new(),
            agents: Vec::new(),
        })
    }

    /// Applies the next event; panics unless its seq follows the last one.
    pub fn apply(&mut self, event: &Event) {
        assert_eq!(
            event.seq,
            self.state.seq + 1,
            "events must be applied gap-free and in order"
        );
        let s = &mut self.state;
        match &event.change {
            Change::WorkspaceCreated { workspace } => s.workspace = workspace.clone(),
            Change::MemberAdded { member } => s.members.push(member.clone()),
            Change::MemberUpdated { member } => {
                for m in &mut s.members {
                    if m.user_id == member.user_id {
                        *m = member.clone();
                    }
                }
            }
            Change::MemberRemoved { user_id } => s.members.retain(|m| &m.user_id != user_id),
            Change::WorkspaceRenamed { workspace } | Change::WorkspaceDeleted { workspace } => {
                s.workspace = workspace.clone()
            }
            Change::BoardCreated { board } => s.boards.push(board.clone()),
            Change::BoardUpdated { board } => {
                let slot = s
                    .boards
                    .iter_mut()
                    .find(|b| b.id == board.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown board", event.seq));
                *slot = board.clone();
            }
            Change::ColumnDeleted {
                board, moved_cards, ..
            } => {
                let slot = s
                    .boards
                    .iter_mut()
                    .find(|b| b.id == board.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown board", event.seq));
                *slot = board.clone();
                for card in moved_cards {
                    if let Some(slot) = s.cards.iter_mut().find(|c| c.id == card.id) {
                        *slot = card.clone();
                    }
                }
            }
            Change::CardCreated { card } => s.cards.push(card.clone()),
            Change::CardUpdated { card } | Change::CardMoved { card, .. } => {
                let slot = s
                    .cards
                    .iter_mut()
                    .find(|c| c.id == card.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown card", event.seq));
                *slot = card.clone();
            }
            Change::CardDeleted { card_id, .. } => s.cards.retain(|c| &c.id != card_id),
            Change::RoomCreated { room } => s.rooms.push(room.clone()),
            Change::MessagePosted { message } | Change::MessageEdited { message } => {
                self.messages.insert(message.id.clone(), message.clone());
            }
            Change::MessageDeleted { message_id, .. } => {
                self.messages.remove(message_id);
            }
            Change::JobCreated { job } => s.jobs.push(job.clone()),
            Change::JobUpdated { job } => {
                let slot = s
                    .jobs
                    .iter_mut()
                    .find(|j| j.id == job.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown job", event.seq));
                *slot = job.clone();
            }
            Change::JobDeleted { job_id } => s.jobs.retain(|j| &j.id != job_id),
            Change::RunCreated { run } => s.runs.push(run.clone()),
            Change::RunUpdated { run, .. } => {
                match s.runs.iter_mut().find(|r| r.id == run.id) {
                    Some(slot) => *slot = run.clone(),
                    // A snapshot holds only the recent finished runs.
                    None => s.runs.push(run.clone()),
                }
            }
            Change::ProviderCreated { provider } => s.providers.push(provider.clone()),
            Change::ProviderUpdated { provider } => {
                let slot = s
                    .providers
                    .iter_mut()
                    .find(|p| p.id == provider.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown provider", event.seq));
                *slot = provider.clone();
            }
            Change::ProviderDeleted { provider_id } => s.providers.retain(|p| &p.id != provider_id),
            Change::AgentCreated { agent } => s.agents.push(agent.clone()),
            Change::AgentUpdated { agent } => {
                let slot = s
                    .agents
                    .iter_mut()
                    .find(|a| a.id == agent.id)
                    .unwrap_or_else(|| panic!("event {} changes an unknown agent", event.seq));
                *slot = agent.clone();
            }
            Change::AgentDeleted { agent_id } => s.agents.retain(|a| &a.id != agent_id),
            // Not part of the workspace state (steps are read with the `run` query, grants and
            // budgets with their own queries).
            Change::RunStep { .. }
            | Change::ApprovalGranted { .. }
            | Change::ApprovalRevoked { .. }
            | Change::BudgetSet { .. }
            | Change::BudgetCleared { .. } => {}
        }
        self.state.seq = event.seq;
    }

    /// The state with every list sorted by id, so that two equal states compare equal whatever
    /// order their entities arrived in.
    pub fn normalized(&self) -> WorkspaceState {
        normalize(&self.state)
    }
}

/// `state` with members, boards, cards and rooms sorted by id.
pub fn normalize(state: &WorkspaceState) -> WorkspaceState {
    let mut s = state.clone();
    s.members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    s.boards.sort_by(|a, b| a.id.cmp(&b.id));
    s.cards.sort_by(|a, b| a.id.cmp(&b.id));
    s.rooms.sort_by(|a, b| a.id.cmp(&b.id));
    s.jobs.sort_by(|a, b| a.id.cmp(&b.id));
    s.runs.sort_by(|a, b| a.id.cmp(&b.id));
    s
}

/// Asserts that `events` are exactly `from+1, from+2, …, to`.
pub fn assert_gap_free(events: &[Event], from: u64, to: u64, who: &str) {
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (from + 1..=to).collect();
    if seqs != expected {
        let first_bad = seqs
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(seqs.len().min(expected.len()));
        panic!(
            "{who}: expected events {}..={to} ({} events), got {} events; first difference at index {first_bad}: got {:?}, expected {:?}",
            from + 1,
            expected.len(),
            seqs.len(),
            seqs.get(first_bad),
            expected.get(first_bad),
        );
    }
}
