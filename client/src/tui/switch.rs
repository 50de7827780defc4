//! Workspaces in the full-screen client: switching to another of the user's workspaces (the
//! palette lists them as "Switch to workspace NAME"), who is online in this one, and what happens
//! when the workspace is deleted under the user.
//!
//! Switching reconnects to the chosen workspace. What waits to be sent in the one being left
//! stays on disk in its own outbox file (kept per server, user and workspace) and goes out the
//! next time the user opens that workspace; the new workspace's saved outbox is loaded once it is
//! connected, as on start.

use warren_protocol::{Id, Workspace};

use super::app::App;
use super::model::Model;
use super::net::NetRequest;
use super::outbox::Outbox;
use super::screens::Tab;
use super::state::ConnState;

impl App {
    /// The user's workspaces other than the current one, in the order the server lists them.
    pub fn other_workspaces(&self) -> Vec<Workspace> {
        self.workspaces
            .iter()
            .filter(|w| Some(&w.id) != self.workspace_id.as_ref())
            .cloned()
            .collect()
    }

    /// How many people (and bots) are online in this workspace, as the server last said.
    pub fn online_count(&self) -> usize {
        self.online.len()
    }

    /// Whether a member is online in this workspace.
    pub fn is_online(&self, user: &Id) -> bool {
        self.online.contains(user)
    }

    /// Leaves this workspace for `workspace`: the screen starts empty, the network reconnects to
    /// the new one, and this workspace's unsent changes stay in its outbox file on disk.
    pub fn switch_workspace(&mut self, workspace: &Id) {
        if self.workspace_id.as_ref() == Some(workspace) {
            return;
        }
        let Some(target) = self.workspaces.iter().find(|w| &w.id == workspace).cloned() else {
            self.notify(
                "That workspace is not one of yours any more; 'warren workspace list' shows yours",
                true,
            );
            return;
        };
        // Saved already on every change; once more so nothing depends on that.
        self.keep_outbox();
        let kept = self.outbox.len();
        self.model = Model::default();
        self.outbox = Outbox::default();
        self.outbox_key = None;
        self.reproject();
        self.synced = false;
        for tab in Tab::ALL {
            tab.screen().forget(self);
        }
        self.overlay = None;
        self.under.clear();
        self.undo = None;
        self.pending_board = None;
        self.online.clear();
        self.chat_render_cache.borrow_mut().clear();
        self.tab = Tab::Board;
        self.workspace_id = Some(target.id.clone());
        self.conn = ConnState::Connecting;
        self.outbound.push(NetRequest::Switch {
            workspace: target.id.clone(),
        });
        let mut text = format!("Switching to {}…", target.name);
        if kept > 0 && self.outbox_dir.is_some() {
            let them = if kept == 1 {
                "1 unsent change stays".to_owned()
            } else {
                format!("{kept} unsent changes stay")
            };
            text.push_str(&format!(
                " ({them} saved for the workspace you left and is sent when you return)"
            ));
        }
        self.notify(text, false);
    }

    /// The server deleted this workspace (its last event): say who did it and what to do next.
    pub(super) fn workspace_deleted(&mut self, workspace: &Workspace, by: &Id) {
        let name = crate::sanitize::line(&workspace.name);
        let who = if self.me.as_ref().is_some_and(|m| &m.user_id == by) {
            "you".to_owned()
        } else {
            self.model.member_name(by)
        };
        self.workspaces.retain(|w| w.id != workspace.id);
        self.online.clear();
        let next = match self.other_workspaces().first() {
            Some(other) => format!(
                "switch to another from the palette (“Switch to workspace {}”)",
                other.name
            ),
            None => "you have no other workspace: create one with 'warren workspace create NAME'"
                .to_owned(),
        };
        let reason = format!("workspace {name} was deleted by {who}");
        self.notify(
            format!("Workspace {name} was deleted by {who}; {next}"),
            true,
        );
        self.conn = ConnState::Offline { reason };
    }
}
