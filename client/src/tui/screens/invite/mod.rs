//! Inviting someone from the full-screen client: `invite` (the members window's `i`, or the
//! palette's "Invite someone") asks for the newcomer's role, sends a `create_invite` account
//! request, and shows the code once in its own window — with the `warren join` line to pass on —
//! until it is closed. The code is kept nowhere else: not in the status messages, not on disk.

pub mod draw;
pub mod keys;

use warren_protocol::Role;
use warren_protocol::account::{AccountOp, AccountResult};

use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::state::Overlay;

/// An invite code on screen, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownInvite {
    pub code: String,
    pub role: Role,
    pub uses: u32,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

impl App {
    /// Asks for the role of the person to invite (`member` already typed).
    pub fn invite(&mut self) {
        if self.workspace_id.is_none() {
            self.notify(
                "Not connected to a workspace yet: invite once it has loaded",
                true,
            );
            return;
        }
        self.open_prompt(Prompt::new(
            "Invite someone as (admin, member, viewer; owners may invite owners)",
            "member",
            PromptFor::InviteRole,
        ));
    }

    /// The answer to the role prompt: sends the request, or keeps the prompt with a hint.
    pub(crate) fn invite_from_prompt(&mut self, answer: &str) {
        let role = if answer.trim().is_empty() {
            Some(Role::Member)
        } else {
            Role::parse(answer)
        };
        let (Some(role), Some(workspace_id)) = (role, self.workspace_id.clone()) else {
            if let Some(Overlay::Prompt(prompt)) = self.overlay.as_mut() {
                prompt.error = Some("use admin, member or viewer (owners: also owner)".into());
            }
            return;
        };
        self.close_overlay();
        self.outbound.push(NetRequest::Account {
            op: AccountOp::CreateInvite {
                workspace_id,
                role,
                expires_in_secs: None,
                uses: None,
            },
        });
        self.notify("Making an invite…", false);
    }

    /// The server's answer to an account request made from the client.
    pub(crate) fn on_account(&mut self, answer: Result<AccountResult, String>) {
        match answer {
            Ok(AccountResult::InviteCreated { invite, code }) => {
                self.notify(
                    format!(
                        "Invite made ({}): the code is shown once — pass it on now",
                        invite.role.as_str()
                    ),
                    false,
                );
                self.overlay = Some(Overlay::Invite(ShownInvite {
                    code,
                    role: invite.role,
                    uses: invite.uses,
                    expires_at: invite.expires_at,
                }));
            }
            Ok(other) => self.on_account_result(other),
            Err(why) => {
                if let Some(Overlay::Tokens { view, .. }) = self.overlay.as_mut()
                    && *view == crate::tui::screens::account::TokensView::Loading
                {
                    *view = crate::tui::screens::account::TokensView::Failed(why);
                    return;
                }
                self.notify(format!("Not done: {why}"), true);
            }
        }
    }

    /// The line the newcomer runs.
    pub fn join_line(&self, code: &str) -> String {
        format!(
            "warren join --server {} --invite {code} --name YOUR_NAME",
            self.server_url
        )
    }
}
