//! The members window: who is in the workspace with which role, and (for admins and owners)
//! changing a member's role or removing them. The server decides: a refused change comes back
//! as a plain-words message naming the permission it needs.

pub mod draw;
pub mod keys;

use warren_protocol::permission::ROLES;
use warren_protocol::{Command, Member, Role};

use crate::tui::app::App;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::state::{Confirmable, Overlay};

impl App {
    /// The workspace's members in the order the window lists them: by role, then by name.
    pub fn members_listed(&self) -> Vec<Member> {
        let mut members = self.view().members.clone();
        members.sort_by_key(|m| {
            (
                ROLES
                    .iter()
                    .position(|r| *r == m.role)
                    .unwrap_or(usize::MAX),
                m.name.to_lowercase(),
            )
        });
        members
    }

    /// My role in this workspace, as the replica knows it.
    pub fn my_role(&self) -> Option<Role> {
        let me = self.me.as_ref()?;
        self.view()
            .members
            .iter()
            .find(|m| m.user_id == me.user_id)
            .map(|m| m.role)
    }

    /// Opens (or closes) the members window.
    pub fn toggle_members(&mut self) {
        self.overlay = match self.overlay {
            Some(Overlay::Members { .. }) => None,
            _ => Some(Overlay::Members { selected: 0 }),
        };
    }

    fn selected_member(&self) -> Option<Member> {
        let Some(Overlay::Members { selected }) = &self.overlay else {
            return None;
        };
        self.members_listed().get(*selected).cloned()
    }

    /// Asks for the selected member's new role.
    pub fn member_role(&mut self) {
        let Some(member) = self.selected_member() else {
            return;
        };
        let title = format!(
            "Role for {} (owner, admin, member, viewer, bot)",
            member.name
        );
        let purpose = PromptFor::MemberRole {
            user_id: member.user_id,
        };
        self.open_prompt(Prompt::new(title, member.role.as_str(), purpose));
    }

    /// Asks before removing the selected member.
    pub fn member_remove(&mut self) {
        let Some(member) = self.selected_member() else {
            return;
        };
        self.overlay = Some(Overlay::Confirm {
            prompt: format!(
                "Remove {} ({}) from the workspace? Their account stays; they lose access at once.",
                member.name,
                member.role.as_str()
            ),
            what: Confirmable::RemoveMember(member.user_id),
        });
    }

    /// The answer to the role prompt: a role name, or the prompt stays with a hint.
    pub(crate) fn role_from_prompt(&mut self, user_id: warren_protocol::Id, answer: &str) {
        match Role::parse(answer) {
            Some(role) => {
                self.close_overlay();
                self.submit(Command::SetMemberRole { user_id, role });
            }
            None => {
                if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                    prompt.error = Some("use owner, admin, member, viewer or bot".into());
                }
            }
        }
    }
}
