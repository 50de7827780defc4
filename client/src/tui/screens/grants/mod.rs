//! The grants window: the tools agents may call without asking, each an "approve always" that
//! someone gave while deciding a tool call, read with one `approvals` query when the window
//! opens and kept current by the `approval_granted` / `approval_revoked` events. Revoking one
//! (asks first) makes the agent ask again next time. The server decides who may revoke; a
//! refusal comes back as a plain-words message.

pub mod draw;
pub mod keys;

use warren_protocol::step::ApprovalGrant;
use warren_protocol::{Change, Command, Event, Id};

use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::state::{Confirmable, Overlay};

/// What the grants window shows.
#[derive(Debug, Clone, PartialEq)]
pub enum GrantsView {
    /// Asked; the grants given and revoked meanwhile, to apply to the answer (it may have been
    /// read before them).
    Loading(Vec<Change>),
    /// Newest first.
    Loaded(Vec<ApprovalGrant>),
    Failed(String),
}

impl App {
    /// Opens the grants window and asks for the workspace's grants.
    pub fn open_grants(&mut self) {
        if self.workspace_id.is_none() {
            self.notify(
                "Not connected to a workspace yet: open the grants once it has loaded",
                true,
            );
            return;
        }
        self.overlay = Some(Overlay::Grants {
            view: GrantsView::Loading(Vec::new()),
            selected: 0,
        });
        self.outbound.push(NetRequest::Approvals);
    }

    /// The answer to the `approvals` query; dropped if the window was closed meanwhile.
    pub(crate) fn on_grants(&mut self, answer: Result<Vec<ApprovalGrant>, String>) {
        if let Some(Overlay::Grants { view, selected }) = self.overlay.as_mut() {
            let missed = match view {
                GrantsView::Loading(missed) => std::mem::take(missed),
                _ => Vec::new(),
            };
            *selected = 0;
            *view = match answer {
                Ok(mut grants) => {
                    grants.sort_by_key(|g| std::cmp::Reverse(g.granted_at));
                    for change in &missed {
                        apply(&mut grants, selected, change);
                    }
                    GrantsView::Loaded(grants)
                }
                Err(why) => GrantsView::Failed(why),
            };
        }
    }

    /// Keeps an open window current with the grants given and revoked meanwhile.
    pub(crate) fn grants_on_event(&mut self, event: &Event) {
        let Some(Overlay::Grants { view, selected }) = self.overlay.as_mut() else {
            return;
        };
        if !matches!(
            event.change,
            Change::ApprovalGranted { .. } | Change::ApprovalRevoked { .. }
        ) {
            return;
        }
        match view {
            GrantsView::Loaded(grants) => apply(grants, selected, &event.change),
            GrantsView::Loading(missed) => missed.push(event.change.clone()),
            GrantsView::Failed(_) => {}
        }
    }

    /// The grants as the window lists them (none while loading or failed).
    pub fn grants_listed(&self) -> &[ApprovalGrant] {
        match &self.overlay {
            Some(Overlay::Grants {
                view: GrantsView::Loaded(grants),
                ..
            }) => grants,
            _ => &[],
        }
    }

    /// Moves the window's selection by `delta` rows.
    pub fn move_grant_selection(&mut self, delta: isize) {
        let n = self.grants_listed().len();
        if let Some(Overlay::Grants { selected, .. }) = self.overlay.as_mut() {
            *selected = crate::tui::input::step(*selected, delta, n);
        }
    }

    /// Asks before revoking the selected grant.
    pub fn grant_revoke(&mut self) {
        let Some(Overlay::Grants { selected, .. }) = &self.overlay else {
            return;
        };
        let Some(grant) = self.grants_listed().get(*selected).cloned() else {
            return;
        };
        self.overlay = Some(Overlay::Confirm {
            prompt: format!(
                "Revoke {}'s standing approval of {}? It asks again next time.",
                self.grant_agent_name(&grant.agent_id),
                grant.tool.as_str()
            ),
            what: Confirmable::RevokeGrant(grant.id),
        });
    }

    /// Revokes a grant (the question was answered yes) and opens the window again, current.
    pub(crate) fn confirmed_grant_revoke(&mut self, grant_id: Id) {
        self.submit(Command::RevokeApproval { grant_id });
        self.open_grants();
    }

    /// An agent's name, or its id when the agent is gone.
    pub fn grant_agent_name(&self, agent: &Id) -> String {
        self.view()
            .agents
            .agent(agent)
            .map_or_else(|| agent.to_string(), |a| a.name.clone())
    }
}

/// A grant given or revoked, applied to the list (newest first); the selection stays on the
/// grant it was on.
fn apply(grants: &mut Vec<ApprovalGrant>, selected: &mut usize, change: &Change) {
    match change {
        Change::ApprovalGranted { grant } if !grants.iter().any(|g| g.id == grant.id) => {
            let had = !grants.is_empty();
            grants.insert(0, grant.clone());
            if had {
                *selected += 1;
            }
        }
        Change::ApprovalRevoked { grant_id } => {
            grants.retain(|g| &g.id != grant_id);
            *selected = (*selected).min(grants.len().saturating_sub(1));
        }
        _ => {}
    }
}
